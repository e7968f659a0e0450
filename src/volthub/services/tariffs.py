"""Tariffs and where they apply: CRUD, assignments, and which tariff prices a session."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from volthub.domain.billing import TariffAssignment
from volthub.domain.errors import Conflict, InvalidInput, NotFound
from volthub.domain.tariffs import Tariff, TariffType
from volthub.services.events import DomainEvents
from volthub.services.ports import Clock
from volthub.storage.interface import Repositories, Storage

# A session started with an id token is a REGULAR session; ad-hoc and charging-preference
# tariffs (mod_tariffs §TariffType) are published but never chosen for it automatically.
_SELECTABLE_TYPES = (None, TariffType.REGULAR)


def ranked_assignments(assignments: Iterable[TariffAssignment], station_id: str,
                       location_id: str | None, evse_id: int | None,
                       group_id: str | None) -> list[TariffAssignment]:
    """The assignments that apply to a session, best first: a token group's before a public
    one, then the most specific place (EVSE, station, location, everywhere), then priority."""

    def applies(a: TariffAssignment) -> bool:
        if a.group_id is not None and a.group_id != group_id:
            return False
        if a.evse_id is not None:
            return a.station_id == station_id and a.evse_id == evse_id
        if a.station_id is not None:
            return a.station_id == station_id
        return a.location_id is None or a.location_id == location_id

    return sorted((a for a in assignments if applies(a)),
                  key=lambda a: (a.group_id is None, -a.specificity, -a.priority, a.id))


def selectable(tariff: Tariff, at: datetime) -> bool:
    """Whether an assigned tariff may price a session started at `at`."""
    return tariff.valid_at(at) and tariff.type in _SELECTABLE_TYPES


async def resolve_tariff(repos: Repositories, station_id: str, evse_id: int | None,
                         group_id: str | None, at: datetime) -> Tariff | None:
    """The tariff for a session at `at`: the first selectable one of `ranked_assignments`."""
    station = await repos.get_station(station_id)
    location_id = station.location_id if station else None
    candidates = ranked_assignments(await repos.list_tariff_assignments(None), station_id,
                                    location_id, evse_id, group_id)
    for assignment in candidates:
        tariff = await repos.get_tariff(assignment.tariff_id)
        if tariff is not None and selectable(tariff, at):
            return tariff
    return None


async def _require_feeds(repos: Repositories, tariff: Tariff) -> None:
    for feed_id in sorted(tariff.feed_ids()):
        if await repos.get_price_feed(feed_id) is None:
            raise InvalidInput(f"price_feed_id: unknown price feed {feed_id!r}")


class TariffService:
    """Tariffs are owned by this CPO: country_code, party_id and last_updated are ours."""

    def __init__(self, storage: Storage, clock: Clock, country_code: str, party_id: str) -> None:
        self.storage = storage
        self.clock = clock
        self.country_code = country_code
        self.party_id = party_id
        self.events = DomainEvents()

    def _owned(self, tariff: Tariff) -> Tariff:
        return tariff.model_copy(update={
            "country_code": self.country_code, "party_id": self.party_id,
            "last_updated": self.clock(),
        })

    async def create(self, tariff: Tariff) -> Tariff:
        owned = self._owned(tariff)

        async def op(repos: Repositories) -> Tariff:
            if await repos.get_tariff(tariff.id) is not None:
                raise Conflict(f"tariff {tariff.id} exists")
            await _require_feeds(repos, tariff)
            await repos.upsert_tariff(owned)
            return owned

        result = await self.storage.write(op)
        self.events.emit("tariff_changed", result.id)
        return result

    async def replace(self, tariff_id: str, tariff: Tariff) -> Tariff:
        """PUT: a new version of the tariff; sessions already started keep their snapshot."""
        owned = self._owned(tariff.model_copy(update={"id": tariff_id}))

        async def op(repos: Repositories) -> Tariff:
            if await repos.get_tariff(tariff_id) is None:
                raise NotFound(f"tariff {tariff_id}")
            await _require_feeds(repos, owned)
            await repos.upsert_tariff(owned)
            return owned

        result = await self.storage.write(op)
        self.events.emit("tariff_changed", result.id)
        return result

    async def patch(self, tariff_id: str, fields: dict[str, Any]) -> Tariff:
        async def op(repos: Repositories) -> Tariff:
            current = await repos.get_tariff(tariff_id)
            if current is None:
                raise NotFound(f"tariff {tariff_id}")
            merged = current.model_dump(mode="json", exclude_none=True) | fields | {"id": tariff_id}
            try:
                patched = Tariff.model_validate(merged)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "body"
                raise InvalidInput(f"{where}: {first['msg']}") from exc
            await _require_feeds(repos, patched)
            owned = self._owned(patched)
            await repos.upsert_tariff(owned)
            return owned

        result = await self.storage.write(op)
        self.events.emit("tariff_changed", result.id)
        return result

    async def delete(self, tariff_id: str) -> None:
        async def op(repos: Repositories) -> None:
            if await repos.list_tariff_assignments(tariff_id):
                # mod_tariffs DELETE note: a tariff still referenced must not disappear.
                raise Conflict(f"tariff {tariff_id} is still assigned; remove its assignments")
            if not await repos.delete_tariff(tariff_id):
                raise NotFound(f"tariff {tariff_id}")

        await self.storage.write(op)
        self.events.emit("tariff_changed", tariff_id)

    async def get(self, tariff_id: str) -> Tariff:
        tariff = await self.storage.read(lambda r: r.get_tariff(tariff_id))
        if tariff is None:
            raise NotFound(f"tariff {tariff_id}")
        return tariff

    async def list_page(self, limit: int, offset: int) -> tuple[list[Tariff], int]:
        return await self.storage.read(lambda r: r.list_tariffs(limit, offset))

    async def assign(self, assignment: TariffAssignment) -> TariffAssignment:
        async def op(repos: Repositories) -> TariffAssignment:
            if await repos.get_tariff(assignment.tariff_id) is None:
                raise NotFound(f"tariff {assignment.tariff_id}")
            if assignment.location_id is not None and \
                    await repos.get_location(assignment.location_id) is None:
                raise NotFound(f"location {assignment.location_id}")
            if assignment.station_id is not None and \
                    await repos.get_station(assignment.station_id) is None:
                raise NotFound(f"station {assignment.station_id}")
            assignment.created_at = self.clock()
            assignment.id = await repos.insert_tariff_assignment(assignment)
            return assignment

        return await self.storage.write(op)

    async def unassign(self, assignment_id: int) -> None:
        async def op(repos: Repositories) -> None:
            if not await repos.delete_tariff_assignment(assignment_id):
                raise NotFound(f"tariff assignment {assignment_id}")

        await self.storage.write(op)

    async def assignments(self, tariff_id: str | None) -> list[TariffAssignment]:
        return await self.storage.read(lambda r: r.list_tariff_assignments(tariff_id))

    async def applicable(self, station_id: str, evse_id: int | None, group_id: str | None,
                         at: datetime | None = None) -> Tariff | None:
        when = at or self.clock()
        return await self.storage.read(
            lambda r: resolve_tariff(r, station_id, evse_id, group_id, when))
