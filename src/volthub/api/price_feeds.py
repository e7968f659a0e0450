"""Admin API: /price-feeds, hourly price series that dynamic ENERGY prices follow."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from volthub.api.billing_schemas import (
    ImportResult,
    PriceFeedIn,
    PriceFeedOut,
    PricePointOut,
    query_instant,
)
from volthub.api.deps import PagingDep, ServicesDep
from volthub.api.schemas import Page
from volthub.domain.billing import PriceFeed

router = APIRouter(prefix="/price-feeds", tags=["price feeds"])


@router.get("", response_model=Page[PriceFeedOut])
async def list_feeds(services: ServicesDep, paging: PagingDep) -> Page[PriceFeedOut]:
    found = await services.price_feeds.all()
    window = found[paging.offset:paging.offset + paging.limit]
    return Page(items=[PriceFeedOut.of(f) for f in window], total=len(found),
                limit=paging.limit, offset=paging.offset)


@router.post("", response_model=PriceFeedOut, status_code=201)
async def create_feed(body: PriceFeedIn, services: ServicesDep) -> PriceFeedOut:
    return PriceFeedOut.of(await services.price_feeds.create(PriceFeed(**body.model_dump())))


@router.get("/{feed_id}", response_model=PriceFeedOut)
async def get_feed(feed_id: str, services: ServicesDep) -> PriceFeedOut:
    return PriceFeedOut.of(await services.price_feeds.get(feed_id))


@router.delete("/{feed_id}", status_code=204)
async def delete_feed(feed_id: str, services: ServicesDep) -> Response:
    await services.price_feeds.delete(feed_id)
    return Response(status_code=204)


@router.put("/{feed_id}/prices", response_model=ImportResult)
async def import_prices(feed_id: str, request: Request, services: ServicesDep) -> ImportResult:
    """Body: CSV (`starts_at,price[,ends_at]`) or JSON (`[{starts_at, price, ends_at?}]`)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    count = await services.price_feeds.import_prices(feed_id, body,
                                                     request.headers.get("content-type"))
    return ImportResult(imported=count)


@router.get("/{feed_id}/prices", response_model=list[PricePointOut])
async def list_prices(feed_id: str, services: ServicesDep, date_from: str | None = None,
                      date_to: str | None = None) -> list[PricePointOut]:
    points = await services.price_feeds.prices(
        feed_id, query_instant(date_from, "date_from"), query_instant(date_to, "date_to"))
    return [PricePointOut(starts_at=p.starts_at, ends_at=p.ends_at, price=p.price)
            for p in points]


@router.post("/{feed_id}/refresh", response_model=ImportResult)
async def refresh_feed(feed_id: str, services: ServicesDep) -> ImportResult:
    return ImportResult(imported=await services.price_feeds.refresh(feed_id))
