"""OCPI 2.2.1 tariffs, eMSP role: the Receiver interface CPOs push their Tariffs to
(mod_tariffs §Receiver interface)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.domain.roaming import RoamingObject
from volthub.ocpi import schemas
from volthub.ocpi.emsp import dump, load, parse, require_party, same_id, save, stored_response
from volthub.ocpi.envelope import invalid, not_found, ocpi_response
from volthub.ocpi.http import ModuleCaller, roaming

router = APIRouter()
MODULE = "tariffs"
TARIFF = "/tariffs/{country_code}/{party_id}/{tariff_id}"


@router.get(TARIFF)
async def get_tariff(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                     tariff_id: str) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    obj = await load(roaming(request), MODULE, party, tariff_id)
    if obj is None:
        raise not_found(f"unknown tariff {tariff_id!r}")
    return ocpi_response(obj.data)


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
    # mod_tariffs §PUT request parameters: the URL's party "SHALL be the same value" as the
    # Tariff's.
    same_id("country_code", party[0], tariff.country_code)
    same_id("party_id", party[1], tariff.party_id)
    same_id("id", tariff_id, tariff.id)
    service = roaming(request)
    existing = await load(service, MODULE, party, tariff_id)
    await save(service, RoamingObject(MODULE, party[0], party[1], tariff_id, dump(tariff),
                                      tariff.last_updated, caller.partner.id))
    return stored_response(created=existing is None)


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
