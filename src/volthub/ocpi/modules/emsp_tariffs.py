"""OCPI 2.2.1 tariffs, eMSP role: the Receiver interface CPOs push their Tariffs to
(mod_tariffs §Receiver interface)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.ocpi import schemas
from volthub.ocpi.emsp import (
    parse,
    replace_object,
    require_party,
    stored_document,
)
from volthub.ocpi.envelope import invalid, not_found, ocpi_response
from volthub.ocpi.http import ModuleCaller, roaming

router = APIRouter()
MODULE = "tariffs"
TARIFF = "/tariffs/{country_code}/{party_id}/{tariff_id}"


@router.get(TARIFF)
async def get_tariff(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                     tariff_id: str) -> JSONResponse:
    return ocpi_response(await stored_document(roaming(request), caller, MODULE, country_code,
                                               party_id, tariff_id, "tariff"))


@router.put(TARIFF)
async def put_tariff(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                     tariff_id: str, body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    tariff = parse(schemas.Tariff, body)
    # volthub's Tariff model leaves these optional (our own tariffs get them on the way out);
    # mod_tariffs §Tariff object makes them required in what a CPO sends.
    missing = [name for name in ("country_code", "party_id", "last_updated")
               if getattr(tariff, name) is None]
    if missing:
        raise invalid(f"Tariff: {', '.join(missing)}: Field required")
    assert tariff.last_updated is not None
    return await replace_object(roaming(request), caller, MODULE, party, tariff_id, tariff,
                                tariff.last_updated)


@router.delete(TARIFF)
async def delete_tariff(request: Request, caller: ModuleCaller, country_code: str,
                        party_id: str, tariff_id: str) -> JSONResponse:
    """mod_tariffs §DELETE: a Tariff no longer used."""
    party = require_party(caller, country_code, party_id)
    deleted = await roaming(request).storage.write(
        lambda r: r.delete_roaming_object(MODULE, party[0], party[1], tariff_id))
    if not deleted:
        raise not_found(f"unknown tariff {tariff_id!r}")
    return ocpi_response(None)
