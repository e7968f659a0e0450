"""OCPI 2.2.1 CDRs, eMSP role: the Receiver interface CPOs POST our drivers' CDRs to
(mod_cdrs §Receiver interface)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.domain.roaming import RoamingObject
from volthub.ocpi import schemas
from volthub.ocpi.emsp import dump, load, may_speak_for, parse, require_party
from volthub.ocpi.envelope import OcpiError, OcpiStatus, invalid, not_found, ocpi_response
from volthub.ocpi.http import ModuleCaller, base_url, roaming
from volthub.ocpi.registration import VERSION
from volthub.storage.interface import Repositories

router = APIRouter()
MODULE = "cdrs"


@router.post("/cdrs")
async def post_cdr(request: Request, caller: ModuleCaller,
                   body: Any = Body(...)) -> JSONResponse:
    """mod_cdrs §POST: a new CDR; the answer's Location header is where we keep it.

    CDRs cannot be replaced (PUT "n/a (CDRs cannot be replaced)"; a correction is a Credit
    CDR with its own id). The same CDR POSTed again (a retry after a lost answer) is
    acknowledged as stored; a different CDR under a known id is refused with 2001."""
    cdr = parse(schemas.CDR, body)
    if not may_speak_for(caller.partner, cdr.country_code, cdr.party_id):
        raise OcpiError(OcpiStatus.CLIENT_ERROR, f"{cdr.country_code}*{cdr.party_id} is not a "
                        "party of this platform's credentials")
    party = (cdr.country_code.upper(), cdr.party_id.upper())
    document = dump(cdr)
    service = roaming(request)
    location = {"Location": f"{base_url(request)}/ocpi/emsp/{VERSION}/cdrs/"
                            f"{party[0]}/{party[1]}/{quote(cdr.id, safe='')}"}

    async def store(r: Repositories) -> bool | None:
        """True stored, False already there (same document), None a different one is."""
        existing = await r.get_roaming_object(MODULE, party[0], party[1], cdr.id)
        if existing is not None:
            return False if existing.data == document else None
        await r.upsert_roaming_object(RoamingObject(MODULE, party[0], party[1], cdr.id,
                                                    document, cdr.last_updated,
                                                    caller.partner.id))
        return True

    stored = await service.storage.write(store)
    if stored is None:
        raise invalid(f"CDR {cdr.id!r} exists with other content; CDRs cannot be replaced "
                      "(send a Credit CDR)")
    return ocpi_response(None, http_status=201 if stored else 200, headers=location)


@router.get("/cdrs/{country_code}/{party_id}/{cdr_id}")
async def get_cdr(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                  cdr_id: str) -> JSONResponse:
    """The URL we gave in the POST's Location header (mod_cdrs §GET: ours to define)."""
    party = require_party(caller, country_code, party_id)
    obj = await load(roaming(request), MODULE, party, cdr_id)
    if obj is None:
        raise not_found(f"unknown CDR {cdr_id!r}")
    return ocpi_response(obj.data)


@router.get("/cdrs/{cdr_id}")
async def get_cdr_by_id(request: Request, caller: ModuleCaller, cdr_id: str) -> JSONResponse:
    """A CDR by id alone, among the parties the caller speaks for."""
    found = await roaming(request).storage.read(lambda r: r.find_roaming_objects(MODULE, cdr_id))
    mine = [o for o in found if may_speak_for(caller.partner, o.country_code, o.party_id)]
    if not mine:
        raise not_found(f"unknown CDR {cdr_id!r}")
    return ocpi_response(mine[0].data)
