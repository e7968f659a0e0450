"""CDRs module, CPO side (mod_cdrs §Sender Interface): the pull of our CDRs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from volthub.ocpi.http import ModuleCaller, PageDep, paged_response, roaming
from volthub.ocpi.sessions import CDRS_OUT

router = APIRouter()


@router.get("/cdrs")
@router.get("/cdrs/", include_in_schema=False)
async def list_cdrs(request: Request, caller: ModuleCaller, page: PageDep) -> JSONResponse:
    """CDRs created in [date_from, date_to) (mod_cdrs: last_updated "can only be the creation
    Date/Time"), oldest first, paginated. Like GET /sessions, a platform gets only the CDRs of
    the tokens it gave us (its parties' drivers; a hub: all its parties') -- mod_cdrs §Pull
    model: "the CPO is allowed to return only the CDRs that are relevant for the requesting
    eMSP"."""
    objects, total = await roaming(request).storage.read(lambda r: r.list_roaming_objects(
        CDRS_OUT, page.limit, page.offset, page.date_from, page.date_to, caller.partner.id))
    return paged_response(request, page, [o.data for o in objects], total)
