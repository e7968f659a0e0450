"""Billing repositories (tariffs, assignments, price feeds, pricing snapshots, CDRs) in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from volthub.domain.billing import CdrRecord, PriceFeed, TariffAssignment, TransactionPricing
from volthub.domain.enums import TransactionStatus
from volthub.domain.model import Transaction
from volthub.domain.tariffs import Tariff
from volthub.pricing.timeline import PricePoint
from volthub.storage.sql import tables as t
from volthub.storage.sql.base import SqlBase
from volthub.storage.sql.base import utc as _utc


def _series_to_json(series: dict[str, list[PricePoint]]) -> dict[str, list[list[str]]]:
    return {feed: [[p.starts_at.isoformat(), p.ends_at.isoformat(), str(p.price)] for p in points]
            for feed, points in series.items()}


def _series_from_json(raw: dict[str, list[list[str]]]) -> dict[str, list[PricePoint]]:
    return {feed: [PricePoint(datetime.fromisoformat(a), datetime.fromisoformat(b), Decimal(p))
                   for a, b, p in points]
            for feed, points in raw.items()}


def _assignment(row: Row[Any]) -> TariffAssignment:
    m = row._mapping
    return TariffAssignment(
        id=m["id"], tariff_id=m["tariff_id"], location_id=m["location_id"],
        station_id=m["station_id"], evse_id=m["evse_id"], group_id=m["group_id"],
        priority=m["priority"], created_at=_utc(m["created_at"]),
    )


def _feed(row: Row[Any]) -> PriceFeed:
    m = row._mapping
    return PriceFeed(
        id=m["id"], name=m["name"], currency=m["currency"], source_url=m["source_url"],
        poll_interval_s=m["poll_interval_s"], last_fetched_at=_utc(m["last_fetched_at"]),
        last_error=m["last_error"],
    )


def _cdr(row: Row[Any]) -> CdrRecord:
    m = row._mapping
    return CdrRecord(
        id=m["id"], transaction_id=m["transaction_id"], station_id=m["station_id"],
        location_id=m["location_id"], id_token=m["id_token"],
        start_date_time=_utc(m["start_date_time"]),  # type: ignore[arg-type]
        end_date_time=_utc(m["end_date_time"]),  # type: ignore[arg-type]
        currency=m["currency"],
        total_cost_excl_vat=Decimal(m["total_cost_excl_vat"]),
        total_cost_incl_vat=Decimal(m["total_cost_incl_vat"]),
        total_energy_kwh=Decimal(m["total_energy_kwh"]),
        credit=bool(m["credit"]), credit_reference_id=m["credit_reference_id"],
        created_at=_utc(m["created_at"]),  # type: ignore[arg-type]
        document=m["document"],
    )


class SqlBillingRepositories(SqlBase):
    """Mixed into SqlRepositories; shares its connection."""

    # tariffs ----------------------------------------------------------------------------
    async def get_tariff(self, tariff_id: str) -> Tariff | None:
        row = (await self.conn.execute(
            select(t.tariffs.c.document).where(t.tariffs.c.id == tariff_id))).first()
        return Tariff.model_validate(row[0]) if row else None

    async def upsert_tariff(self, tariff: Tariff) -> None:
        values = {
            "currency": tariff.currency,
            "type": tariff.type.value if tariff.type else None,
            "start_date_time": tariff.start_date_time,
            "end_date_time": tariff.end_date_time,
            "last_updated": tariff.last_updated,
            "document": tariff.model_dump(mode="json", exclude_none=True),
        }
        stmt = self._insert(t.tariffs).values(id=tariff.id, **values)
        await self.conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    async def delete_tariff(self, tariff_id: str) -> bool:
        result = await self.conn.execute(delete(t.tariffs).where(t.tariffs.c.id == tariff_id))
        return bool(result.rowcount)

    async def list_tariffs(self, limit: int, offset: int) -> tuple[list[Tariff], int]:
        rows = await self.conn.execute(
            select(t.tariffs.c.document).order_by(t.tariffs.c.id).limit(limit).offset(offset))
        return [Tariff.model_validate(r[0]) for r in rows], await self._count(t.tariffs)

    async def insert_tariff_assignment(self, assignment: TariffAssignment) -> int:
        result = await self.conn.execute(insert(t.tariff_assignments).values(
            tariff_id=assignment.tariff_id, location_id=assignment.location_id,
            station_id=assignment.station_id, evse_id=assignment.evse_id,
            group_id=assignment.group_id, priority=assignment.priority,
            created_at=assignment.created_at or datetime.now(UTC),
        ))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def delete_tariff_assignment(self, assignment_id: int) -> bool:
        result = await self.conn.execute(
            delete(t.tariff_assignments).where(t.tariff_assignments.c.id == assignment_id))
        return bool(result.rowcount)

    async def list_tariff_assignments(self, tariff_id: str | None) -> list[TariffAssignment]:
        stmt = select(t.tariff_assignments).order_by(t.tariff_assignments.c.id)
        if tariff_id is not None:
            stmt = stmt.where(t.tariff_assignments.c.tariff_id == tariff_id)
        return [_assignment(r) for r in await self.conn.execute(stmt)]

    # price feeds ------------------------------------------------------------------------
    async def get_price_feed(self, feed_id: str) -> PriceFeed | None:
        row = (await self.conn.execute(
            select(t.price_feeds).where(t.price_feeds.c.id == feed_id))).first()
        return _feed(row) if row else None

    async def upsert_price_feed(self, feed: PriceFeed) -> None:
        values = {"name": feed.name, "currency": feed.currency, "source_url": feed.source_url,
                  "poll_interval_s": feed.poll_interval_s,
                  "last_fetched_at": feed.last_fetched_at, "last_error": feed.last_error}
        stmt = self._insert(t.price_feeds).values(id=feed.id, **values)
        await self.conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    async def delete_price_feed(self, feed_id: str) -> bool:
        await self.conn.execute(
            delete(t.price_feed_prices).where(t.price_feed_prices.c.feed_id == feed_id))
        result = await self.conn.execute(delete(t.price_feeds).where(t.price_feeds.c.id == feed_id))
        return bool(result.rowcount)

    async def list_price_feeds(self) -> list[PriceFeed]:
        rows = await self.conn.execute(select(t.price_feeds).order_by(t.price_feeds.c.id))
        return [_feed(r) for r in rows]

    async def upsert_feed_prices(self, feed_id: str, points: Sequence[PricePoint]) -> int:
        for p in points:
            values = {"ends_at": p.ends_at, "price": str(p.price)}
            stmt = self._insert(t.price_feed_prices).values(
                feed_id=feed_id, starts_at=p.starts_at, **values)
            await self.conn.execute(stmt.on_conflict_do_update(
                index_elements=["feed_id", "starts_at"], set_=values))
        return len(points)

    async def list_feed_prices(
        self, feed_id: str, start: datetime | None, end: datetime | None
    ) -> list[PricePoint]:
        c = t.price_feed_prices.c
        stmt = select(t.price_feed_prices).where(c.feed_id == feed_id).order_by(c.starts_at)
        if start is not None:
            stmt = stmt.where(c.ends_at > start)
        if end is not None:
            stmt = stmt.where(c.starts_at < end)
        return [PricePoint(_utc(m["starts_at"]), _utc(m["ends_at"]),  # type: ignore[arg-type]
                           Decimal(m["price"]))
                for m in (r._mapping for r in await self.conn.execute(stmt))]

    # session pricing and states ---------------------------------------------------------
    async def get_transaction_pricing(self, transaction_id: int) -> TransactionPricing | None:
        row = (await self.conn.execute(select(t.transaction_pricing).where(
            t.transaction_pricing.c.transaction_id == transaction_id))).first()
        if row is None:
            return None
        m = row._mapping
        return TransactionPricing(
            transaction_id=transaction_id, tariff=Tariff.model_validate(m["tariff"]),
            time_zone=m["time_zone"], priced_at=_utc(m["priced_at"]),  # type: ignore[arg-type]
            series=_series_from_json(m["series"]),
        )

    async def insert_transaction_pricing(self, pricing: TransactionPricing) -> bool:
        stmt = self._insert(t.transaction_pricing).values(
            transaction_id=pricing.transaction_id, tariff_id=pricing.tariff.id,
            tariff=pricing.tariff.model_dump(mode="json", exclude_none=True),
            time_zone=pricing.time_zone, series=_series_to_json(pricing.series),
            priced_at=pricing.priced_at,
        ).on_conflict_do_nothing(index_elements=["transaction_id"])
        return bool((await self.conn.execute(stmt)).rowcount)

    async def update_pricing_series(
        self, transaction_id: int, series: dict[str, list[PricePoint]]
    ) -> None:
        await self.conn.execute(update(t.transaction_pricing).where(
            t.transaction_pricing.c.transaction_id == transaction_id,
        ).values(series=_series_to_json(series)))

    async def insert_charge_state(self, transaction_id: int, at: datetime, state: str) -> None:
        await self.conn.execute(insert(t.charge_states).values(
            transaction_id=transaction_id, at=at, state=state))

    async def list_charge_states(self, transaction_id: int) -> list[tuple[datetime, str]]:
        c = t.charge_states.c
        rows = await self.conn.execute(select(c.at, c.state).where(
            c.transaction_id == transaction_id).order_by(c.at, c.id))
        return [(_utc(r[0]), r[1]) for r in rows]  # type: ignore[misc]

    async def active_transaction_on(self, station_id: str, evse_id: int) -> Transaction | None:
        c = t.transactions.c
        row = (await self.conn.execute(select(t.transactions.c.id).where(
            c.station_id == station_id, c.evse_id == evse_id,
            c.status == TransactionStatus.ACTIVE.value,
        ).order_by(c.id.desc()).limit(1))).first()
        if row is None:
            return None
        return await self.get_transaction(int(row[0]))  # type: ignore[attr-defined,no-any-return]

    # CDRs -------------------------------------------------------------------------------
    async def insert_cdr(self, cdr: CdrRecord) -> bool:
        stmt = self._insert(t.cdrs).values(
            id=cdr.id, transaction_id=cdr.transaction_id, station_id=cdr.station_id,
            location_id=cdr.location_id, id_token=cdr.id_token,
            start_date_time=cdr.start_date_time, end_date_time=cdr.end_date_time,
            currency=cdr.currency, total_cost_excl_vat=str(cdr.total_cost_excl_vat),
            total_cost_incl_vat=str(cdr.total_cost_incl_vat),
            total_energy_kwh=str(cdr.total_energy_kwh), credit=cdr.credit,
            credit_reference_id=cdr.credit_reference_id, created_at=cdr.created_at,
            document=cdr.document,
        ).on_conflict_do_nothing(index_elements=["id"])
        return bool((await self.conn.execute(stmt)).rowcount)

    async def get_cdr(self, cdr_id: str) -> CdrRecord | None:
        row = (await self.conn.execute(select(t.cdrs).where(t.cdrs.c.id == cdr_id))).first()
        return _cdr(row) if row else None

    async def cdrs_of_transaction(self, transaction_id: int) -> list[CdrRecord]:
        rows = await self.conn.execute(select(t.cdrs).where(
            t.cdrs.c.transaction_id == transaction_id).order_by(t.cdrs.c.created_at, t.cdrs.c.id))
        return [_cdr(r) for r in rows]

    async def list_cdrs(
        self, station_id: str | None, date_from: datetime | None, date_to: datetime | None,
        limit: int | None, offset: int,
    ) -> tuple[list[CdrRecord], int]:
        c = t.cdrs.c
        where = []
        if station_id is not None:
            where.append(c.station_id == station_id)
        if date_from is not None:
            where.append(c.end_date_time >= date_from)
        if date_to is not None:
            where.append(c.end_date_time < date_to)
        stmt = select(t.cdrs).where(*where).order_by(c.end_date_time, c.id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = await self.conn.execute(stmt)
        return [_cdr(r) for r in rows], await self._count(t.cdrs, *where)

    async def completed_transactions_without_cdr(self, limit: int) -> list[int]:
        tx = t.transactions.c
        stmt = (select(tx.id)
                .select_from(t.transactions.outerjoin(t.cdrs, t.cdrs.c.transaction_id == tx.id))
                .where(tx.status == TransactionStatus.COMPLETED.value, t.cdrs.c.id.is_(None))
                .order_by(tx.id).limit(limit))
        return [int(r[0]) for r in await self.conn.execute(stmt)]
