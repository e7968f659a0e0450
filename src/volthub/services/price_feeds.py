"""Price feeds: import an hourly price series from CSV or JSON, by upload or from a URL."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

import httpx

from volthub.domain.billing import PriceFeed
from volthub.domain.errors import Conflict, InvalidInput, NotFound
from volthub.pricing.timeline import PricePoint
from volthub.services.ports import Clock
from volthub.storage.interface import Repositories, Storage

log = logging.getLogger("volthub.price_feeds")
DEFAULT_SLOT = timedelta(hours=1)


def parse_instant(value: Any, where: str) -> datetime:
    """An ISO 8601 date-time with Z or an offset; InvalidInput naming `where` otherwise."""
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{where}: not an ISO 8601 date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise InvalidInput(f"{where}: date-time needs an offset or Z: {value!r}")
    return parsed


def _price(value: Any, where: str) -> Decimal:
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidInput(f"{where}: price is not a number: {value!r}") from exc
    if not price.is_finite():
        raise InvalidInput(f"{where}: price is not a number: {value!r}")
    return price


def _point(row: dict[str, Any], where: str) -> PricePoint:
    if "starts_at" not in row or "price" not in row:
        raise InvalidInput(f"{where}: needs starts_at and price")
    starts_at = parse_instant(row["starts_at"], where)
    ends_at = (parse_instant(row["ends_at"], where) if row.get("ends_at") not in (None, "")
               else starts_at + DEFAULT_SLOT)
    if ends_at <= starts_at:
        raise InvalidInput(f"{where}: ends_at must be after starts_at")
    return PricePoint(starts_at, ends_at, _price(row["price"], where))


def parse_prices(body: str, content_type: str | None) -> list[PricePoint]:
    """CSV (header `starts_at,price[,ends_at]`) or JSON (a list, or {"prices": [...]}).

    Prices are per kWh excl. VAT in the feed's currency; a row without ends_at lasts one hour.
    """
    text = body.strip()
    if not text:
        raise InvalidInput("body: no prices (empty body)")
    is_json = (content_type or "").split(";")[0].strip().endswith("json") or text[0] in "[{"
    if is_json:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"body: invalid JSON: {exc}") from exc
        rows = data.get("prices") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput("body: expected a list of {starts_at, price[, ends_at]}")
        labelled = [(_point(r, f"prices[{i}]"), f"prices[{i}]") for i, r in enumerate(rows)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in reader.fieldnames or []]
        if "starts_at" not in header or "price" not in header:
            raise InvalidInput("body: CSV header must name starts_at and price")
        reader.fieldnames = header
        # reader.line_num: the physical line, right also after blank lines it skipped.
        labelled = [(_point(r, f"line {reader.line_num}"), f"line {reader.line_num}")
                    for r in reader]
    labelled.sort(key=lambda pl: pl[0].starts_at)
    for (a, a_at), (b, b_at) in pairwise(labelled):
        if b.starts_at < a.ends_at:
            raise InvalidInput(f"{b_at}: overlaps {a_at} (starts at {b.starts_at.isoformat()} "
                               f"before {a.ends_at.isoformat()})")
    return [p for p, _ in labelled]


class PriceFeedService:
    """Feeds and their prices; a session keeps the prices it was priced with (billing)."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    async def save(self, feed: PriceFeed) -> PriceFeed:
        await self.storage.write(lambda r: r.upsert_price_feed(feed))
        return feed

    async def create(self, feed: PriceFeed) -> PriceFeed:
        async def op(repos: Repositories) -> PriceFeed:
            if await repos.get_price_feed(feed.id) is not None:
                raise Conflict(f"price feed {feed.id} exists")
            await repos.upsert_price_feed(feed)
            return feed

        return await self.storage.write(op)

    async def get(self, feed_id: str) -> PriceFeed:
        feed = await self.storage.read(lambda r: r.get_price_feed(feed_id))
        if feed is None:
            raise NotFound(f"price feed {feed_id}")
        return feed

    async def all(self) -> list[PriceFeed]:
        return await self.storage.read(lambda r: r.list_price_feeds())

    async def delete(self, feed_id: str) -> None:
        async def op(repos: Repositories) -> None:
            if not await repos.delete_price_feed(feed_id):
                raise NotFound(f"price feed {feed_id}")

        await self.storage.write(op)

    async def import_prices(self, feed_id: str, body: str, content_type: str | None) -> int:
        points = parse_prices(body, content_type)

        async def op(repos: Repositories) -> int:
            if await repos.get_price_feed(feed_id) is None:
                raise NotFound(f"price feed {feed_id}")
            return await repos.upsert_feed_prices(feed_id, points)

        return await self.storage.write(op)

    async def prices(self, feed_id: str, start: datetime | None,
                     end: datetime | None) -> list[PricePoint]:
        await self.get(feed_id)
        return await self.storage.read(lambda r: r.list_feed_prices(feed_id, start, end))

    async def refresh(self, feed_id: str) -> int:
        """Fetch the feed's source_url now; the outcome is kept on the feed."""
        feed = await self.get(feed_id)
        if not feed.source_url:
            raise InvalidInput("source_url: the feed has no source to fetch")
        try:
            async with httpx.AsyncClient(timeout=15.0) as client:
                response = await client.get(feed.source_url)
                response.raise_for_status()
            count = await self.import_prices(feed_id, response.text,
                                             response.headers.get("content-type"))
            feed.last_error = None
        except (httpx.HTTPError, InvalidInput) as exc:
            feed.last_error = str(exc)[:500]
            feed.last_fetched_at = self.clock()
            await self.save(feed)
            raise InvalidInput(f"source_url: {feed.last_error}") from exc
        feed.last_fetched_at = self.clock()
        await self.save(feed)
        return count

    async def poll_due(self) -> None:
        """Refresh every feed whose poll interval has passed (called by housekeeping)."""
        now = self.clock()
        for feed in await self.all():
            if not feed.source_url or not feed.poll_interval_s:
                continue
            if feed.last_fetched_at and \
                    now - feed.last_fetched_at < timedelta(seconds=feed.poll_interval_s):
                continue
            try:
                await self.refresh(feed.id)
            except InvalidInput:
                log.warning("price feed refresh failed", extra={"feed": feed.id})
