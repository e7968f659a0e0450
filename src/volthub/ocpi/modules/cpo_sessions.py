"""Sessions module, CPO side (mod_sessions §Sender Interface): pull, charging preferences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from volthub.api.errors import describe_validation_errors
from volthub.ocpi.envelope import OcpiError, OcpiStatus, invalid, ocpi_response
from volthub.ocpi.http import ModuleCaller, PageDep, paged_response, roaming
from volthub.ocpi.schemas import ChargingPreferences, ChargingPreferencesResponse
from volthub.ocpi.sessions import SESSIONS_OUT

router = APIRouter()


@router.get("/sessions")
@router.get("/sessions/", include_in_schema=False)
async def list_sessions(request: Request, caller: ModuleCaller, page: PageDep) -> JSONResponse:
    """Sessions last updated in [date_from, date_to), oldest first, paginated.

    Who sees what (mod_sessions §Pull model; transport_and_format §Client Owned Object Pull):
    a platform gets the sessions of the tokens it gave us (pushed to our Tokens receiver or
    returned by its real-time authorization), i.e. of its own parties' drivers; a hub gets
    those of every party it gave tokens for. Other CPO data is never shown. date_from is
    "required" in the table but treated as optional, like every other pull interface."""
    objects, total = await roaming(request).storage.read(lambda r: r.list_roaming_objects(
        SESSIONS_OUT, page.limit, page.offset, page.date_from, page.date_to, caller.partner.id))
    return paged_response(request, page, [o.data for o in objects], total)


@router.put("/sessions/{session_id}/charging_preferences")
async def set_charging_preferences(request: Request, caller: ModuleCaller, session_id: str,
                                   body: Any = Body(...)) -> JSONResponse:
    try:
        ChargingPreferences.model_validate(body)
    except ValidationError as exc:
        raise invalid(describe_validation_errors(list(exc.errors()))) from None
    found = await roaming(request).storage.read(
        lambda r: r.find_roaming_objects(SESSIONS_OUT, session_id))
    if not any(o.partner_id == caller.partner.id for o in found):
        raise OcpiError(OcpiStatus.CLIENT_ERROR, f"unknown session {session_id!r}",
                        http_status=404)
    # No EVSE of ours has the capability CHARGING_PREFERENCES_CAPABLE; mod_sessions
    # §ChargingPreferencesResponse: then "respond with an HTTP status of 404 and an OCPI
    # status code of 2001". The data still says why, as a ChargingPreferencesResponse.
    return ocpi_response(ChargingPreferencesResponse.NOT_POSSIBLE.value,
                         OcpiStatus.INVALID_PARAMETERS,
                         "charging preferences are not supported at this EVSE", 404)
