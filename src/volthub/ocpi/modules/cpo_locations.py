"""OCPI 2.2.1 locations, CPO role: the Sender interface (mod_locations §Sender Interface)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from volthub.ocpi.envelope import OcpiError, OcpiStatus, ocpi_response
from volthub.ocpi.http import ModuleCaller, PageDep, paged_response, roaming
from volthub.ocpi.locations import LocationCatalog, find_connector, find_evse
from volthub.ocpi.schemas import parse_ocpi_datetime

router = APIRouter()


def _catalog(request: Request) -> LocationCatalog:
    return LocationCatalog.of(roaming(request))


@router.get("/locations")
@router.get("/locations/", include_in_schema=False)
async def list_locations(request: Request, _: ModuleCaller, page: PageDep) -> JSONResponse:
    """GET List: every Location with EVSEs, by id, paginated, filtered on last_updated."""
    documents = [d for d in await _catalog(request).all()
                 if page.covers(parse_ocpi_datetime(d["last_updated"]))]
    return paged_response(request, page, documents[page.offset:page.offset + page.limit],
                          len(documents))


async def _location(request: Request, location_id: str) -> dict[str, Any]:
    document = await _catalog(request).get(location_id)
    if document is None:
        # status_codes: a GET of an object that does not exist is an HTTP 404.
        raise OcpiError(OcpiStatus.UNKNOWN_LOCATION, f"unknown location {location_id!r}",
                        http_status=404)
    return document


async def _evse(request: Request, location_id: str, evse_uid: str) -> dict[str, Any]:
    evse = find_evse(await _location(request, location_id), evse_uid)
    if evse is None:
        raise OcpiError(OcpiStatus.CLIENT_ERROR,
                        f"unknown EVSE {evse_uid!r} at location {location_id!r}", http_status=404)
    return evse


@router.get("/locations/{location_id}")
async def get_location(request: Request, _: ModuleCaller, location_id: str) -> JSONResponse:
    return ocpi_response(await _location(request, location_id))


@router.get("/locations/{location_id}/{evse_uid}")
async def get_evse(request: Request, _: ModuleCaller, location_id: str,
                   evse_uid: str) -> JSONResponse:
    return ocpi_response(await _evse(request, location_id, evse_uid))


@router.get("/locations/{location_id}/{evse_uid}/{connector_id}")
async def get_connector(request: Request, _: ModuleCaller, location_id: str, evse_uid: str,
                        connector_id: str) -> JSONResponse:
    connector = find_connector(await _evse(request, location_id, evse_uid), connector_id)
    if connector is None:
        raise OcpiError(OcpiStatus.CLIENT_ERROR,
                        f"unknown connector {connector_id!r} of EVSE {evse_uid!r}",
                        http_status=404)
    return ocpi_response(connector)
