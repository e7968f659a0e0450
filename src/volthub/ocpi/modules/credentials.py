"""Credentials module: registration (POST), update (PUT), unregistration (DELETE), GET."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.ocpi.envelope import OcpiError, OcpiStatus, ocpi_response
from volthub.ocpi.http import RegisteringCaller, base_url, roaming
from volthub.ocpi.registration import VERSION

router = APIRouter()
PATH = f"/{VERSION}/credentials"


@router.get(PATH)
async def get_credentials(request: Request, caller: RegisteringCaller) -> JSONResponse:
    """credentials §GET: our credentials object for this partner. We keep only a digest of the
    token they use, so the token in this answer is the one of the request."""
    if caller.partner.status.value == "PLANNED":
        raise OcpiError(OcpiStatus.CLIENT_ERROR, "not registered", http_status=405)
    service = roaming(request)
    return ocpi_response(service.identity.credentials(caller.token, service.versions_url(
        base_url(request))))


@router.post(PATH)
async def register(request: Request, caller: RegisteringCaller,
                   body: dict[str, Any] = Body(...)) -> JSONResponse:
    service = roaming(request)
    ours = await service.registration.accept_registration(
        caller.partner, body, service.versions_url(base_url(request)), caller.plain_token)
    return ocpi_response(ours)


@router.put(PATH)
async def update(request: Request, caller: RegisteringCaller,
                 body: dict[str, Any] = Body(...)) -> JSONResponse:
    service = roaming(request)
    ours = await service.registration.update_registration(
        caller.partner, body, service.versions_url(base_url(request)), caller.plain_token)
    return ocpi_response(ours)


@router.delete(PATH)
async def unregister(request: Request, caller: RegisteringCaller) -> JSONResponse:
    await roaming(request).registration.accept_unregistration(caller.partner)
    return ocpi_response(None)

