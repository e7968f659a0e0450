"""OCPI eMSP role: our id tokens as OCPI Tokens and their push, receiving helpers, commands."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from volthub.api.errors import describe_validation_errors
from volthub.domain.enums import AuthStatus
from volthub.domain.enums import TokenType as IdTokenType
from volthub.domain.errors import Conflict, InvalidInput, NotFound
from volthub.domain.model import IdToken
from volthub.domain.roaming import Partner, RoamingObject
from volthub.ocpi import schemas
from volthub.ocpi.client import PartnerUnreachable
from volthub.ocpi.envelope import OcpiError, OcpiStatus, invalid, not_found, ocpi_response
from volthub.ocpi.http import Caller
from volthub.ocpi.registration import VERSION
from volthub.ocpi.roaming import REACHABLE
from volthub.services.authorization import local_list_status
from volthub.services.events import EventListener
from volthub.storage.interface import Repositories

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming
    from volthub.wiring import Services

log = logging.getLogger("volthub.ocpi.emsp")

M = TypeVar("M", bound=BaseModel)

# mod_tokens §Token object: uid and group_id are CiString(36), contract_id CiString(36),
# issuer string(64).
MAX_UID = 36
MAX_ISSUER = 64
# Last OCPI Token sent for each of our tokens, under our own party: a deleted token is then
# invalidated with the type it had (the receiver's URL names it). Not "tokens": those are the
# roaming tokens CPO-role code looks up.
OWN_TOKENS = "own_tokens"
COMMANDS = "commands"

_TOKEN_TYPES = {
    IdTokenType.ISO14443: schemas.TokenType.RFID,
    IdTokenType.ISO15693: schemas.TokenType.RFID,
    IdTokenType.CENTRAL: schemas.TokenType.APP_USER,
}

# Our authorization outcome → mod_tokens §AllowedType.
_ALLOWED = {
    AuthStatus.ACCEPTED: schemas.AllowedType.ALLOWED,
    AuthStatus.BLOCKED: schemas.AllowedType.BLOCKED,
    AuthStatus.EXPIRED: schemas.AllowedType.EXPIRED,
    AuthStatus.INVALID: schemas.AllowedType.NOT_ALLOWED,
    AuthStatus.UNKNOWN: schemas.AllowedType.NOT_ALLOWED,
}


# --- our tokens as OCPI Tokens -------------------------------------------------------------


def token_type(token: IdToken) -> schemas.TokenType:
    """RFID cards are RFID, app (Central) tokens APP_USER, everything else OTHER."""
    return _TOKEN_TYPES.get(token.type, schemas.TokenType.OTHER)


def contract_id(roaming: Roaming, token: IdToken) -> str:
    """An eMAID is already a contract id; otherwise an eMI3-like `CC-PTY-C<uid>` when it fits
    CiString(36), else the uid itself (mod_tokens: contract_id only has to be unique)."""
    if token.type is IdTokenType.EMAID:
        return token.id_token
    candidate = f"{roaming.identity.country_code}-{roaming.identity.party_id}-C{token.id_token}"
    return candidate if len(candidate) <= MAX_UID else token.id_token


def allowed_of(status: AuthStatus) -> schemas.AllowedType:
    return _ALLOWED[status]


def ocpi_token(roaming: Roaming, token: IdToken, last_updated: datetime,
               now: datetime) -> dict[str, Any]:
    """The OCPI Token of one of our id tokens; raises ValidationError when it cannot be one
    (e.g. a uid with characters CiString does not allow).

    `valid` is the token's own standing (status and expiry), as in a local list; a blocked
    group is caught by real-time authorization."""
    body: dict[str, Any] = {
        "country_code": roaming.identity.country_code,
        "party_id": roaming.identity.party_id,
        "uid": token.id_token,
        "type": token_type(token),
        "contract_id": contract_id(roaming, token),
        "issuer": roaming.identity.name[:MAX_ISSUER],
        "valid": local_list_status(token, now) is AuthStatus.ACCEPTED,
        "whitelist": roaming.token_whitelist,
        "last_updated": last_updated,
    }
    group = token.group_id
    if group and len(group) <= MAX_UID and group.isascii() and group.isprintable():
        body["group_id"] = group
    return dump(schemas.Token.model_validate(body))


async def our_token(roaming: Roaming, id_token: str) -> dict[str, Any] | None:
    """The OCPI Token of our id token `id_token`, None when unknown or not representable."""
    found = await roaming.storage.read(lambda r: r.get_token_with_updated_at(id_token))
    if found is None:
        return None
    try:
        return ocpi_token(roaming, found[0], found[1], roaming.clock())
    except ValidationError:
        log.warning("id token cannot be an OCPI token", extra={"id_token": id_token})
        return None


def token_path(document: dict[str, Any]) -> str:
    """mod_tokens §Receiver interface: /{country_code}/{party_id}/{token_uid}?type={type}."""
    return (f"/{document['country_code']}/{document['party_id']}/"
            f"{quote(str(document['uid']), safe='')}?type={document['type']}")


class TokenPusher(EventListener):
    """Pushes each change of our id tokens to every CPO that receives tokens (mod_tokens §Push
    model); a deleted token is sent once more with valid=false ("deleting is not possible")."""

    def __init__(self, roaming: Roaming, services: Services) -> None:
        self.roaming = roaming
        self.services = services

    async def token_changed(self, id_token: str) -> None:
        if "EMSP" not in self.roaming.identity.roles:
            return  # a CPO-only platform's tokens are its own stations' business
        documents = await self._documents(id_token)
        if not documents:
            return
        for partner in await self.roaming.partners_with("CPO", "tokens", "RECEIVER"):
            for party in _cpo_parties(partner):
                for document in documents:
                    await self.roaming.outbox.push(
                        partner.id, "tokens", "PUT", token_path(document), document,
                        object_key=f"tokens/{document['uid']}", to_party=party)

    async def _documents(self, id_token: str) -> list[dict[str, Any]]:
        """The Token(s) to send: the current one (valid=false once deleted); when its type
        changed, first the old one invalidated (uid and type identify a Token at the CPO)."""
        roaming = self.roaming
        us = roaming.identity
        now = roaming.clock()
        found = await roaming.storage.read(lambda r: r.get_token_with_updated_at(id_token))
        last = await roaming.storage.read(lambda r: r.get_roaming_object(
            OWN_TOKENS, us.country_code, us.party_id, id_token))
        try:
            if found is not None:
                current = ocpi_token(roaming, found[0], found[1], now)
            elif last is not None:
                current = _invalid(last.data, now)
            else:
                # Never sent: its type is unknown; RFID is the spec's default (mod_tokens §PUT).
                current = _invalid(ocpi_token(roaming, IdToken(id_token=id_token), now, now), now)
        except ValidationError:
            log.warning("id token cannot be an OCPI token, not pushed",
                        extra={"id_token": id_token})
            return []
        snapshot = RoamingObject(OWN_TOKENS, us.country_code, us.party_id, id_token, current,
                                 now)
        await roaming.storage.write(lambda r: r.upsert_roaming_object(snapshot))
        if last is not None and last.data.get("type") != current["type"]:
            return [_invalid(last.data, now), current]
        return [current]


def _invalid(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {**document, "valid": False, "last_updated": schemas.format_ocpi_datetime(now)}


def _cpo_parties(partner: Partner) -> list[tuple[str, str] | None]:
    """Where a push goes: each CPO party of a peer; a hub gets one (broadcast) push."""
    if partner.is_hub:
        return [None]
    parties: list[tuple[str, str] | None] = []
    for role in partner.roles:
        party = (str(role["country_code"]).upper(), str(role["party_id"]).upper())
        if role.get("role") == "CPO" and party not in parties:
            parties.append(party)
    return parties or [None]


# --- receiving objects pushed by CPOs ------------------------------------------------------


def dump(model: BaseModel) -> dict[str, Any]:
    result: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return result


def parse(model: type[M], body: Any) -> M:
    """A whole object from a partner; anything wrong is OCPI 2001 naming the fields."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid(f"{model.__name__}: {describe_validation_errors(list(exc.errors()))}"
                      ) from exc


def parse_patch(model: type[BaseModel], body: Any) -> dict[str, Any]:
    """A PATCH body as JSON, each field checked (last_updated required: 2001 without it)."""
    try:
        return schemas.dump_patch(model, schemas.validate_patch(model, body))
    except ValidationError as exc:
        raise invalid(f"{model.__name__}: {describe_validation_errors(list(exc.errors()))}"
                      ) from exc


def same_id(what: str, in_url: str, in_body: Any) -> None:
    """transport_and_format §Client Owned Object Push, Errors: an id in the body other than the
    URL's is 2001. CiStrings compare without case."""
    if in_body is not None and str(in_body).upper() != in_url.upper():
        raise invalid(f"{what} {in_body!r} in the body differs from {in_url!r} in the URL")


def may_speak_for(partner: Partner, country_code: str, party_id: str) -> bool:
    return partner.is_hub or any(
        str(r.get("country_code", "")).upper() == country_code.upper()
        and str(r.get("party_id", "")).upper() == party_id.upper() for r in partner.roles)


def require_party(caller: Caller, country_code: str, party_id: str) -> tuple[str, str]:
    """The URL's party must be one of the caller's credentials roles (a hub speaks for all).
    transport_and_format §Client Owned Object Push, Errors: the server "is allowed to respond
    with an HTTP 404 status code, this way blocking client access to objects that do not
    belong to them" (a 404 is also a refusal a pushing outbox does not retry)."""
    if not may_speak_for(caller.partner, country_code, party_id):
        raise OcpiError(OcpiStatus.CLIENT_ERROR,
                        f"{country_code}*{party_id} is not a party of this platform's "
                        "credentials", http_status=404)
    return country_code.upper(), party_id.upper()


def stored_response(created: bool) -> JSONResponse:
    """status_codes: 201 when the object was created, 200 when an existing one was updated."""
    return ocpi_response(None, http_status=201 if created else 200)


async def load(roaming: Roaming, module: str, party: tuple[str, str],
               object_id: str) -> RoamingObject | None:
    return await roaming.storage.read(
        lambda r: r.get_roaming_object(module, party[0], party[1], object_id))


async def save(roaming: Roaming, obj: RoamingObject) -> None:
    await roaming.storage.write(lambda r: r.upsert_roaming_object(obj))


async def stored_document(roaming: Roaming, caller: Caller, module: str, country_code: str,
                          party_id: str, object_id: str, what: str) -> dict[str, Any]:
    """The stored document a Receiver GET answers with; 404 when it is unknown."""
    party = require_party(caller, country_code, party_id)
    obj = await load(roaming, module, party, object_id)
    if obj is None:
        raise not_found(f"unknown {what} {object_id!r}")
    return obj.data


async def replace_object(roaming: Roaming, caller: Caller, module: str, party: tuple[str, str],
                         object_id: str, obj: BaseModel, last_updated: datetime) -> JSONResponse:
    """A Receiver PUT: the URL's party and id "SHALL be the same value" as the object's (e.g.
    mod_locations §PUT request parameters); it replaces what was stored (201 when new)."""
    same_id("country_code", party[0], getattr(obj, "country_code", None))
    same_id("party_id", party[1], getattr(obj, "party_id", None))
    same_id("id", object_id, getattr(obj, "id", None))
    existing = await load(roaming, module, party, object_id)
    await save(roaming, RoamingObject(module, party[0], party[1], object_id, dump(obj),
                                      last_updated, caller.partner.id))
    return stored_response(created=existing is None)


# change(stored object) → (new document, its last_updated, whether something was created)
Change = Callable[[RoamingObject], tuple[dict[str, Any], datetime, bool]]


async def modify(roaming: Roaming, module: str, party: tuple[str, str], object_id: str,
                 partner_id: int, change: Change, missing: str) -> bool:
    """Read, change and write one stored object in one transaction (so concurrent updates of
    it are not lost); `change` may raise OcpiError. Returns whether something was created."""

    async def op(r: Repositories) -> OcpiError | bool:
        obj = await r.get_roaming_object(module, party[0], party[1], object_id)
        if obj is None:
            return not_found(missing)
        try:
            document, last_updated, created = change(obj)
        except OcpiError as exc:
            return exc  # raised below, outside the write (an exception would undo the batch)
        await r.upsert_roaming_object(RoamingObject(module, party[0], party[1], object_id,
                                                    document, last_updated, partner_id))
        return created

    outcome = await roaming.storage.write(op)
    if isinstance(outcome, OcpiError):
        raise outcome
    return outcome


# --- commands we send (mod_commands, Sender side) ------------------------------------------


@dataclass(slots=True)
class CommandRequest:
    """What the operator asks; turned into the OCPI command object of `command`."""

    command: schemas.CommandType
    partner_id: int
    location_id: str | None = None
    evse_uid: str | None = None
    connector_id: str | None = None
    id_token: str | None = None
    session_id: str | None = None
    reservation_id: str | None = None
    expiry_date: datetime | None = None


_COMMAND_MODELS: dict[schemas.CommandType, type[BaseModel]] = {
    schemas.CommandType.START_SESSION: schemas.StartSession,
    schemas.CommandType.STOP_SESSION: schemas.StopSession,
    schemas.CommandType.RESERVE_NOW: schemas.ReserveNow,
    schemas.CommandType.CANCEL_RESERVATION: schemas.CancelReservation,
    schemas.CommandType.UNLOCK_CONNECTOR: schemas.UnlockConnector,
}


class CommandSender:
    """Sends a command to a CPO's commands Receiver and keeps it, with the CPO's direct
    CommandResponse and the asynchronous CommandResult(s), as RoamingObject "commands" under
    our own party (object id = the uid in its response_url)."""

    def __init__(self, roaming: Roaming) -> None:
        self.roaming = roaming

    async def send(self, request: CommandRequest, base_url: str) -> RoamingObject:
        """Raises NotFound/Conflict/InvalidInput for a bad request, PartnerUnreachable when the
        partner does not answer (the command is then kept with its error)."""
        partner = await self._partner(request.partner_id)
        endpoint = partner.endpoint("commands", "RECEIVER")
        if endpoint is None or not partner.token_out:
            raise Conflict(f"partner {partner.id} offers no commands RECEIVER endpoint")
        uid = uuid.uuid4().hex
        command = request.command.value
        # mod_commands §Sender interface: a unique id in the URL tells the results apart.
        response_url = f"{base_url.rstrip('/')}/ocpi/emsp/{VERSION}/commands/{command}/{uid}"
        body = await self._body(request, response_url)
        to_party = await self._to_party(partner, request)
        now = self.roaming.clock()
        data: dict[str, Any] = {
            "command": command, "partner_id": partner.id,
            "to_party": list(to_party) if to_party else None, "request": body,
            "response": None, "status_code": None, "status_message": None, "result": None,
            "results": [], "error": None, "sent_at": schemas.format_ocpi_datetime(now),
            "timeout_at": None,
        }
        us = self.roaming.identity
        # Stored before sending: a quick CommandResult may come before the POST returns.
        await save(self.roaming, RoamingObject(COMMANDS, us.country_code, us.party_id, uid, data,
                                               now, partner.id))
        try:
            reply = await self.roaming.client.request(
                "POST", f"{endpoint.rstrip('/')}/{command}", partner.token_out, body=body,
                plain_token=partner.sends_plain_token, from_party=us.party, to_party=to_party)
        except PartnerUnreachable as exc:
            await self._update(uid, {"error": str(exc)[:2000]})
            raise
        return await self._update(uid, self._reply_fields(reply.status_code, reply.message,
                                                          reply.data, reply.ok, now))

    @staticmethod
    def _reply_fields(status_code: int | None, message: str | None, data: Any, ok: bool,
                      sent_at: datetime) -> dict[str, Any]:
        fields: dict[str, Any] = {"status_code": status_code, "status_message": message}
        if not ok:
            fields["error"] = f"OCPI {status_code}: {message or ''}".strip()
            return fields
        try:
            response = schemas.CommandResponse.model_validate(data)
        except ValidationError as exc:
            fields["error"] = "the CommandResponse is invalid: " + \
                describe_validation_errors(list(exc.errors()))
            fields["response"] = data if isinstance(data, dict) else None
            return fields
        fields["response"] = dump(response)
        # mod_commands §CommandResponse: without a result within `timeout` seconds "the eMSP
        # can assume that the message might never be send".
        fields["timeout_at"] = schemas.format_ocpi_datetime(
            sent_at + timedelta(seconds=max(response.timeout, 0)))
        return fields

    async def record_result(self, uid: str, command: str, partner_id: int,
                            result: schemas.CommandResult) -> bool:
        """A CommandResult POSTed to a response_url of ours; False when that URL is not one we
        gave this partner. Kept in order: a RESERVE_NOW may later get CANCELED_RESERVATION
        on the same URL (mod_commands §Flow, reservation canceled by the CPO)."""
        us = self.roaming.identity
        entry = dump(result) | {"received_at": schemas.format_ocpi_datetime(
            self.roaming.clock())}

        async def op(r: Repositories) -> bool:
            obj = await r.get_roaming_object(COMMANDS, us.country_code, us.party_id, uid)
            if obj is None or obj.partner_id != partner_id or obj.data.get("command") != command:
                return False
            obj.data = {**obj.data, "result": entry,
                        "results": [*obj.data.get("results", []), entry]}
            obj.last_updated = self.roaming.clock()
            await r.upsert_roaming_object(obj)
            return True

        return await self.roaming.storage.write(op)

    async def get(self, uid: str) -> RoamingObject:
        us = self.roaming.identity
        obj = await load(self.roaming, COMMANDS, us.party, uid)
        if obj is None:
            raise NotFound(f"command {uid!r} not found")
        return obj

    async def _update(self, uid: str, fields: dict[str, Any]) -> RoamingObject:
        us = self.roaming.identity

        async def op(r: Repositories) -> RoamingObject | None:
            obj = await r.get_roaming_object(COMMANDS, us.country_code, us.party_id, uid)
            if obj is None:
                return None
            obj.data = {**obj.data, **fields}
            await r.upsert_roaming_object(obj)
            return obj

        updated = await self.roaming.storage.write(op)
        if updated is None:
            raise NotFound(f"command {uid!r} not found")
        return updated

    async def _partner(self, partner_id: int) -> Partner:
        partner = await self.roaming.storage.read(lambda r: r.get_partner(partner_id))
        if partner is None:
            raise NotFound(f"partner {partner_id} not found")
        if partner.status not in REACHABLE:
            raise Conflict(f"partner {partner_id} is {partner.status.value}, not registered")
        return partner

    async def _body(self, request: CommandRequest, response_url: str) -> dict[str, Any]:
        command = schemas.CommandType
        body: dict[str, Any] = {"response_url": response_url}
        if request.command in (command.START_SESSION, command.RESERVE_NOW):
            body["token"] = await self._token(request.id_token)
            # A reference the CPO carries into the Session and CDR (mod_commands §StartSession).
            body["authorization_reference"] = uuid.uuid4().hex
            body["location_id"] = request.location_id
            body["evse_uid"] = request.evse_uid
        if request.command is command.START_SESSION:
            body["connector_id"] = request.connector_id
        elif request.command is command.RESERVE_NOW:
            body["expiry_date"] = request.expiry_date
            body["reservation_id"] = request.reservation_id or uuid.uuid4().hex
        elif request.command is command.STOP_SESSION:
            body["session_id"] = request.session_id
        elif request.command is command.CANCEL_RESERVATION:
            body["reservation_id"] = request.reservation_id
        elif request.command is command.UNLOCK_CONNECTOR:
            body.update(location_id=request.location_id, evse_uid=request.evse_uid,
                        connector_id=request.connector_id)
        model = _COMMAND_MODELS[request.command]
        try:
            parsed = model.model_validate({k: v for k, v in body.items() if v is not None})
        except ValidationError as exc:
            raise InvalidInput(f"{request.command.value}: "
                               f"{describe_validation_errors(list(exc.errors()))}") from exc
        return dump(parsed)

    async def _token(self, id_token: str | None) -> dict[str, Any]:
        if not id_token:
            raise InvalidInput("id_token: required for this command")
        document = await our_token(self.roaming, id_token)
        if document is None:
            raise NotFound(f"id_token {id_token!r} not found (or not usable in OCPI)")
        # mod_commands §Flow: "The CPO should assume that the eMSP only sends valid Tokens".
        status = (await self.roaming.require_services().authorize(id_token)).status
        if status is not AuthStatus.ACCEPTED:
            raise InvalidInput(f"id_token {id_token!r} is {status.value}")
        return document

    async def _to_party(self, partner: Partner,
                        request: CommandRequest) -> tuple[str, str] | None:
        """The CPO party that owns the location (or session) as we received it from this
        partner; else the partner's first CPO party."""
        lookup = [("locations", request.location_id), ("sessions", request.session_id)]
        for module, object_id in lookup:
            if not object_id:
                continue
            found = await self._find(module, object_id)
            owned = [o for o in found if o.partner_id == partner.id] or \
                [o for o in found if may_speak_for(partner, o.country_code, o.party_id)]
            if owned:
                return (owned[0].country_code, owned[0].party_id)
        return next((p for p in _cpo_parties(partner) if p is not None), None)

    async def _find(self, module: str, object_id: str) -> list[RoamingObject]:
        return await self.roaming.storage.read(lambda r: r.find_roaming_objects(module, object_id))


def command_state(data: dict[str, Any], now: datetime) -> str:
    """FAILED (no answer / refused), REJECTED (CommandResponse not ACCEPTED), PENDING, TIMEOUT
    (no result within the CPO's timeout), or DONE (a CommandResult arrived)."""
    if data.get("result"):
        return "DONE"
    if data.get("error"):
        return "FAILED"
    response = data.get("response")
    if not response:
        return "PENDING"
    if response.get("result") != schemas.CommandResponseType.ACCEPTED:
        return "REJECTED"
    timeout_at = data.get("timeout_at")
    if timeout_at and schemas.parse_ocpi_datetime(timeout_at) <= now:
        return "TIMEOUT"
    return "PENDING"
