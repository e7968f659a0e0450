"""Versions module: /ocpi/versions and /ocpi/2.2.1 (version_information_endpoint)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from volthub.ocpi.envelope import ocpi_response
from volthub.ocpi.http import RegisteringCaller, base_url
from volthub.ocpi.registration import VERSION

router = APIRouter()

# (module identifier, interface role, path under /ocpi): every endpoint we serve. Credentials is
# the same for all roles; the spec advises SENDER for one's own (version_information_endpoint
# §Endpoint, NOTE).
ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("credentials", "SENDER", f"/{VERSION}/credentials"),
    # CPO role: our stations, sessions and CDRs for eMSPs.
    ("locations", "SENDER", f"/cpo/{VERSION}/locations"),
    ("sessions", "SENDER", f"/cpo/{VERSION}/sessions"),
    ("cdrs", "SENDER", f"/cpo/{VERSION}/cdrs"),
    ("tariffs", "SENDER", f"/cpo/{VERSION}/tariffs"),
    ("tokens", "RECEIVER", f"/cpo/{VERSION}/tokens"),
    ("commands", "RECEIVER", f"/cpo/{VERSION}/commands"),
    ("chargingprofiles", "RECEIVER", f"/cpo/{VERSION}/chargingprofiles"),
    ("hubclientinfo", "RECEIVER", f"/cpo/{VERSION}/clientinfo"),
    # eMSP role: other networks' data for our drivers.
    ("locations", "RECEIVER", f"/emsp/{VERSION}/locations"),
    ("sessions", "RECEIVER", f"/emsp/{VERSION}/sessions"),
    ("cdrs", "RECEIVER", f"/emsp/{VERSION}/cdrs"),
    ("tariffs", "RECEIVER", f"/emsp/{VERSION}/tariffs"),
    ("tokens", "SENDER", f"/emsp/{VERSION}/tokens"),
    ("commands", "SENDER", f"/emsp/{VERSION}/commands"),
)


def ocpi_root(request: Request) -> str:
    return f"{base_url(request)}/ocpi"


@router.get("/versions")
async def versions(request: Request, _: RegisteringCaller) -> JSONResponse:
    return ocpi_response([{"version": VERSION, "url": f"{ocpi_root(request)}/{VERSION}"}])


@router.get(f"/{VERSION}")
async def version_details(request: Request, _: RegisteringCaller) -> JSONResponse:
    root = ocpi_root(request)
    return ocpi_response({
        "version": VERSION,
        "endpoints": [{"identifier": module, "role": role, "url": f"{root}{path}"}
                      for module, role, path in ENDPOINTS],
    })
