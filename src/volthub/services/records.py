"""Read access to what stations reported: transactions, readings, message log, security events."""

from __future__ import annotations

from volthub.domain.errors import NotFound
from volthub.domain.model import (
    MessageRecord,
    MeterReading,
    Reservation,
    SecurityEvent,
    Transaction,
)
from volthub.storage.interface import Storage


class RecordService:
    """Queries of the transactions and message-log resources of the admin API."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def transaction(self, txn_id: int) -> Transaction:
        txn = await self.storage.read(lambda r: r.get_transaction(txn_id))
        if txn is None:
            raise NotFound(f"transaction {txn_id} not found")
        return txn

    async def transactions(
        self, station_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Transaction], int]:
        return await self.storage.read(
            lambda r: r.list_transactions(station_id, status, limit, offset)
        )

    async def readings(self, txn_id: int) -> list[MeterReading]:
        await self.transaction(txn_id)
        return await self.storage.read(lambda r: r.list_readings(txn_id))

    async def messages(self, station_id: str, limit: int) -> list[MessageRecord]:
        await self.require_station(station_id)
        return await self.storage.read(lambda r: r.list_messages(station_id, limit))

    async def security_events(self, station_id: str, limit: int) -> list[SecurityEvent]:
        await self.require_station(station_id)
        return await self.storage.read(lambda r: r.list_security_events(station_id, limit))

    async def reservations(self, station_id: str, limit: int) -> list[Reservation]:
        await self.require_station(station_id)
        return await self.storage.read(lambda r: r.list_reservations(station_id, limit))

    async def require_station(self, station_id: str) -> None:
        if await self.storage.read(lambda r: r.get_station(station_id)) is None:
            raise NotFound(f"station {station_id!r} not found")
