"""OCPP 2.x TransactionEvent accounting: idempotent per seqNo, merged in any order of arrival."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from volthub.domain.enums import AuthStatus, ReservationStatus, TransactionStatus
from volthub.domain.model import (
    Authorization,
    MeterReading,
    Transaction,
    TransactionEventRecord,
)
from volthub.pricing.timeline import charge_state_from_ocpp
from volthub.services.authorization import authorize
from volthub.services.events import DomainEvents
from volthub.services.ports import Clock, NoSessionListener, SessionListener
from volthub.storage.interface import Repositories, Storage

log = logging.getLogger("volthub.transactions")
ENERGY_REGISTER = "Energy.Active.Import.Register"
# Trigger reasons under which an idToken in a later event is the token that ended the session
# (2.0.1 E06/E07: the stop token), not the one that started it.
STOP_TOKEN_TRIGGERS = frozenset({"StopAuthorized", "Deauthorized"})


@dataclass(slots=True)
class TransactionEventInput:
    """One TransactionEvent, version-neutral (2.0.1 and 2.1 share the message)."""

    event_type: str  # Started | Updated | Ended
    reference: str  # the station's transactionId
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    number_of_phases: int | None = None
    cable_max_current_a: int | None = None
    readings: list[MeterReading] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class TransactionEventResult:
    transaction: Transaction
    authorization: Authorization | None
    duplicate: bool
    # Sequence numbers below this event's that never arrived: the CSMS may ask the station
    # with GetTransactionStatus whether messages are still queued (2.0.1 E14).
    missing_seq_nos: tuple[int, ...] = ()


def _energy_readings(readings: Sequence[MeterReading], context: str | None) -> list[float]:
    return [
        r.value for r in readings
        if r.measurand == ENERGY_REGISTER and r.value is not None and r.phase is None
        and (context is None or r.context == context)
    ]


def _meter_start(readings: Sequence[MeterReading]) -> int | None:
    begin = _energy_readings(readings, "Transaction.Begin")
    return round(min(begin)) if begin else None


def _meter_stop(readings: Sequence[MeterReading]) -> int | None:
    end = _energy_readings(readings, "Transaction.End")
    return round(max(end)) if end else None


class TransactionEventService:
    """Applies TransactionEvents to transactions; every fact the station reports is kept."""

    def __init__(self, storage: Storage, clock: Clock,
                 listener: SessionListener | None = None) -> None:
        self.storage = storage
        self.clock = clock
        self.listener: SessionListener = listener or NoSessionListener()
        self.events = DomainEvents()

    async def apply(self, station_id: str, event: TransactionEventInput) -> TransactionEventResult:
        now = self.clock()

        async def op(repos: Repositories) -> TransactionEventResult:
            auth = await authorize(repos, event.id_token, now) if event.id_token else None
            if event.id_token_type == "NoAuthorization":
                auth = Authorization(AuthStatus.ACCEPTED)  # 2.0.1 IdTokenEnumType: no token
            fresh = await repos.insert_transaction_event(TransactionEventRecord(
                station_id=station_id, station_transaction_id=event.reference,
                seq_no=event.seq_no, event_type=event.event_type,
                trigger_reason=event.trigger_reason, timestamp=event.timestamp,
                offline=event.offline, received_at=now,
            ))
            txn = await repos.get_transaction_by_reference(station_id, event.reference)
            if not fresh and txn is not None:
                return TransactionEventResult(txn, auth, duplicate=True)
            highest_before = -1 if txn is None or txn.last_seq_no is None else txn.last_seq_no
            if txn is None:
                txn = await self._create(repos, station_id, event, auth)
            else:
                await self._merge(repos, txn, event, auth)
            if event.readings:
                await repos.insert_readings(station_id, txn.evse_id, txn.id, event.readings)
            if event.charging_state is not None and \
                    charge_state_from_ocpp(event.charging_state) is not None:
                # Kept per event (not only the latest): TIME vs PARKING_TIME over the session.
                await repos.insert_charge_state(txn.id, event.timestamp, event.charging_state)
            if event.event_type == "Ended" and txn.status is TransactionStatus.ACTIVE:
                await self._end(repos, txn, event)
            missing: tuple[int, ...] = ()
            if event.seq_no > highest_before + 1:
                # seqNo starts at 0 with the first event of a transaction and grows by one
                # (2.0.1 E01/E02): a jump past the highest one seen means messages are missing
                # (still queued at the station, or lost). In order, no query is needed.
                seen = set(await repos.transaction_seq_nos(station_id, event.reference))
                missing = tuple(n for n in range(event.seq_no) if n not in seen)
            return TransactionEventResult(txn, auth, duplicate=False, missing_seq_nos=missing)

        result = await self.storage.write(op)
        if not result.duplicate:
            await self._tell_listener(event, result)
        return result

    async def _tell_listener(self, event: TransactionEventInput,
                             result: TransactionEventResult) -> None:
        txn = result.transaction
        try:
            if event.event_type == "Started":
                await self.listener.session_started(txn)
            if txn.status is TransactionStatus.COMPLETED and event.event_type == "Ended" \
                    and not result.missing_seq_nos:
                # With events still missing the CDR waits for the sweep, so that late
                # (offline-queued) readings are in it.
                await self.listener.session_ended(txn)
        except Exception:
            log.exception(
                "billing hook failed", extra={"transaction_id": txn.id})
        if event.event_type == "Started":
            self.events.emit("session_started", txn)
        elif txn.status is TransactionStatus.COMPLETED and event.event_type == "Ended":
            self.events.emit("session_ended", txn)
        elif txn.status is TransactionStatus.ACTIVE:
            self.events.emit("session_updated", txn)

    async def _create(
        self, repos: Repositories, station_id: str, event: TransactionEventInput,
        auth: Authorization | None,
    ) -> Transaction:
        evse_id = event.evse_id or 0
        txn = Transaction(
            id=0,
            station_id=station_id,
            station_transaction_id=event.reference,
            evse_id=evse_id,
            connector_id=event.connector_id or (1 if evse_id else 0),
            id_token=event.id_token,
            id_token_type=event.id_token_type,
            auth_status=auth.status if auth else None,
            status=TransactionStatus.ACTIVE,
            # An Updated or Ended that arrives before its Started still opens the record; the
            # Started, when it comes, moves started_at back to its own time.
            started_at=event.timestamp,
            meter_start_wh=_meter_start(event.readings),
            reservation_id=event.reservation_id,
            remote_start_id=event.remote_start_id,
            charging_state=event.charging_state,
            trigger_reason=event.trigger_reason,
            number_of_phases=event.number_of_phases,
            cable_max_current_a=event.cable_max_current_a,
            offline=event.offline,
            last_seq_no=event.seq_no,
        )
        txn.id = await repos.insert_transaction(txn, None)
        if event.reservation_id is not None:
            reservation = await repos.get_reservation(event.reservation_id)
            if reservation is not None and reservation.station_id == station_id:
                await repos.update_reservation_status(event.reservation_id, ReservationStatus.USED)
        return txn

    async def _merge(
        self, repos: Repositories, txn: Transaction, event: TransactionEventInput,
        auth: Authorization | None,
    ) -> None:
        fields: dict[str, object] = {}
        if event.timestamp < txn.started_at:
            fields["started_at"] = txn.started_at = event.timestamp
        if not txn.evse_id and event.evse_id:
            fields["evse_id"] = txn.evse_id = event.evse_id
            fields["connector_id"] = txn.connector_id = event.connector_id or 1
        if event.id_token is not None:
            if event.trigger_reason in STOP_TOKEN_TRIGGERS and txn.id_token is not None:
                fields["stop_id_token"] = txn.stop_id_token = event.id_token
            elif txn.id_token is None:
                fields["id_token"] = txn.id_token = event.id_token
                fields["id_token_type"] = txn.id_token_type = event.id_token_type
                txn.auth_status = auth.status if auth else None
                fields["auth_status"] = txn.auth_status.value if txn.auth_status else None
        begin = _meter_start(event.readings)
        if begin is not None and (txn.meter_start_wh is None or event.event_type == "Started"):
            fields["meter_start_wh"] = txn.meter_start_wh = begin
        for name in ("remote_start_id", "reservation_id", "number_of_phases",
                     "cable_max_current_a"):
            value = getattr(event, name)
            if value is not None and getattr(txn, name) is None:
                fields[name] = value
                setattr(txn, name, value)
        if event.offline and not txn.offline:
            fields["offline"] = txn.offline = True
        if fields:
            await repos.update_transaction(txn.id, fields)
        # The latest state is the one of the highest seqNo; a late lower one adds facts only.
        if txn.last_seq_no is None or event.seq_no > txn.last_seq_no:
            txn.last_seq_no, txn.trigger_reason = event.seq_no, event.trigger_reason
            if event.charging_state is not None:
                txn.charging_state = event.charging_state
            await repos.stage_transaction_progress(txn.id, event.seq_no, event.trigger_reason,
                                                   event.charging_state)

    async def _end(self, repos: Repositories, txn: Transaction, event: TransactionEventInput) -> None:
        meter_stop = _meter_stop(event.readings)
        energy_wh = None
        if txn.meter_start_wh is not None and meter_stop is not None:
            energy_wh = meter_stop - txn.meter_start_wh
        else:
            register = await repos.energy_register_range(txn.id)
            if register is not None:
                energy_wh = round(register[1] - register[0])
                if meter_stop is None:
                    meter_stop = round(register[1])
        # 2.0.1 TransactionType: stoppedReason may be omitted only when the reason is Local.
        reason = event.stopped_reason or "Local"
        await repos.update_transaction(txn.id, {
            "status": TransactionStatus.COMPLETED.value,
            "stopped_at": event.timestamp,
            "meter_stop_wh": meter_stop,
            "energy_wh": energy_wh,
            "stop_reason": reason,
        })
        txn.status = TransactionStatus.COMPLETED
        txn.stopped_at, txn.meter_stop_wh, txn.energy_wh = event.timestamp, meter_stop, energy_wh
        txn.stop_reason = reason
