"""OCPI 2.2.1 tokens, eMSP role: the Sender interface (our id tokens for CPOs, real-time
authorization), mod_tokens §Sender interface."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from volthub.ocpi import schemas
from volthub.ocpi.emsp import MAX_UID, allowed_of, dump, ocpi_token, our_token, parse
from volthub.ocpi.envelope import OcpiError, OcpiStatus, invalid, ocpi_response
from volthub.ocpi.http import ModuleCaller, PageDep, paged_response, roaming

router = APIRouter()
log = logging.getLogger("volthub.ocpi.emsp")


# The spec's examples write the endpoint with and without a trailing slash ("tokens/?offset=").
@router.get("/tokens")
@router.get("/tokens/", include_in_schema=False)
async def list_tokens(request: Request, _: ModuleCaller, page: PageDep) -> JSONResponse:
    """mod_tokens §GET: our tokens last updated in [date_from, date_to), paginated. A token
    whose uid is longer than CiString(36) cannot be an OCPI Token and is not counted."""
    service = roaming(request)
    rows, total = await service.storage.read(lambda r: r.list_tokens_with_updated_at(
        page.limit, page.offset, page.date_from, page.date_to, max_id_length=MAX_UID))
    now = service.clock()
    items: list[dict[str, Any]] = []
    for token, updated_at in rows:
        try:
            items.append(ocpi_token(service, token, updated_at, now))
        except ValidationError:
            log.warning("id token cannot be an OCPI token", extra={"id_token": token.id_token})
    return paged_response(request, page, items, total)


@router.post("/tokens/{token_uid}/authorize")
async def authorize(request: Request, _: ModuleCaller, token_uid: str,
                    token_type: Annotated[str | None, Query(alias="type")] = None,
                    body: Any = Body(None)) -> JSONResponse:
    """mod_tokens §POST: real-time authorization, optionally at a location.

    Unknown token: "the eMSP SHALL respond with an HTTP status code: 404 (Not Found)" and "the
    response SHALL contain the status code: 2004: Unknown Token, and no data field". A token
    known with another type than the `type` asked for is unknown too (uid and type identify
    a Token); without `type` the uid alone is looked up."""
    if token_type is not None and token_type not in schemas.TokenType.__members__:
        raise invalid(f"type: not a TokenType: {token_type!r}")
    location = parse(schemas.LocationReferences, body) if body is not None else None
    service = roaming(request)
    document = await our_token(service, token_uid)
    if document is None or (token_type is not None and document["type"] != token_type):
        raise OcpiError(OcpiStatus.UNKNOWN_TOKEN, "Unknown Token", http_status=404)
    status = (await service.require_services().authorize(token_uid)).status
    allowed = allowed_of(status)
    info: dict[str, Any] = {"allowed": allowed, "token": document}
    if allowed is schemas.AllowedType.ALLOWED:
        # Carried by the CPO into the Session and CDR (AuthorizationInfo.authorization_reference).
        info["authorization_reference"] = uuid.uuid4().hex
        if location is not None:
            # The driver may charge at every EVSE: the references come back as asked
            # (mod_tokens §POST: "the eMSP SHALL NOT validate ... opening hours or EVSE status").
            info["location"] = dump(location)
    return ocpi_response(dump(schemas.AuthorizationInfo.model_validate(info)))
