"""OCPI 2.2.1 sessions, eMSP role: the Receiver interface CPOs push our drivers' Sessions to
(mod_sessions §Receiver interface)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.domain.roaming import RoamingObject
from volthub.ocpi import schemas
from volthub.ocpi.emsp import (
    dump,
    modify,
    parse,
    parse_patch,
    replace_object,
    require_party,
    same_id,
    stored_document,
)
from volthub.ocpi.envelope import ocpi_response
from volthub.ocpi.http import ModuleCaller, roaming

router = APIRouter()
MODULE = "sessions"
SESSION = "/sessions/{country_code}/{party_id}/{session_id}"


@router.get(SESSION)
async def get_session(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                      session_id: str) -> JSONResponse:
    return ocpi_response(await stored_document(roaming(request), caller, MODULE, country_code,
                                               party_id, session_id, "session"))


@router.put(SESSION)
async def put_session(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                      session_id: str, body: Any = Body(...)) -> JSONResponse:
    """mod_sessions §PUT: the new Session replaces the stored one, charging_periods included
    (none given: none kept)."""
    party = require_party(caller, country_code, party_id)
    session = parse(schemas.Session, body)
    return await replace_object(roaming(request), caller, MODULE, party, session_id, session,
                                session.last_updated)


@router.patch(SESSION)
async def patch_session(request: Request, caller: ModuleCaller, country_code: str,
                        party_id: str, session_id: str, body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    patch = parse_patch(schemas.Session, body)
    same_id("country_code", party[0], patch.get("country_code"))
    same_id("party_id", party[1], patch.get("party_id"))
    same_id("id", session_id, patch.get("id"))

    def change(obj: RoamingObject) -> tuple[dict[str, Any], datetime, bool]:
        merged = {**obj.data, **patch}
        # mod_sessions §PATCH: charging_periods given are "a request to add all the
        # ChargingPeriod objects to the existing Session"; an empty list changes nothing.
        merged["charging_periods"] = [*(obj.data.get("charging_periods") or []),
                                      *(patch.get("charging_periods") or [])]
        if not merged["charging_periods"]:
            del merged["charging_periods"]
        session = parse(schemas.Session, merged)
        return dump(session), session.last_updated, False

    await modify(roaming(request), MODULE, party, session_id, caller.partner.id, change,
                 f"unknown session {session_id!r}")
    return ocpi_response(None)
