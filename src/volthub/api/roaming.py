"""Admin routes of the OCPI eMSP role: what CPOs sent us, and commands to their stations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from volthub.api.deps import container
from volthub.domain.errors import NotFound
from volthub.domain.roaming import RoamingObject
from volthub.ocpi.client import PartnerUnreachable
from volthub.ocpi.emsp import COMMANDS, CommandRequest, CommandSender, command_state
from volthub.ocpi.roaming import Roaming
from volthub.ocpi.schemas import CommandType

router = APIRouter(prefix="/ocpi", tags=["ocpi"])

# Modules whose objects CPOs push to our eMSP receivers.
RECEIVED = ("locations", "sessions", "cdrs", "tariffs")


def _roaming(request: Request) -> Roaming:
    return container(request).roaming


RoamingDep = Annotated[Roaming, Depends(_roaming)]


class ReceivedOut(BaseModel):
    module: str
    country_code: str
    party_id: str
    id: str
    partner_id: int | None
    last_updated: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, obj: RoamingObject) -> ReceivedOut:
        return cls(module=obj.module, country_code=obj.country_code, party_id=obj.party_id,
                   id=obj.object_id, partner_id=obj.partner_id, last_updated=obj.last_updated,
                   data=obj.data)


class ReceivedPage(BaseModel):
    items: list[ReceivedOut]
    total: int
    limit: int
    offset: int


class CommandIn(BaseModel):
    """An OCPI command for a CPO partner's station; which fields count depends on it."""

    model_config = ConfigDict(extra="forbid")
    partner_id: int
    location_id: str | None = Field(default=None, max_length=36)
    evse_uid: str | None = Field(default=None, max_length=36)
    connector_id: str | None = Field(default=None, max_length=36)
    id_token: str | None = Field(default=None, max_length=36)  # one of ours
    session_id: str | None = Field(default=None, max_length=36)
    reservation_id: str | None = Field(default=None, max_length=36)
    expiry_date: datetime | None = None


class CommandOut(BaseModel):
    id: str
    command: str
    partner_id: int | None
    to_party: list[str] | None
    state: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    status_code: int | None
    status_message: str | None
    result: dict[str, Any] | None
    results: list[dict[str, Any]]
    error: str | None
    sent_at: str
    timeout_at: str | None

    @classmethod
    def of(cls, obj: RoamingObject, now: datetime) -> CommandOut:
        d = obj.data
        return cls(id=obj.object_id, command=d["command"], partner_id=obj.partner_id,
                   to_party=d.get("to_party"), state=command_state(d, now),
                   request=d["request"], response=d.get("response"),
                   status_code=d.get("status_code"), status_message=d.get("status_message"),
                   result=d.get("result"), results=d.get("results") or [],
                   error=d.get("error"), sent_at=d["sent_at"], timeout_at=d.get("timeout_at"))


class CommandPage(BaseModel):
    items: list[CommandOut]
    total: int
    limit: int
    offset: int


def _base(request: Request, roaming: Roaming) -> str:
    return roaming.public_url or f"{request.url.scheme}://{request.url.netloc}"


@router.post("/commands/{command}", response_model=CommandOut, status_code=201)
async def send_command(command: CommandType, body: CommandIn, request: Request,
                       roaming: RoamingDep) -> CommandOut:
    """Sends the command now (mod_commands §Receiver interface of the partner) and answers
    with the CPO's CommandResponse; the CommandResult comes later (GET the command)."""
    sender = CommandSender(roaming)
    try:
        sent = await sender.send(CommandRequest(command=command, **body.model_dump()),
                                 _base(request, roaming))
    except PartnerUnreachable as exc:
        raise HTTPException(502, f"the partner did not answer: {exc}") from exc
    return CommandOut.of(sent, roaming.clock())


@router.get("/commands", response_model=CommandPage)
async def list_commands(roaming: RoamingDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        offset: Annotated[int, Query(ge=0)] = 0,
                        partner_id: int | None = None) -> CommandPage:
    found, total = await roaming.storage.read(lambda r: r.list_roaming_objects(
        COMMANDS, limit, offset, partner_id=partner_id))
    now = roaming.clock()
    return CommandPage(items=[CommandOut.of(o, now) for o in found], total=total, limit=limit,
                       offset=offset)


@router.get("/commands/{command_id}", response_model=CommandOut)
async def get_command(command_id: str, roaming: RoamingDep) -> CommandOut:
    return CommandOut.of(await CommandSender(roaming).get(command_id), roaming.clock())


def _lister(module: str) -> Callable[..., Awaitable[ReceivedPage]]:
    async def list_received(
        roaming: RoamingDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0, partner_id: int | None = None,
        date_from: datetime | None = None, date_to: datetime | None = None,
    ) -> ReceivedPage:
        """Objects received from CPOs, by last_updated (date_from inclusive, date_to
        exclusive)."""
        found, total = await roaming.storage.read(lambda r: r.list_roaming_objects(
            module, limit, offset, date_from, date_to, partner_id))
        return ReceivedPage(items=[ReceivedOut.of(o) for o in found], total=total, limit=limit,
                            offset=offset)

    return list_received


def _getter(module: str) -> Callable[..., Awaitable[ReceivedOut]]:
    async def get_received(country_code: str, party_id: str, object_id: str,
                           roaming: RoamingDep) -> ReceivedOut:
        obj = await roaming.storage.read(lambda r: r.get_roaming_object(
            module, country_code.upper(), party_id.upper(), object_id))
        if obj is None:
            raise NotFound(f"{module} {country_code}/{party_id}/{object_id} not found")
        return ReceivedOut.of(obj)

    return get_received


# Literal paths per module: a `/{module}` parameter would also catch /ocpi/partners and
# /ocpi/outbox of the partners router.
for _module in RECEIVED:
    router.add_api_route(f"/{_module}", _lister(_module), methods=["GET"],
                         response_model=ReceivedPage, name=f"list_received_{_module}")
    router.add_api_route(f"/{_module}/{{country_code}}/{{party_id}}/{{object_id}}",
                         _getter(_module), methods=["GET"], response_model=ReceivedOut,
                         name=f"get_received_{_module}")
