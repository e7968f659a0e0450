"""Commands to stations: checks and preparation before sending, bookkeeping after the answer."""

from __future__ import annotations

import random
from typing import Any

import orjson

from volthub.domain import commands as c
from volthub.domain.enums import AuthStatus, ReservationStatus, TransactionStatus
from volthub.domain.errors import Conflict, InvalidInput, NotFound
from volthub.domain.model import (
    ChargingProfileRecord,
    DeviceVariable,
    JsonObject,
    LocalListEntry,
    Reservation,
    StationReport,
)
from volthub.services import security_profile
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
# Commands whose neutral transaction_id (ours) becomes the station's reference before sending.
TRANSACTION_BOUND = (c.CostUpdated, c.NotifyAllowedEnergyTransfer, c.SetDisplayMessage,
                     c.GetTransactionStatus)
# Overhead of a GetVariables/SetVariables frame around its list (ids, action, keys), in bytes,
# for the BytesPerMessage check (2.0.1 B06.FR.xx: a CSMS does not exceed the station's limit).
FRAME_OVERHEAD_BYTES = 64


def _is_v2(version: str | None) -> bool:
    return version is not None and version.startswith("2")


def _chunks(items: list[Any], max_items: int | None, max_bytes: int | None) -> list[list[Any]]:
    """Split a variable list so that no call exceeds ItemsPerMessage / BytesPerMessage."""
    chunks: list[list[Any]] = [[]]
    size = FRAME_OVERHEAD_BYTES
    for item in items:
        item_bytes = len(orjson.dumps(item.model_dump(mode="json", exclude_none=True))) + 48
        full = (max_items is not None and len(chunks[-1]) >= max_items) or (
            max_bytes is not None and chunks[-1] and size + item_bytes > max_bytes)
        if full:
            chunks.append([])
            size = FRAME_OVERHEAD_BYTES
        chunks[-1].append(item)
        size += item_bytes
    return chunks


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
        version = self.gateway.connected_version(station_id)
        if _is_v2(version):
            command = await self._as_v2(station_id, command)
            if isinstance(command, c.GetVariables | c.SetVariables):
                return await self._execute_split(station_id, command)
        return await self._execute_one(station_id, command)

    async def _as_v2(self, station_id: str, command: c.Command) -> c.Command:
        """get/set-configuration on a 2.x station are Get/SetVariables (CONTRACT.md)."""
        try:
            if isinstance(command, c.SetConfiguration):
                return c.SetVariables(variables=[c.VariableRef.from_key(command.key,
                                                                        command.value)])
            if isinstance(command, c.GetConfiguration):
                keys = command.keys
                if not keys:
                    known = await self.storage.read(
                        lambda r: r.list_device_model(station_id, None, None))
                    keys = sorted({f"{v.component}.{v.variable}" for v in known
                                   if v.attribute_type == "Actual"})
                if not keys:
                    raise InvalidInput("keys: the station's device model is not known yet; "
                                       "give keys or run get-base-report first")
                return c.GetVariables(variables=[c.VariableRef.from_key(k) for k in keys])
        except ValueError as exc:
            raise InvalidInput(f"key: {exc}") from exc
        return command

    async def _execute_split(
        self, station_id: str, command: c.GetVariables | c.SetVariables
    ) -> CommandOutcome:
        action = "GetVariables" if isinstance(command, c.GetVariables) else "SetVariables"
        items, size = await self.storage.read(
            lambda r: _limits(r, station_id, action))
        outcomes = [
            await self._execute_one(station_id, type(command)(variables=chunk))
            for chunk in _chunks(list(command.variables), items, size)
        ]
        if len(outcomes) == 1:
            return outcomes[0]
        # The answers of all calls joined as if the station had answered one.
        key = "getVariableResult" if action == "GetVariables" else "setVariableResult"
        joined: JsonObject = {key: [r for o in outcomes for r in o.response.get(key, [])]}
        data: dict[str, Any] = {"calls": len(outcomes), "variables": joined[key]}
        for outcome in outcomes:
            for name in ("configuration",):
                data.setdefault(name, {}).update(outcome.data.get(name, {}))
            data.setdefault("unknown_keys", []).extend(outcome.data.get("unknown_keys", []))
        statuses = [o.status for o in outcomes]
        status = next((s for s in statuses if s not in ACCEPTED_WORDS), statuses[0])
        return CommandOutcome(status=status, response=joined, data=data)

    async def _execute_one(self, station_id: str, command: c.Command) -> CommandOutcome:
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
        answer = await self.gateway.send_raw(station_id, action, payload)
        password = await security_profile.raw_password_outcome(action, payload, answer)
        if password is not None:
            await self.storage.write(lambda r: password.apply(r, station_id, self.clock))
        return answer

    async def _transaction_reference(self, station_id: str, txn_id: int) -> str:
        txn = await self.storage.read(lambda r: r.get_transaction(txn_id))
        if txn is None or txn.station_id != station_id:
            raise NotFound(f"transaction_id {txn_id} not found on this station")
        return txn.station_transaction_id

    async def _prepare(self, station_id: str, command: c.Command) -> PreparedCommand:
        now = self.clock()
        prepared = PreparedCommand(command)
        if getattr(command, "request_id", None) is not None:
            prepared.request_id = command.request_id  # type: ignore[attr-defined]
        elif "request_id" in type(command).model_fields:
            prepared.request_id = random.randint(1, 2**31 - 1)
        if isinstance(command, TRANSACTION_BOUND):
            txn_id = getattr(command, "transaction_id", None)
            if txn_id is not None:
                prepared.transaction_reference = await self._transaction_reference(
                    station_id, txn_id)
            elif isinstance(command, c.GetTransactionStatus):
                prepared.transaction_reference = command.station_transaction_id
        elif isinstance(command, c.SetChargingProfile) and command.profile.transaction_id:
            prepared.transaction_reference = await self._transaction_reference(
                station_id, command.profile.transaction_id)
        if isinstance(command, c.RemoteStart | c.ReserveNow | c.CustomerInformation):
            token_value = command.id_token
            if token_value is not None:
                token = await self.storage.read(lambda r: r.get_token(token_value))
                # 2.x sends the token with its type: an eMAID must not arrive as an RFID uid.
                prepared.id_token_type = token.type.value if token else None
        if isinstance(command, c.RemoteStart):
            prepared.remote_start_id = random.randint(1, 2**31 - 1)
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
            t.id_token: LocalListEntry(t.id_token, local_list_status(t, now), t.expires_at,
                                       t.group_id, t.type.value)
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
        password = await security_profile.command_password_outcome(command, outcome)

        async def op(repos: Repositories) -> None:
            if password is not None:  # a Basic-auth password: only its hash, on the station
                await password.apply(repos, station_id, self.clock)
            if isinstance(command, c.GetConfiguration):
                station = await repos.get_station(station_id)
                config = dict((station.configuration or {}) if station and command.keys else {})
                config.update(outcome.data.get("configuration", {}))
                await repos.update_station(
                    station_id, {"configuration": config, "configuration_at": now}
                )
            elif isinstance(command, c.SetConfiguration) and accepted and password is None:
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
            elif isinstance(command, c.GetVariables | c.SetVariables):
                await repos.upsert_device_variables(
                    station_id, _variable_rows(command, outcome, now))
            elif isinstance(command, c.SetDisplayMessage | c.SetDerControl) and accepted:
                # What the station now shows or obeys, kept beside what it reports.
                await repos.insert_station_report(StationReport(
                    station_id=station_id, action=command.name, received_at=now,
                    payload=command.model_dump(mode="json")))
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


async def _limits(repos: Repositories, station_id: str, action: str
                  ) -> tuple[int | None, int | None]:
    """ItemsPerMessage / BytesPerMessage for `action` from the station's device model."""
    items = size = None
    for row in await repos.list_device_model(station_id, "DeviceDataCtrlr", None):
        if row.attribute_type != "Actual" or row.variable_instance not in (action, None):
            continue
        try:
            value = int(row.value) if row.value is not None else None
        except ValueError:
            continue
        if value is None or value <= 0:
            continue
        # The value for this very action wins over the general one.
        if row.variable == "ItemsPerMessage" and (items is None or row.variable_instance):
            items = value
        elif row.variable == "BytesPerMessage" and (size is None or row.variable_instance):
            size = value
    return items, size


def _variable_rows(command: c.GetVariables | c.SetVariables, outcome: CommandOutcome,
                   now: Any) -> list[DeviceVariable]:
    """Device-model values confirmed by a Get/SetVariables answer (by name, else position)."""
    rows = []
    results = outcome.data.get("variables", [])
    for ref, result in _pair_results(list(command.variables), results):
        if result.get("attributeStatus") not in ACCEPTED_WORDS:
            continue
        if ref.variable == "BasicAuthPassword":
            continue  # write-only (2.0.1 A01): never kept in readable form
        value = result.get("attributeValue") if isinstance(command, c.GetVariables) else ref.value
        rows.append(DeviceVariable(
            component=ref.component, variable=ref.variable,
            attribute_type=result.get("attributeType") or ref.attribute_type or "Actual",
            component_instance=ref.component_instance, evse_id=ref.evse_id,
            connector_id=ref.connector_id, variable_instance=ref.variable_instance,
            value=value, updated_at=now,
        ))
    return rows


def _ref_key(ref: c.VariableRef, typed: bool) -> tuple[Any, ...]:
    key = (ref.component, ref.component_instance, ref.evse_id or None, ref.connector_id or None,
           ref.variable, ref.variable_instance)
    return (*key, ref.attribute_type or "Actual") if typed else key


def _result_key(result: JsonObject, typed: bool) -> tuple[Any, ...]:
    component, variable = result.get("component") or {}, result.get("variable") or {}
    evse = component.get("evse") or {}
    key = (component.get("name"), component.get("instance"), evse.get("id") or None,
           evse.get("connectorId") or None, variable.get("name"), variable.get("instance"))
    return (*key, result.get("attributeType") or "Actual") if typed else key


def _pair_results(refs: list[c.VariableRef], results: list[JsonObject]
                  ) -> list[tuple[c.VariableRef, JsonObject]]:
    """Each result with the variable it names: a station may list its results in any order.
    Name and attribute type first, then the name alone, then the same position."""
    unused = list(range(len(refs)))
    pairs = []
    for position, result in enumerate(results):
        index = next((i for i in unused if _ref_key(refs[i], True) == _result_key(result, True)),
                     None)
        if index is None:
            index = next((i for i in unused
                          if _ref_key(refs[i], False) == _result_key(result, False)), None)
        if index is None and position in unused:
            index = position
        if index is None:
            continue
        unused.remove(index)
        pairs.append((refs[index], result))
    return pairs
