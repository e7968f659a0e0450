"""OCPI 2.2.1 tariffs, CPO role: the Sender interface (mod_tariffs §Sender Interface)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from volthub.domain.tariffs import Tariff
from volthub.ocpi.http import ModuleCaller, PageDep, paged_response, roaming
from volthub.ocpi.registration import OcpiIdentity
from volthub.ocpi.schemas import format_ocpi_datetime
from volthub.storage.interface import Repositories

router = APIRouter()

# volthub's own PriceComponent fields (dynamic prices from a price feed): not OCPI, never sent.
_EXTENSIONS = ("price_feed_id", "price_feed_markup")
_PAGE = 500


def tariff_document(tariff: Tariff, identity: OcpiIdentity) -> dict[str, Any]:
    """mod_tariffs §Tariff object as we publish it: ours (country_code, party_id), DateTimes
    in the types §DateTime form, without volthub's extensions."""
    doc = tariff.model_dump(mode="json", exclude_none=True)
    doc["country_code"] = identity.country_code
    doc["party_id"] = identity.party_id
    for name in ("start_date_time", "end_date_time", "last_updated"):
        value = getattr(tariff, name)
        if value is not None:
            doc[name] = format_ocpi_datetime(value)
    if not doc.get("tariff_alt_text"):
        doc.pop("tariff_alt_text", None)
    for element in doc["elements"]:
        for component in element["price_components"]:
            for name in _EXTENSIONS:
                component.pop(name, None)
    return doc


async def all_tariffs(repos: Repositories) -> list[Tariff]:
    tariffs: list[Tariff] = []
    while True:
        page, _ = await repos.list_tariffs(_PAGE, len(tariffs))
        tariffs.extend(page)
        if len(page) < _PAGE:
            return tariffs


@router.get("/tariffs")
@router.get("/tariffs/", include_in_schema=False)
async def list_tariffs(request: Request, _: ModuleCaller, page: PageDep) -> JSONResponse:
    """GET: our tariffs by id, paginated, filtered on last_updated."""
    service = roaming(request)
    tariffs = await service.storage.read(all_tariffs)
    # volthub stamps last_updated on every change; one without it could not be a valid Tariff.
    chosen = [t for t in tariffs
              if t.last_updated is not None and page.covers(t.last_updated)]
    items = [tariff_document(t, service.identity)
             for t in chosen[page.offset:page.offset + page.limit]]
    return paged_response(request, page, items, len(chosen))
