"""OCPI 2.2.1 hubclientinfo module: the Receiver interface (GET/PUT /clientinfo/{cc}/{pid})."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from volthub.api.errors import describe_validation_errors
from volthub.domain.roaming import RoamingObject
from volthub.ocpi.envelope import OcpiError, OcpiStatus, invalid, ocpi_response
from volthub.ocpi.http import ModuleCaller, roaming
from volthub.ocpi.schemas import ClientInfo

router = APIRouter()
PATH = "/clientinfo/{country_code}/{party_id}"
MODULE = "clientinfo"


def _object_id(country_code: str, party_id: str) -> str:
    # One ClientInfo per party: the URL names it by country_code and party_id only.
    return f"{country_code}*{party_id}"


@router.get(PATH)
async def get_client_info(request: Request, country_code: str, party_id: str,
                          _: ModuleCaller) -> JSONResponse:
    """§Receiver GET: the ClientInfo as we hold it (the Hub checks our copy)."""
    cc, pid = country_code.upper(), party_id.upper()
    stored = await roaming(request).storage.read(
        lambda r: r.get_roaming_object(MODULE, cc, pid, _object_id(cc, pid)))
    if stored is None:
        raise OcpiError(OcpiStatus.CLIENT_ERROR, f"no ClientInfo of {cc}*{pid}", http_status=404)
    return ocpi_response(stored.data)


@router.put(PATH)
async def put_client_info(request: Request, country_code: str, party_id: str,
                          caller: ModuleCaller, body: Any = Body(...)) -> JSONResponse:
    """§Receiver PUT: a new or changed ClientInfo pushed by the Hub. The module's data owner is
    the Hub ("this module is between eMSP/CPO and Hub"), but any registered partner is
    accepted: a peer may relay its parties' status as a hub would, and storing it has no
    effect beyond this module."""
    try:
        info = ClientInfo.model_validate(body)
    except ValidationError as exc:
        raise invalid(describe_validation_errors(list(exc.errors()))) from exc
    cc, pid = country_code.upper(), party_id.upper()
    if (info.country_code.upper(), info.party_id.upper()) != (cc, pid):
        raise invalid(f"body country_code/party_id {info.country_code}*{info.party_id} "
                      f"differ from the URL's {cc}*{pid}")
    obj = RoamingObject(module=MODULE, country_code=cc, party_id=pid,
                        object_id=_object_id(cc, pid),
                        data=info.model_dump(mode="json", exclude_none=True),
                        last_updated=info.last_updated, partner_id=caller.partner.id)

    async def op(r: Any) -> bool:
        existed = await r.get_roaming_object(MODULE, cc, pid, obj.object_id) is not None
        await r.upsert_roaming_object(obj)
        return existed

    existed = await roaming(request).storage.write(op)
    # status_codes: 201 for a newly created object, 200 for an update.
    return ocpi_response(None, http_status=200 if existed else 201)
