"""Commands to stations: checks and preparation before sending, bookkeeping after the answer."""

from __future__ import annotations

from volthub.domain import commands as c
from volthub.domain.enums import AuthStatus, ReservationStatus, TransactionStatus
from volthub.domain.errors import Conflict, NotFound
from volthub.domain.model import ChargingProfileRecord, JsonObject, LocalListEntry, Reservation
from volthub.services.authorization import authorize, local_list_status
from volthub.services.ports import (
    Clock,
    CommandOutcome,
    LocalListUpdate,
    PreparedCommand,
    StationGateway,
)
from volthub.storage.interface import Repositories, Storage

ACCEPTED_WORDS = {"Accepted", "RebootRequired"}


class CommandService:
    """Sends version-neutral commands through the gateway and records their effects."""

    def __init__(self, storage: Storage, clock: Clock, gateway: StationGateway) -> None:
        self.storage = storage
        self.clock = clock
        self.gateway = gateway

    async def _require_connected(self, station_id: str) -> None:
        station = await self.storage.read(lambda r: r.get_station(station_id))
        if station is None:
            raise NotFound(f"station {station_id!r} not found")
        if not self.gateway.is_connected(station_id):
            raise Conflict(f"station {station_id!r} is not connected")

    async def execute(self, station_id: str, command: c.Command) -> CommandOutcome:
        await self._require_connected(station_id)
        prepared = await self._prepare(station_id, command)
        try:
            outcome = await self.gateway.execute(station_id, prepared)
        except Exception:
            if prepared.reservation_id is not None and isinstance(command, c.ReserveNow):
                await self.storage.write(
                    lambda r: r.update_reservation_status(
                        prepared.reservation_id or 0, ReservationStatus.REJECTED
                    )
                )
            raise
        await self._record(station_id, prepared, outcome)
        return outcome

    async def send_raw(self, station_id: str, action: str, payload: JsonObject) -> JsonObject:
        await self._require_connected(station_id)
        return await self.gateway.send_raw(station_id, action, payload)

    async def _prepare(self, station_id: str, command: c.Command) -> PreparedCommand:
        now = self.clock()
        prepared = PreparedCommand(command)
        if isinstance(command, c.RemoteStart):
            # Same rule as Authorize and StartTransaction: only an accepted token starts remotely.
            auth = await self.storage.read(lambda r: authorize(r, command.id_token, now))
            if auth.status is not AuthStatus.ACCEPTED:
                raise Conflict(f"id_token {command.id_token!r} is not authorized: {auth.status}")
        elif isinstance(command, c.RemoteStop):
            txn = await self.storage.read(lambda r: r.get_transaction(command.transaction_id))
            if txn is None or txn.station_id != station_id:
                raise NotFound(f"transaction_id {command.transaction_id} not found on this station")
            if txn.status is TransactionStatus.COMPLETED:
                raise Conflict(f"transaction_id {command.transaction_id} is already completed")
            prepared.transaction_reference = txn.station_transaction_id
        elif isinstance(command, c.ReserveNow):
            reservation = Reservation(
                id=0,
                station_id=station_id,
                evse_id=command.evse_id,
                id_token=command.id_token,
                parent_id_token=command.parent_id_token,
                expires_at=command.expires_at,
                status=ReservationStatus.REQUESTED,
                created_at=now,
            )
            prepared.reservation_id = await self.storage.write(
                lambda r: r.insert_reservation(reservation)
            )
        elif isinstance(command, c.CancelReservation):
            found = await self.storage.read(lambda r: r.get_reservation(command.reservation_id))
            if found is None or found.station_id != station_id:
                raise NotFound(f"reservation_id {command.reservation_id} not found on this station")
            prepared.reservation_id = command.reservation_id
        elif isinstance(command, c.SendLocalList):
            prepared.local_list = await self.storage.read(
                lambda r: self._local_list_update(r, station_id, command.update_type)
            )
        return prepared

    async def _local_list_update(
        self, repos: Repositories, station_id: str, update_type: str
    ) -> LocalListUpdate:
        now = self.clock()
        station = await repos.get_station(station_id)
        tokens, _ = await repos.list_tokens(None, 0)
        wanted = {
            t.id_token: LocalListEntry(t.id_token, local_list_status(t, now), t.expires_at, t.group_id)
            for t in tokens
        }
        version = (station.local_list_version if station else 0) + 1
        if update_type == "full":
            return LocalListUpdate(version, "full", list(wanted.values()))
        current = {e.id_token: e for e in await repos.get_local_list(station_id)}
        changed = [e for key, e in wanted.items() if current.get(key) != e]
        removed = sorted(set(current) - set(wanted))
        return LocalListUpdate(version, "differential", changed, removed)

    async def _record(
        self, station_id: str, prepared: PreparedCommand, outcome: CommandOutcome
    ) -> None:
        command = prepared.command
        accepted = outcome.status in ACCEPTED_WORDS
        now = self.clock()

        async def op(repos: Repositories) -> None:
            if isinstance(command, c.GetConfiguration):
                station = await repos.get_station(station_id)
                config = dict((station.configuration or {}) if station and command.keys else {})
                config.update(outcome.data.get("configuration", {}))
                await repos.update_station(
                    station_id, {"configuration": config, "configuration_at": now}
                )
            elif isinstance(command, c.SetConfiguration) and accepted:
                station = await repos.get_station(station_id)
                if station is not None and station.configuration is not None:
                    config = dict(station.configuration)
                    entry = dict(config.get(command.key) or {"readonly": False})
                    entry["value"] = command.value
                    config[command.key] = entry
                    await repos.update_station(station_id, {"configuration": config})
            elif isinstance(command, c.ReserveNow) and prepared.reservation_id is not None:
                status = ReservationStatus.ACCEPTED if accepted else ReservationStatus.REJECTED
                await repos.update_reservation_status(prepared.reservation_id, status)
            elif isinstance(command, c.CancelReservation) and accepted:
                await repos.update_reservation_status(
                    command.reservation_id, ReservationStatus.CANCELLED
                )
            elif isinstance(command, c.SendLocalList) and accepted and prepared.local_list:
                await self._apply_local_list(repos, station_id, prepared.local_list)
            elif isinstance(command, c.SetChargingProfile) and accepted:
                profile = command.profile
                await repos.upsert_charging_profile(
                    ChargingProfileRecord(
                        station_id=station_id,
                        profile_id=profile.id,
                        evse_id=command.evse_id,
                        stack_level=profile.stack_level,
                        purpose=profile.purpose,
                        profile=profile.model_dump(mode="json"),
                        transaction_id=profile.transaction_id,
                    )
                )
            elif isinstance(command, c.ClearChargingProfile) and accepted:
                await repos.delete_charging_profiles(
                    station_id, command.id, command.evse_id, command.purpose, command.stack_level
                )

        await self.storage.write(op)

    async def _apply_local_list(
        self, repos: Repositories, station_id: str, update: LocalListUpdate
    ) -> None:
        if update.update_type == "full":
            entries = update.entries
        else:
            current = {e.id_token: e for e in await repos.get_local_list(station_id)}
            for entry in update.entries:
                current[entry.id_token] = entry
            for key in update.removed:
                current.pop(key, None)
            entries = list(current.values())
        await repos.replace_local_list(station_id, entries)
        await repos.update_station(station_id, {"local_list_version": update.version})
