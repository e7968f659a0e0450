"""Operator management of stations: create, read with EVSEs and connection state, update, delete."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any

from volthub.domain.enums import RegistrationStatus
from volthub.domain.errors import Conflict, NotFound
from volthub.domain.model import ConnectorState, Station
from volthub.services.events import DomainEvents
from volthub.services.passwords import hash_password
from volthub.services.ports import Clock, StationGateway
from volthub.services.security_profile import enforce_profile
from volthub.storage.interface import Repositories, Storage

CONNECTOR_METADATA = (
    "standard", "format", "power_type", "max_voltage", "max_amperage", "max_electric_power"
)


@dataclass(slots=True)
class StationView:
    station: Station
    connected: bool
    status: ConnectorState | None  # connector 0: the station as a whole
    evses: dict[int, list[ConnectorState]] = field(default_factory=dict)


class StationAdminService:
    """Use cases of the stations resource of the admin API."""

    def __init__(self, storage: Storage, clock: Clock, gateway: StationGateway) -> None:
        self.storage = storage
        self.clock = clock
        self.gateway = gateway
        self.events = DomainEvents()

    def _view(self, station: Station, connectors: list[ConnectorState]) -> StationView:
        view = StationView(station, self.gateway.is_connected(station.id), None)
        for conn in connectors:
            if conn.evse_id == 0:
                view.status = conn
            else:
                view.evses.setdefault(conn.evse_id, []).append(conn)
        return view

    async def get(self, station_id: str) -> StationView:
        async def op(repos: Repositories) -> StationView:
            station = await repos.get_station(station_id)
            if station is None:
                raise NotFound(f"station {station_id!r} not found")
            return self._view(station, await repos.list_connectors([station_id]))

        return await self.storage.read(op)

    async def list(self, limit: int, offset: int) -> tuple[builtins.list[StationView], int]:
        async def op(repos: Repositories) -> tuple[builtins.list[StationView], int]:
            stations, total = await repos.list_stations(limit, offset)
            connectors = await repos.list_connectors([s.id for s in stations])
            by_station: dict[str, list[ConnectorState]] = {}
            for conn in connectors:
                by_station.setdefault(conn.station_id, []).append(conn)
            return [self._view(s, by_station.get(s.id, [])) for s in stations], total

        return await self.storage.read(op)

    async def create(self, station_id: str, fields: dict[str, Any]) -> StationView:
        now = self.clock()
        columns = self._columns(fields)

        async def op(repos: Repositories) -> None:
            if await repos.get_station(station_id) is not None:
                raise Conflict(f"id {station_id!r} already exists")
            await self._check_location(repos, columns)
            await repos.insert_station(
                Station(id=station_id, registration_status=RegistrationStatus.ACCEPTED,
                        created_at=now)
            )
            await repos.update_station(station_id, columns)
            await self._write_evses(repos, station_id, fields.get("evses"))
            await _touch_location(repos, columns.get("location_id"))

        await self.storage.write(op)
        if columns.get("location_id") is not None or fields.get("evses"):
            self.events.emit("station_changed", station_id)
        return await self.get(station_id)

    async def update(self, station_id: str, fields: dict[str, Any]) -> StationView:
        columns = self._columns(fields)

        async def op(repos: Repositories) -> str | None:
            station = await repos.get_station(station_id)
            if station is None:
                raise NotFound(f"station {station_id!r} not found")
            await self._check_location(repos, columns)
            await repos.update_station(station_id, columns)
            await self._write_evses(repos, station_id, fields.get("evses"))
            if "location_id" in columns or fields.get("evses"):
                # The OCPI Location's last_updated covers its EVSEs (mod_locations §GET List).
                await _touch_location(repos, station.location_id)
                await _touch_location(repos, columns.get("location_id", station.location_id))
            return station.location_id

        old_location = await self.storage.write(op)
        self._emit_changes(station_id, old_location, fields, columns)
        if "registration_status" in columns:
            self.gateway.registration_changed(
                station_id, columns["registration_status"] == RegistrationStatus.ACCEPTED.value
            )
        if "security_profile" in columns:
            await enforce_profile(self.storage, self.clock, self.gateway, station_id,
                                  columns["security_profile"])
        return await self.get(station_id)

    async def delete(self, station_id: str) -> None:
        async def op(repos: Repositories) -> str | None:
            station = await repos.get_station(station_id)
            if station is None or not await repos.delete_station(station_id):
                raise NotFound(f"station {station_id!r} not found")
            await _touch_location(repos, station.location_id)
            return station.location_id

        location_id = await self.storage.write(op)
        if location_id is not None:
            self.events.emit("location_changed", location_id)

    def _emit_changes(self, station_id: str, old_location: str | None, fields: dict[str, Any],
                      columns: dict[str, Any]) -> None:
        """A station that left a location changes that location too (its EVSEs are gone)."""
        if "location_id" not in columns and not fields.get("evses"):
            return
        if old_location is not None and columns.get("location_id", old_location) != old_location:
            self.events.emit("location_changed", old_location)
        self.events.emit("station_changed", station_id)

    @staticmethod
    def _columns(fields: dict[str, Any]) -> dict[str, Any]:
        columns = {
            k: v
            for k, v in fields.items()
            if k in ("location_id", "registration_status", "security_profile")
        }
        if "registration_status" in columns:
            columns["registration_status"] = str(columns["registration_status"])
        if "password" in fields:
            password = fields["password"]
            columns["password_hash"] = hash_password(password) if password else None
        return columns

    @staticmethod
    async def _check_location(repos: Repositories, columns: dict[str, Any]) -> None:
        location_id = columns.get("location_id")
        if location_id is not None and await repos.get_location(location_id) is None:
            raise NotFound(f"location_id {location_id!r} not found")

    @staticmethod
    async def _write_evses(
        repos: Repositories, station_id: str, evses: builtins.list[dict[str, Any]] | None
    ) -> None:
        for evse in evses or []:
            for connector in evse.get("connectors", []):
                metadata = {k: connector.get(k) for k in CONNECTOR_METADATA if k in connector}
                await repos.update_connector_metadata(
                    station_id, evse["evse_id"], connector["connector_id"], metadata
                )


async def _touch_location(repos: Repositories, location_id: str | None) -> None:
    """Mark the location as changed now (its updated_at) when a station in it changes."""
    if location_id is not None:
        await repos.update_location(location_id, {})
