"""Versions module: /ocpi/versions and /ocpi/2.2.1 (version_information_endpoint)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from volthub.ocpi.envelope import ocpi_response
from volthub.ocpi.http import RegisteringCaller, base_url, roaming
from volthub.ocpi.registration import VERSION

router = APIRouter()

# (module identifier, interface role, path under /ocpi, our role that serves it or None for
# all): every endpoint we serve. Credentials is the same for all roles; the spec advises SENDER
# for one's own (version_information_endpoint §Endpoint, NOTE).
ENDPOINTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("credentials", "SENDER", f"/{VERSION}/credentials", None),
    # CPO role: our stations, sessions and CDRs for eMSPs.
    ("locations", "SENDER", f"/cpo/{VERSION}/locations", "CPO"),
    ("sessions", "SENDER", f"/cpo/{VERSION}/sessions", "CPO"),
    ("cdrs", "SENDER", f"/cpo/{VERSION}/cdrs", "CPO"),
    ("tariffs", "SENDER", f"/cpo/{VERSION}/tariffs", "CPO"),
    ("tokens", "RECEIVER", f"/cpo/{VERSION}/tokens", "CPO"),
    ("commands", "RECEIVER", f"/cpo/{VERSION}/commands", "CPO"),
    ("chargingprofiles", "RECEIVER", f"/cpo/{VERSION}/chargingprofiles", "CPO"),
    ("hubclientinfo", "RECEIVER", f"/cpo/{VERSION}/clientinfo", None),
    # eMSP role: other networks' data for our drivers.
    ("locations", "RECEIVER", f"/emsp/{VERSION}/locations", "EMSP"),
    ("sessions", "RECEIVER", f"/emsp/{VERSION}/sessions", "EMSP"),
    ("cdrs", "RECEIVER", f"/emsp/{VERSION}/cdrs", "EMSP"),
    ("tariffs", "RECEIVER", f"/emsp/{VERSION}/tariffs", "EMSP"),
    ("tokens", "SENDER", f"/emsp/{VERSION}/tokens", "EMSP"),
    ("commands", "SENDER", f"/emsp/{VERSION}/commands", "EMSP"),
)


def ocpi_root(request: Request) -> str:
    return f"{base_url(request)}/ocpi"


@router.get("/versions")
async def versions(request: Request, _: RegisteringCaller) -> JSONResponse:
    return ocpi_response([{"version": VERSION, "url": f"{ocpi_root(request)}/{VERSION}"}])


@router.get(f"/{VERSION}")
async def version_details(request: Request, _: RegisteringCaller) -> JSONResponse:
    root = ocpi_root(request)
    ours = roaming(request).identity.roles
    return ocpi_response({
        "version": VERSION,
        # Only the interfaces of the roles we registered as (VOLTHUB_OCPI_ROLES).
        "endpoints": [{"identifier": module, "role": role, "url": f"{root}{path}"}
                      for module, role, path, served_by in ENDPOINTS
                      if served_by is None or served_by in ours],
    })
