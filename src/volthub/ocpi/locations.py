"""Our locations, stations and connector states as OCPI 2.2.1 Locations, and their push to eMSPs."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from volthub.domain.billing import TariffAssignment
from volthub.domain.model import ConnectorState, Location, Station
from volthub.domain.roaming import Partner
from volthub.domain.tariffs import Tariff
from volthub.ocpi.registration import OcpiIdentity
from volthub.ocpi.schemas import (
    Capability,
    ConnectorFormat,
    ConnectorType,
    PowerType,
    Status,
    format_ocpi_datetime,
)
from volthub.services.billing import emi3_evse_id
from volthub.services.events import EventListener
from volthub.services.ports import Clock
from volthub.services.tariffs import ranked_assignments, selectable
from volthub.storage.interface import Repositories, Storage

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming
    from volthub.wiring import Services

log = logging.getLogger("volthub.ocpi.locations")

MODULE = "locations"

# Connector metadata the operator did not give: the common European AC socket.
DEFAULT_STANDARD = ConnectorType.IEC_62196_T2
DEFAULT_FORMAT = ConnectorFormat.SOCKET
DEFAULT_POWER_TYPE = PowerType.AC_3_PHASE
DEFAULT_MAX_VOLTAGE = 230  # mod_locations §Connector: line to neutral for AC_3_PHASE
DEFAULT_MAX_AMPERAGE = 16

# What every EVSE of ours can do through OCPI: StartSession/StopSession, ReserveNow,
# UnlockConnector (mod_commands) and smart charging (mod_charging_profiles). Each OCPP 1.6
# connector is its own EVSE, so START_SESSION_CONNECTOR_REQUIRED is never needed.
CAPABILITIES = (Capability.CHARGING_PROFILE_CAPABLE, Capability.REMOTE_START_STOP_CAPABLE,
                Capability.RESERVABLE, Capability.UNLOCK_CAPABLE)

# mod_locations §Status from the OCPP connector status: 1.6 ChargePointStatus and 2.0.1/2.1
# ConnectorStatusEnumType. CHARGING is "The EVSE/Connector is in use", which covers every
# state of an occupied connector (plugged in, charging, suspended, finishing); INOPERATIVE is
# "temporarily not available for use, but not broken", OUTOFORDER "may be broken/defect".
_STATUS_OF_OCPP: Mapping[str, Status] = {
    "Available": Status.AVAILABLE,
    "Occupied": Status.CHARGING,
    "Preparing": Status.CHARGING,
    "Charging": Status.CHARGING,
    "SuspendedEV": Status.CHARGING,
    "SuspendedEVSE": Status.CHARGING,
    "Finishing": Status.CHARGING,
    "Reserved": Status.RESERVED,
    "Unavailable": Status.INOPERATIVE,
    "Faulted": Status.OUTOFORDER,
}

# An EVSE charges one EV at a time (mod_locations §EVSE): one connector in use makes the whole
# EVSE in use, and it is available as soon as one connector is.
_EVSE_PRECEDENCE = (Status.CHARGING, Status.RESERVED, Status.BLOCKED, Status.AVAILABLE,
                    Status.INOPERATIVE, Status.OUTOFORDER, Status.UNKNOWN)

# Field limits of mod_locations §Location and §EVSE that our data may exceed.
CITY_MAX = 45
POSTAL_CODE_MAX = 10
UID_MAX = 36

_CONTROL = re.compile(r"[\x00-\x1F\x7F-\x9F]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PAGE = 500

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def ocpi_status(ocpp_status: str | None, online: bool = True) -> Status:
    """The OCPI status of one connector; UNKNOWN when we have none or the station is offline
    (mod_locations §Status: "No status information available (also used when offline)")."""
    if not online or ocpp_status is None:
        return Status.UNKNOWN
    return _STATUS_OF_OCPP.get(ocpp_status, Status.UNKNOWN)


def evse_status(ocpp_statuses: Iterable[str | None], online: bool = True) -> Status:
    statuses = {ocpi_status(s, online) for s in ocpp_statuses}
    return next((s for s in _EVSE_PRECEDENCE if s in statuses), Status.UNKNOWN)


def evse_uid(station_id: str, evse_id: int) -> str:
    """CONTRACT: the OCPI EVSE uid of our (station, EVSE)."""
    return f"{station_id}-{evse_id}"


def coordinate(value: float) -> str:
    """mod_locations §GeoLocation: decimal degrees with 5 to 7 decimals; 6 is ~10 cm."""
    return f"{value:.6f}"


def _text(value: str) -> str:
    # types §string: printable characters only.
    return _CONTROL.sub(" ", value)


def _enum(kind: type[E], value: str | None, default: E) -> E:
    """The operator's metadata as an OCPI enum value (any letter case), else the default."""
    if value:
        for member in kind:
            if member.value.upper() == value.strip().upper():
                return member
    return default


def _connector_time(state: ConnectorState, fallback: datetime) -> datetime:
    return state.status_at or fallback


def connector_document(state: ConnectorState, tariff_ids: Sequence[str],
                       fallback: datetime) -> dict[str, Any]:
    """mod_locations §Connector; `fallback` dates a connector with metadata but no status."""
    doc: dict[str, Any] = {
        "id": str(state.connector_id),
        "standard": _enum(ConnectorType, state.standard, DEFAULT_STANDARD).value,
        "format": _enum(ConnectorFormat, state.format, DEFAULT_FORMAT).value,
        "power_type": _enum(PowerType, state.power_type, DEFAULT_POWER_TYPE).value,
        "max_voltage": state.max_voltage if state.max_voltage is not None
        else DEFAULT_MAX_VOLTAGE,
        "max_amperage": state.max_amperage if state.max_amperage is not None
        else DEFAULT_MAX_AMPERAGE,
        "last_updated": format_ocpi_datetime(_connector_time(state, fallback)),
    }
    if state.max_electric_power is not None:
        doc["max_electric_power"] = state.max_electric_power
    if tariff_ids:
        doc["tariff_ids"] = list(tariff_ids)
    return doc


def evse_document(identity: OcpiIdentity, station_id: str, evse_id: int,
                  connectors: Sequence[ConnectorState], *, online: bool,
                  tariff_ids: Sequence[str], fallback: datetime) -> dict[str, Any] | None:
    """mod_locations §EVSE for one EVSE of a station; None when it cannot be one (no connector,
    or a station id too long for the uid's CiString(36))."""
    uid = evse_uid(station_id, evse_id)
    if not connectors or len(uid) > UID_MAX:
        return None
    ordered = sorted(connectors, key=lambda c: c.connector_id)
    return {
        "uid": uid,
        # With a uid within 36 characters the eMI3 id stays within its CiString(48).
        "evse_id": emi3_evse_id(identity.country_code, identity.party_id, station_id, evse_id),
        "status": evse_status((c.status for c in ordered), online).value,
        "capabilities": [c.value for c in CAPABILITIES],
        "connectors": [connector_document(c, tariff_ids, fallback) for c in ordered],
        # "Timestamp when this EVSE or one of its Connectors was last updated".
        "last_updated": format_ocpi_datetime(max(_connector_time(c, fallback) for c in ordered)),
    }


@dataclass(slots=True)
class Site:
    """One location and what stands there, as read from storage."""

    location: Location
    stations: list[Station] = field(default_factory=list)
    connectors: list[ConnectorState] = field(default_factory=list)
    # Current tariff ids per (station id, EVSE id).
    tariff_ids: Mapping[tuple[str, int], Sequence[str]] = field(default_factory=dict)

    @property
    def updated_at(self) -> datetime:
        return self.location.updated_at or _EPOCH

    def evses(self) -> dict[tuple[str, int], list[ConnectorState]]:
        """Connectors per EVSE of the stations here; EVSE 0 / connector 0 is a station itself."""
        here = {s.id for s in self.stations if s.location_id == self.location.id}
        grouped: dict[tuple[str, int], list[ConnectorState]] = {}
        for c in self.connectors:
            if c.station_id in here and c.evse_id > 0 and c.connector_id > 0:
                grouped.setdefault((c.station_id, c.evse_id), []).append(c)
        return dict(sorted(grouped.items()))


def location_document(identity: OcpiIdentity, site: Site,
                      online: Callable[[str], bool]) -> dict[str, Any]:
    """mod_locations §Location: the site with one EVSE per (station, EVSE)."""
    loc = site.location
    evses: list[dict[str, Any]] = []
    newest = site.updated_at
    for (station_id, evse_id), connectors in site.evses().items():
        doc = evse_document(identity, station_id, evse_id, connectors, online=online(station_id),
                            tariff_ids=site.tariff_ids.get((station_id, evse_id), ()),
                            fallback=site.updated_at)
        if doc is None:
            log.warning("EVSE left out of OCPI: uid longer than 36", extra={"station": station_id})
            continue
        evses.append(doc)
        newest = max([newest, *(_connector_time(c, site.updated_at) for c in connectors)])
    result: dict[str, Any] = {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "id": loc.id,
        "publish": True,
        "name": _text(loc.name),
        "address": _text(loc.address),
        "city": _text(loc.city)[:CITY_MAX],
        "country": loc.country,
        "coordinates": {"latitude": coordinate(loc.latitude),
                        "longitude": coordinate(loc.longitude)},
        "evses": evses,
        # time_zone is required in 2.2.1; a location without one is taken to be on UTC.
        "time_zone": loc.time_zone or "UTC",
        # "Timestamp when this Location or one of its EVSEs or Connectors were last updated".
        "last_updated": format_ocpi_datetime(newest),
    }
    # "may only be omitted when the location has no postal code": one that does not fit
    # string(10) cannot be sent, and a truncated one would be wrong.
    if loc.postal_code and len(loc.postal_code) <= POSTAL_CODE_MAX:
        result["postal_code"] = _text(loc.postal_code)
    return result


def find_evse(location: Mapping[str, Any], uid: str) -> dict[str, Any] | None:
    """An EVSE of a Location document by uid (CiString: any letter case)."""
    return _by_key(location.get("evses", []), "uid", uid)


def find_connector(evse: Mapping[str, Any], connector_id: str) -> dict[str, Any] | None:
    return _by_key(evse.get("connectors", []), "id", connector_id)


def _by_key(items: Iterable[dict[str, Any]], key: str, value: str) -> dict[str, Any] | None:
    wanted = value.upper()
    return next((item for item in items if str(item[key]).upper() == wanted), None)


async def _every(fetch: Callable[[int, int], Awaitable[tuple[list[T], int]]]) -> list[T]:
    """All rows of a paged repository listing."""
    rows: list[T] = []
    while True:
        page, _ = await fetch(_PAGE, len(rows))
        rows.extend(page)
        if len(page) < _PAGE:
            return rows


class _TariffIds:
    """Current public tariff per EVSE, with the same choice as a session's (resolve_tariff)."""

    def __init__(self, repos: Repositories, assignments: list[TariffAssignment],
                 at: datetime) -> None:
        self.repos = repos
        self.assignments = assignments
        self.at = at
        self._tariffs: dict[str, Tariff | None] = {}

    async def of(self, station: Station, evse_id: int) -> list[str]:
        for a in ranked_assignments(self.assignments, station.id, station.location_id, evse_id,
                                    None):
            if a.tariff_id not in self._tariffs:
                self._tariffs[a.tariff_id] = await self.repos.get_tariff(a.tariff_id)
            tariff = self._tariffs[a.tariff_id]
            if tariff is not None and selectable(tariff, self.at):
                return [tariff.id]
        return []


class LocationCatalog:
    """Our Location documents, built from storage on demand (they are never stored)."""

    def __init__(self, storage: Storage, clock: Clock, identity: OcpiIdentity,
                 online: Callable[[str], bool]) -> None:
        self.storage = storage
        self.clock = clock
        self.identity = identity
        self.online = online

    @classmethod
    def of(cls, roaming: Roaming, services: Services | None = None) -> LocationCatalog:
        gateway = (services or roaming.require_services()).station_admin.gateway
        return cls(roaming.storage, roaming.clock, roaming.identity, gateway.is_connected)

    async def all(self) -> list[dict[str, Any]]:
        """Every Location with at least one EVSE, by id (mod_locations §GET List: "List of all
        Locations with valid EVSEs")."""
        sites = await self.storage.read(lambda r: self._sites(r, None))
        docs = [location_document(self.identity, s, self.online) for s in sites]
        return [d for d in docs if d["evses"]]

    async def get(self, location_id: str) -> dict[str, Any] | None:
        """One Location, also without EVSEs (GET Object; a PUT telling that none are left)."""
        sites = await self.storage.read(lambda r: self._sites(r, location_id))
        return location_document(self.identity, sites[0], self.online) if sites else None

    async def evse_of(self, station_id: str, evse_id: int,
                      reported: ConnectorState | None = None,
                      ) -> tuple[str, dict[str, Any]] | None:
        """(location id, EVSE document) of one EVSE of a station that is in a location.

        `reported`: a connector status as the station reported it, which takes the place of
        the stored one. Events are handled after the fact, when storage may already hold a
        later status; each push then still tells the change it follows, in order."""
        async def op(repos: Repositories) -> Site | None:
            station = await repos.get_station(station_id)
            if station is None or station.location_id is None:
                return None
            location = await repos.get_location(station.location_id)
            if location is None:
                return None
            connectors = [_as_reported(c, reported)
                          for c in await repos.list_connectors([station_id])
                          if c.evse_id == evse_id]
            tariffs = _TariffIds(repos, await repos.list_tariff_assignments(None), self.clock())
            return Site(location, [station], connectors,
                        {(station_id, evse_id): await tariffs.of(station, evse_id)})

        site = await self.storage.read(op)
        if site is None:
            return None
        connectors = site.evses().get((station_id, evse_id), [])
        doc = evse_document(self.identity, station_id, evse_id, connectors,
                            online=self.online(station_id),
                            tariff_ids=site.tariff_ids[(station_id, evse_id)],
                            fallback=site.updated_at)
        return (site.location.id, doc) if doc is not None else None

    async def _sites(self, repos: Repositories, location_id: str | None) -> list[Site]:
        if location_id is None:
            locations = await _every(repos.list_locations)
        else:
            found = await repos.get_location(location_id)
            if found is None:  # Location.id is a CiString: try any letter case
                wanted = location_id.upper()
                found = next((loc for loc in await _every(repos.list_locations)
                              if loc.id.upper() == wanted), None)
            locations = [found] if found is not None else []
        if not locations:
            return []
        sites = {loc.id: Site(loc) for loc in locations}
        stations = [s for s in await _every(repos.list_stations) if s.location_id in sites]
        by_station = {s.id: s for s in stations}
        connectors = await repos.list_connectors(list(by_station))
        tariffs = _TariffIds(repos, await repos.list_tariff_assignments(None), self.clock())
        for station in stations:
            sites[str(station.location_id)].stations.append(station)
        for c in connectors:
            site = sites[str(by_station[c.station_id].location_id)]
            site.connectors.append(c)
        for site in sites.values():
            ids: dict[tuple[str, int], Sequence[str]] = {}
            for station_id, evse_id in site.evses():
                ids[(station_id, evse_id)] = await tariffs.of(by_station[station_id], evse_id)
            site.tariff_ids = ids
        return sorted(sites.values(), key=lambda s: s.location.id)


def _as_reported(stored: ConnectorState, reported: ConnectorState | None) -> ConnectorState:
    """The stored connector (with its metadata) carrying the reported status, if it is that
    connector."""
    if reported is None or (reported.station_id, reported.evse_id, reported.connector_id) != \
            (stored.station_id, stored.evse_id, stored.connector_id):
        return stored
    return replace(stored, status=reported.status, status_at=reported.status_at)


def receiving_party(partner: Partner) -> tuple[str, str] | None:
    """Whom a push to `partner` is addressed to (OCPI-to): its eMSP party, or for a hub the hub
    itself, which broadcasts it (transport_and_format §Broadcast Push)."""
    for wanted in ("HUB", "EMSP"):
        for role in partner.roles:
            if role.get("role") == wanted:
                return (str(role["country_code"]), str(role["party_id"]))
    return None


def _segment(value: str) -> str:
    return quote(value, safe="")


class LocationPusher(EventListener):
    """Pushes our Locations to every eMSP offering a locations Receiver (mod_locations
    §Receiver interface): a PATCH of the EVSE status when a connector changes, a PUT of the
    whole Location when the location or a station in it changes."""

    def __init__(self, roaming: Roaming, services: Services) -> None:
        self.roaming = roaming
        self.catalog = LocationCatalog.of(roaming, services)
        # The EVSE status last pushed, per (location id, uid): "only actual changes should be
        # pushed" with PATCH (mod_locations §Flow and Lifecycle). Lost on restart: one more
        # push then, which is harmless.
        self._pushed: dict[tuple[str, str], str] = {}

    def _path(self, *segments: str) -> str:
        identity = self.roaming.identity
        parts = (identity.country_code, identity.party_id, *segments)
        return "/" + "/".join(_segment(p) for p in parts)

    async def _receivers(self) -> list[Partner]:
        return await self.roaming.partners_with("EMSP", MODULE, "RECEIVER")

    # Each handler logs its own failure with the object it was about (DomainEvents would log a
    # bare "listener failed").
    async def connector_status(self, state: ConnectorState) -> None:
        try:
            await self._patch_status(state)
        except Exception:
            log.exception("EVSE status push failed", extra={"station": state.station_id})

    async def location_changed(self, location_id: str) -> None:
        try:
            await self._put(location_id)
        except Exception:
            log.exception("location push failed", extra={"location": location_id})

    async def station_changed(self, station_id: str) -> None:
        try:
            station = await self.roaming.storage.read(lambda r: r.get_station(station_id))
            if station is not None and station.location_id is not None:
                await self._put(station.location_id)
        except Exception:
            log.exception("location push failed", extra={"station": station_id})

    async def push_all(self, partner: Partner) -> int:
        """PUT every Location to one partner (e.g. a new one); returns how many."""
        if partner.endpoint(MODULE, "RECEIVER") is None:
            return 0
        docs = await self.catalog.all()
        for doc in docs:
            await self.roaming.outbox.push(partner.id, MODULE, "PUT", self._path(doc["id"]), doc,
                                           f"locations/{doc['id']}", receiving_party(partner))
        return len(docs)

    async def _patch_status(self, state: ConnectorState) -> None:
        if state.evse_id < 1:  # the station as a whole: no EVSE of its own in OCPI
            return
        partners = await self._receivers()
        found = await self.catalog.evse_of(state.station_id, state.evse_id, state) \
            if partners else None
        if found is None:
            return
        location_id, evse = found
        key = (location_id, evse["uid"])
        if key not in self._pushed:
            # An EVSE we never pushed (a new one, or after a restart): the eMSP may not know it
            # or its Location, and a PATCH of an unknown object is refused (mod_locations
            # §Receiver PATCH), so send the whole Location.
            await self._put(location_id)
            return
        if self._pushed[key] == evse["status"]:
            return
        body = {"status": evse["status"], "last_updated": evse["last_updated"]}
        for partner in partners:
            # One object key per Location: a PATCH never overtakes the PUT before it.
            await self.roaming.outbox.push(
                partner.id, MODULE, "PATCH", self._path(location_id, evse["uid"]), body,
                f"locations/{location_id}", receiving_party(partner))
        self._pushed[key] = evse["status"]

    async def _put(self, location_id: str) -> None:
        partners = await self._receivers()
        doc = await self.catalog.get(location_id) if partners else None
        if doc is None:
            return
        for partner in partners:
            await self.roaming.outbox.push(partner.id, MODULE, "PUT", self._path(doc["id"]), doc,
                                           f"locations/{doc['id']}", receiving_party(partner))
        for evse in doc["evses"]:
            self._pushed[(doc["id"], evse["uid"])] = evse["status"]
