"""The registry of live station connections, and the StationGateway port the services call."""

from __future__ import annotations

import asyncio
import logging

from volthub.domain.errors import Conflict, InvalidInput, Unsupported
from volthub.domain.model import JsonObject
from volthub.ocpp import schemas
from volthub.ocpp.connection import StationConnection
from volthub.ocpp.versions import VersionAdapter
from volthub.services.ports import CommandOutcome, PreparedCommand

log = logging.getLogger("volthub.ocpp")

# Close code for a connection replaced by a newer one of the same station (private-use range).
CLOSE_REPLACED = 4000
# RFC 6455 §7.4.1: a connection that no longer meets the station's security profile.
CLOSE_POLICY_VIOLATION = 1008
# Actions that either side may send (OCPP 1.6 §4.3 and §5.6, 2.x P01/P02): a station handler
# for them does not make them station-to-CSMS only.
BIDIRECTIONAL_ACTIONS = frozenset({"DataTransfer"})
# The notifications a station sends as the result of a CSMS request (all versions); a station
# that is not yet accepted may still send these once we asked (2.0.1 B02, 1.6 errata §5.6).
FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "GetBaseReport": ("NotifyReport",),
    "GetReport": ("NotifyReport",),
    "GetMonitoringReport": ("NotifyMonitoringReport",),
    "GetChargingProfiles": ("ReportChargingProfiles",),
    "GetDisplayMessages": ("NotifyDisplayMessages",),
    "CustomerInformation": ("NotifyCustomerInformation",),
    "GetLog": ("LogStatusNotification",),
    "GetDiagnostics": ("DiagnosticsStatusNotification",),
    "UpdateFirmware": ("FirmwareStatusNotification",),
    "SignedUpdateFirmware": ("SignedFirmwareStatusNotification",),
    "PublishFirmware": ("PublishFirmwareStatusNotification",),
    "ReserveNow": ("ReservationStatusUpdate",),
}


class Gateway:
    """Holds one connection per station id and sends commands to it."""

    def __init__(self) -> None:
        self._connections: dict[str, StationConnection] = {}

    def __len__(self) -> int:
        return len(self._connections)

    async def attach(self, connection: StationConnection) -> None:
        """Register an authenticated connection; an older one of the same station is closed."""
        old = self._connections.get(connection.station_id)
        self._connections[connection.station_id] = connection
        if old is not None and old is not connection:
            log.info("connection replaced", extra={"station_id": connection.station_id})
            await old.close(CLOSE_REPLACED, "replaced by a new connection")

    def detach(self, connection: StationConnection) -> None:
        connection.connection_lost()
        if self._connections.get(connection.station_id) is connection:
            del self._connections[connection.station_id]

    def get(self, station_id: str) -> StationConnection:
        connection = self._connections.get(station_id)
        if connection is None:
            raise Conflict(f"station {station_id!r} is not connected")
        return connection

    # StationGateway port --------------------------------------------------------------
    def is_connected(self, station_id: str) -> bool:
        return station_id in self._connections

    def connected_version(self, station_id: str) -> str | None:
        connection = self._connections.get(station_id)
        return connection.ctx.version if connection else None

    async def execute(self, station_id: str, prepared: PreparedCommand) -> CommandOutcome:
        connection = self.get(station_id)
        adapter: VersionAdapter = connection.adapter
        action, payload = adapter.to_call(prepared)
        # A command valid in neutral form can still break this version's limits (e.g. a 1.6
        # idTag is at most 20 characters): refuse it here rather than let the station fail it.
        validate = schemas.validator(connection.ctx.version, action, response=False)
        if validate is not None:
            try:
                validate(payload)
            except schemas.JsonSchemaError as exc:
                raise InvalidInput(f"{action} payload for OCPP {connection.ctx.version}: "
                                   f"{exc.message}") from exc
        if action in ("TriggerMessage", "ExtendedTriggerMessage"):
            connection.ctx.triggered.add(
                adapter.triggered_action(action, payload["requestedMessage"]))
        connection.ctx.solicited.update(FOLLOW_UPS.get(action, ()))
        answer = await connection.call(action, payload)
        return adapter.from_result(prepared, answer)

    async def send_raw(self, station_id: str, action: str, payload: JsonObject) -> JsonObject:
        connection = self.get(station_id)
        version = connection.ctx.version
        validate = schemas.validator(version, action, response=False)
        if validate is None or (action in connection.adapter.handlers
                                and action not in BIDIRECTIONAL_ACTIONS):
            raise Unsupported(f"action {action!r} is not a CSMS-to-station call of OCPP {version}")
        try:
            validate(payload)
        except schemas.JsonSchemaError as exc:
            raise InvalidInput(f"payload of {action}: {exc.message}") from exc
        return await connection.call(action, payload)

    def registration_changed(self, station_id: str, accepted: bool) -> None:
        connection = self._connections.get(station_id)
        if connection is not None:
            connection.ctx.accepted = accepted

    async def enforce_security_profile(self, station_id: str, profile: int) -> bool:
        connection = self._connections.get(station_id)
        if connection is None or connection.ctx.security_level >= profile:
            return False
        log.info("connection below the security profile closed",
                 extra={"station_id": station_id, "profile": profile})
        await connection.close(CLOSE_POLICY_VIOLATION, f"security profile {profile} required")
        return True

    async def close_all(self, code: int, reason: str) -> None:
        connections = list(self._connections.values())
        await asyncio.gather(*(c.close(code, reason) for c in connections),
                             return_exceptions=True)
