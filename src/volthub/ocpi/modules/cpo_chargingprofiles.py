"""OCPI 2.2.1 chargingprofiles module, CPO role: the Receiver interface (GET/PUT/DELETE)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from volthub.ocpi.http import ModuleCaller
from volthub.ocpi.modules.cpo_commands import answer, cpo_commands
from volthub.ocpi.schemas import Url

router = APIRouter()
PATH = "/chargingprofiles/{session_id}"


@router.get(PATH)
async def get_active_profile(request: Request, session_id: str, caller: ModuleCaller,
                             duration: Annotated[int, Query(ge=1)],
                             response_url: Annotated[Url, Query()]) -> JSONResponse:
    """§GET: the ActiveChargingProfile of an ongoing session, POSTed to response_url."""
    return answer(await cpo_commands(request).get_active_profile(
        caller, session_id, duration, response_url))


@router.put(PATH)
async def set_profile(request: Request, session_id: str, caller: ModuleCaller,
                      body: Any = Body(...)) -> JSONResponse:
    """§PUT: a SetChargingProfile becomes the session's TxProfile on the station."""
    return answer(await cpo_commands(request).set_profile(caller, session_id, body))


@router.delete(PATH)
async def clear_profile(request: Request, session_id: str, caller: ModuleCaller,
                        response_url: Annotated[Url, Query()]) -> JSONResponse:
    """§DELETE: clears the profile set through OCPI on the session."""
    return answer(await cpo_commands(request).clear_profile(caller, session_id, response_url))
