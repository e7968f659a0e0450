"""Transaction accounting: start, meter values and stop, idempotent and owned by one station."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from volthub.domain.enums import AuthStatus, ReservationStatus, TransactionStatus
from volthub.domain.errors import OwnershipViolation
from volthub.domain.model import Authorization, MeterReading, Transaction
from volthub.services.authorization import authorize
from volthub.services.events import DomainEvents
from volthub.services.ports import Clock, NoSessionListener, SessionListener
from volthub.services.stations import StationService
from volthub.storage.interface import Repositories, Storage

log = logging.getLogger("volthub.transactions")

ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(slots=True, frozen=True)
class StartResult:
    transaction: Transaction
    authorization: Authorization


@dataclass(slots=True, frozen=True)
class StopResult:
    transaction: Transaction | None
    authorization: Authorization | None
    duplicate: bool


async def _foreign_transaction(
    repos: Repositories, station_id: str, reference: str
) -> Transaction | None:
    """A transaction with this reference that belongs to another station (1.6 ids are global)."""
    if not reference.isdigit():
        return None
    txn = await repos.get_transaction(int(reference))
    if txn is not None and txn.station_id != station_id and txn.station_transaction_id == reference:
        return txn
    return None


class TransactionService:
    """Records what stations report about transactions; facts are recorded, never fought."""

    def __init__(self, storage: Storage, clock: Clock, stations: StationService,
                 listener: SessionListener | None = None) -> None:
        self.storage = storage
        self.clock = clock
        self.stations = stations
        self.listener: SessionListener = listener or NoSessionListener()
        self.events = DomainEvents()

    async def start(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int,
        id_token: str | None,
        meter_start_wh: int | None,
        started_at: datetime,
        reservation_id: int | None = None,
        reference: str | None = None,
        start_key: str | None = None,
    ) -> StartResult:
        """Create (or find again) a transaction; without `reference` our id becomes the reference."""
        now = self.clock()

        async def op(repos: Repositories) -> StartResult:
            if start_key is not None:
                existing = await repos.find_transaction_by_start_key(station_id, start_key)
                if existing is not None:
                    auth = Authorization(existing.auth_status or AuthStatus.UNKNOWN)
                    if id_token is not None:
                        auth = await authorize(repos, id_token, now)
                    return StartResult(existing, auth)
            auth = (
                await authorize(repos, id_token, now)
                if id_token is not None
                else Authorization(AuthStatus.ACCEPTED)
            )
            txn = Transaction(
                id=0,
                station_id=station_id,
                station_transaction_id=reference or "",
                evse_id=evse_id,
                connector_id=connector_id,
                id_token=id_token,
                auth_status=auth.status,
                status=TransactionStatus.ACTIVE,
                started_at=started_at,
                meter_start_wh=meter_start_wh,
                reservation_id=reservation_id,
            )
            if reference is None:
                # The insert needs a unique placeholder; the id drawn by the database replaces it.
                txn.station_transaction_id = f"pending:{uuid.uuid4().hex}"
            txn.id = await repos.insert_transaction(txn, start_key)
            if reference is None:
                txn.station_transaction_id = str(txn.id)
                await repos.set_station_transaction_id(txn.id, txn.station_transaction_id)
            if reservation_id is not None:
                reservation = await repos.get_reservation(reservation_id)
                if reservation is not None and reservation.station_id == station_id:
                    await repos.update_reservation_status(reservation_id, ReservationStatus.USED)
            return StartResult(txn, auth)

        result = await self.storage.write(op)
        try:
            await self.listener.session_started(result.transaction)
        except Exception:
            log.exception("session start not priced", extra={"station_id": station_id})
        self.events.emit("session_started", result.transaction)
        return result

    async def stop(
        self,
        station_id: str,
        reference: str,
        meter_stop_wh: int | None,
        stopped_at: datetime,
        reason: str | None,
        id_token: str | None,
        readings: Sequence[tuple[int, MeterReading]] = (),
    ) -> StopResult:
        """Close a transaction once; a repeated or late stop is answered and changes nothing."""
        now = self.clock()

        async def op(repos: Repositories) -> StopResult:
            auth = await authorize(repos, id_token, now) if id_token else None
            txn = await repos.get_transaction_by_reference(station_id, reference)
            if txn is None:
                if await _foreign_transaction(repos, station_id, reference):
                    raise OwnershipViolation(reference)
                return StopResult(None, auth, duplicate=False)
            if txn.status is TransactionStatus.COMPLETED:
                return StopResult(txn, auth, duplicate=True)
            for evse_id, reading in readings:
                await repos.insert_readings(station_id, evse_id, txn.id, [reading])
            energy_wh = None
            if txn.meter_start_wh is not None and meter_stop_wh is not None:
                energy_wh = meter_stop_wh - txn.meter_start_wh
            else:
                register = await repos.energy_register_range(txn.id)
                if register is not None:
                    energy_wh = round(register[1] - register[0])
            fields = {
                "status": TransactionStatus.COMPLETED.value,
                "stopped_at": stopped_at,
                "meter_stop_wh": meter_stop_wh,
                "energy_wh": energy_wh,
                "stop_reason": reason,
                "stop_id_token": id_token,
            }
            await repos.update_transaction(txn.id, fields)
            txn.status = TransactionStatus.COMPLETED
            txn.stopped_at, txn.meter_stop_wh, txn.energy_wh = stopped_at, meter_stop_wh, energy_wh
            txn.stop_reason, txn.stop_id_token = reason, id_token
            return StopResult(txn, auth, duplicate=False)

        try:
            result = await self.storage.write(op)
        except OwnershipViolation:
            await self._ownership_violation(station_id, reference, "StopTransaction")
            raise
        if result.transaction is not None and not result.duplicate:
            await self.listener.session_ended(result.transaction)
            self.events.emit("session_ended", result.transaction)
        if result.transaction is None:
            log.warning("stop for unknown transaction", extra={"station_id": station_id,
                                                               "reference": reference})
        return result

    async def meter_values(
        self,
        station_id: str,
        evse_id: int,
        reference: str | None,
        readings: Sequence[MeterReading],
    ) -> None:
        """Store readings, in or outside a transaction; never for another station's transaction."""

        async def op(repos: Repositories) -> Transaction | None:
            txn = None
            if reference is not None:
                txn = await repos.get_transaction_by_reference(station_id, reference)
                if txn is None and await _foreign_transaction(repos, station_id, reference):
                    raise OwnershipViolation(reference)
            await repos.insert_readings(station_id, evse_id, txn.id if txn else None, readings)
            return txn

        try:
            txn = await self.storage.write(op)
            if txn is not None and txn.status is TransactionStatus.ACTIVE:
                self.events.emit("session_updated", txn)
        except OwnershipViolation:
            await self._ownership_violation(station_id, reference or "", "MeterValues")
            raise

    async def _ownership_violation(self, station_id: str, reference: str, action: str) -> None:
        await self.stations.record_security_event(
            station_id,
            "TransactionOwnershipViolation",
            f"{action} named transaction {reference} of another station",
        )
