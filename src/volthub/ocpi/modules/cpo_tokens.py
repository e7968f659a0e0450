"""Tokens module, CPO side (mod_tokens §Receiver Interface): eMSPs push their drivers' tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from volthub.api.errors import describe_validation_errors
from volthub.domain.roaming import RoamingObject
from volthub.ocpi.envelope import OcpiError, OcpiStatus, invalid, ocpi_response
from volthub.ocpi.http import Caller, ModuleCaller, roaming
from volthub.ocpi.schemas import Token, dump_patch, validate_patch
from volthub.services.authorization import ROAMING_TOKENS

router = APIRouter()
PATH = "/tokens/{country_code}/{party_id}/{token_uid}"
# mod_tokens: `?type=` (TokenType) may follow the uid.
TypeParam = Annotated[str | None, Query(alias="type")]


def _party(caller: Caller, country_code: str, party_id: str) -> tuple[str, str]:
    """The URL's party, if the caller may speak for it: one of its credentials roles, or any
    party behind a hub. transport_and_format §Client Owned Object Push, Errors: for another
    party's objects "it is allowed to respond with an HTTP 404 status code"."""
    party = (country_code.upper(), party_id.upper())
    if not caller.partner.is_hub and not caller.partner.has_party(*party):
        raise OcpiError(OcpiStatus.CLIENT_ERROR,
                        f"{party[0]}*{party[1]} is not a party of this platform's credentials",
                        http_status=404)
    return party


def _unknown(uid: str) -> OcpiError:
    # status_codes: a GET of an unknown object is HTTP 404; 2004 is "Unknown Token".
    return OcpiError(OcpiStatus.UNKNOWN_TOKEN, f"unknown token {uid!r}", http_status=404)


def _invalid_body(exc: ValidationError) -> OcpiError:
    return invalid(describe_validation_errors(list(exc.errors())))


def _same_ids(token: dict[str, Any], party: tuple[str, str], uid: str) -> None:
    """mod_tokens §PUT: the URL's country_code and party_id "SHALL be the same value" as the
    Token's; transport_and_format §Errors: an object id that differs from the URL is 2001."""
    given = (str(token.get("country_code", party[0])).upper(),
             str(token.get("party_id", party[1])).upper())
    if given != party:
        raise invalid(f"the token's country_code/party_id differ from the URL's "
                      f"{party[0]}/{party[1]}")
    if "uid" in token and token["uid"] != uid:
        raise invalid(f"the token's uid {token['uid']!r} differs from the URL's {uid!r}")


async def _stored(request: Request, party: tuple[str, str], uid: str,
                  token_type: str | None) -> RoamingObject:
    """The stored token; `type` (default RFID in the spec) is checked only when given, as many
    eMSPs omit it for APP_USER tokens too."""
    found = await roaming(request).storage.read(
        lambda r: r.get_roaming_object(ROAMING_TOKENS, party[0], party[1], uid))
    if found is None or (token_type is not None and found.data.get("type") != token_type):
        raise _unknown(uid)
    return found


@router.get(PATH)
async def get_token(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                    token_uid: str, token_type: TypeParam = None) -> JSONResponse:
    party = _party(caller, country_code, party_id)
    return ocpi_response((await _stored(request, party, token_uid, token_type)).data)


@router.put(PATH)
async def put_token(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                    token_uid: str, token_type: TypeParam = None,
                    body: Any = Body(...)) -> JSONResponse:
    party = _party(caller, country_code, party_id)
    try:
        token = Token.model_validate(body)
    except ValidationError as exc:
        raise _invalid_body(exc) from None
    data = token.model_dump(mode="json", exclude_none=True)
    _same_ids(data, party, token_uid)
    if token_type is not None and token_type != token.type.value:
        raise invalid(f"type={token_type} in the URL, {token.type.value} in the token")
    created = await _store(request, caller, party, token_uid, data, token)
    # status_codes: 201 for a newly created object, 200 for an update.
    return ocpi_response(None, http_status=201 if created else 200)


@router.patch(PATH)
async def patch_token(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                      token_uid: str, token_type: TypeParam = None,
                      body: Any = Body(...)) -> JSONResponse:
    party = _party(caller, country_code, party_id)
    try:
        # mod_tokens §PATCH: "Any request to the PATCH method SHALL contain the last_updated
        # field" (status_codes 2001 names exactly this case).
        patch = dump_patch(Token, validate_patch(Token, body))
    except ValidationError as exc:
        raise _invalid_body(exc) from None
    _same_ids(patch, party, token_uid)
    existing = await _stored(request, party, token_uid, token_type)
    try:
        token = Token.model_validate({**existing.data, **patch})
    except ValidationError as exc:
        raise _invalid_body(exc) from None
    await _store(request, caller, party, token_uid, token.model_dump(mode="json",
                                                                     exclude_none=True), token)
    return ocpi_response(None)


async def _store(request: Request, caller: Caller, party: tuple[str, str], uid: str,
                 data: dict[str, Any], token: Token) -> bool:
    """Upsert; True when the token is new. partner_id is where its sessions and CDRs go."""
    stored = RoamingObject(ROAMING_TOKENS, party[0], party[1], uid, data, token.last_updated,
                           caller.partner.id)

    async def op(r: Any) -> bool:
        known = await r.get_roaming_object(ROAMING_TOKENS, party[0], party[1], uid)
        await r.upsert_roaming_object(stored)
        return known is None

    created: bool = await roaming(request).storage.write(op)
    return created
