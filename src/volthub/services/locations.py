"""Operator management of locations (sites); a location is also the OCPI location."""

from __future__ import annotations

import builtins
from typing import Any

from volthub.domain.errors import Conflict, NotFound
from volthub.domain.model import Location
from volthub.services.events import DomainEvents
from volthub.storage.interface import Repositories, Storage


class LocationService:
    """Use cases of the locations resource of the admin API."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.events = DomainEvents()

    async def get(self, location_id: str) -> Location:
        location = await self.storage.read(lambda r: r.get_location(location_id))
        if location is None:
            raise NotFound(f"location {location_id!r} not found")
        return location

    async def list(self, limit: int, offset: int) -> tuple[builtins.list[Location], int]:
        return await self.storage.read(lambda r: r.list_locations(limit, offset))

    async def create(self, location: Location) -> Location:
        async def op(repos: Repositories) -> None:
            if await repos.get_location(location.id) is not None:
                raise Conflict(f"id {location.id!r} already exists")
            await repos.insert_location(location)

        await self.storage.write(op)
        self.events.emit("location_changed", location.id)
        return await self.get(location.id)

    async def update(self, location_id: str, fields: dict[str, Any]) -> Location:
        async def op(repos: Repositories) -> None:
            if not await repos.update_location(location_id, fields):
                raise NotFound(f"location {location_id!r} not found")

        await self.storage.write(op)
        self.events.emit("location_changed", location_id)
        return await self.get(location_id)
