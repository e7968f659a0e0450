"""Admin routes for OCPI partners: registration tokens, registering with a partner, status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from volthub.api.deps import container
from volthub.domain.roaming import OutboxEntry, Partner
from volthub.ocpi.http import base_url
from volthub.ocpi.roaming import Roaming

router = APIRouter(prefix="/ocpi", tags=["ocpi"])


def _roaming(request: Request) -> Roaming:
    return container(request).roaming


RoamingDep = Annotated[Roaming, Depends(_roaming)]


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    versions_url: str = Field(pattern=r"^https?://", max_length=512)
    token: str = Field(min_length=1, max_length=64)


class PartnerOut(BaseModel):
    id: int
    roles: list[str]
    country_code: str | None
    party_id: str | None
    parties: list[dict[str, Any]]
    versions_url: str | None
    status: str
    endpoints: list[dict[str, Any]]
    sends_plain_token: bool
    failures: int
    last_error: str | None

    @classmethod
    def of(cls, p: Partner) -> PartnerOut:
        return cls(id=p.id, roles=p.role_names(), country_code=p.country_code,
                   party_id=p.party_id,
                   parties=[{"role": r.get("role"), "country_code": r.get("country_code"),
                             "party_id": r.get("party_id"),
                             "name": (r.get("business_details") or {}).get("name")}
                            for r in p.roles],
                   versions_url=p.versions_url, status=p.status.value, endpoints=p.endpoints,
                   sends_plain_token=p.sends_plain_token, failures=p.failures,
                   last_error=p.last_error)


class PartnerList(BaseModel):
    items: list[PartnerOut]
    total: int
    limit: int
    offset: int


class RegistrationTokenOut(BaseModel):
    token: str
    partner_id: int
    versions_url: str


class PushOut(BaseModel):
    id: int
    partner_id: int
    module: str
    method: str
    path: str
    object_key: str
    attempts: int
    last_error: str | None
    delivered: bool
    failed: bool

    @classmethod
    def of(cls, e: OutboxEntry) -> PushOut:
        return cls(id=e.id, partner_id=e.partner_id, module=e.module, method=e.method,
                   path=e.path, object_key=e.object_key, attempts=e.attempts,
                   last_error=e.last_error, delivered=e.delivered_at is not None,
                   failed=e.failed)


@router.get("/partners", response_model=PartnerList)
async def list_partners(roaming: RoamingDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        offset: Annotated[int, Query(ge=0)] = 0) -> PartnerList:
    partners = await roaming.registration.all()
    page = partners[offset:offset + limit]
    return PartnerList(items=[PartnerOut.of(p) for p in page], total=len(partners), limit=limit,
                       offset=offset)


@router.post("/partners", response_model=PartnerOut, status_code=201)
async def register_with_partner(body: PartnerIn, request: Request,
                                roaming: RoamingDep) -> PartnerOut:
    """We register with the partner (their token A): the credentials handshake runs now."""
    partner = await roaming.registration.register_with(
        body.versions_url, body.token, roaming.versions_url(base_url(request)))
    return PartnerOut.of(partner)


@router.get("/partners/{partner_id}", response_model=PartnerOut)
async def get_partner(partner_id: int, roaming: RoamingDep) -> PartnerOut:
    return PartnerOut.of(await roaming.registration.get(partner_id))


@router.post("/partners/{partner_id}/reregister", response_model=PartnerOut)
async def reregister_partner(partner_id: int, request: Request,
                             roaming: RoamingDep) -> PartnerOut:
    """New credentials tokens both ways and fresh endpoints (credentials PUT)."""
    return PartnerOut.of(await roaming.registration.reregister(
        partner_id, roaming.versions_url(base_url(request))))


@router.delete("/partners/{partner_id}", response_model=PartnerOut)
async def unregister_partner(partner_id: int, roaming: RoamingDep) -> PartnerOut:
    """Unregister (credentials DELETE at the partner) and stop talking to it: SUSPENDED."""
    return PartnerOut.of(await roaming.registration.unregister_from(partner_id))


@router.post("/registration-tokens", response_model=RegistrationTokenOut, status_code=201)
async def issue_registration_token(request: Request, roaming: RoamingDep) -> RegistrationTokenOut:
    """A token A for a partner that registers with us at `versions_url`."""
    partner, token = await roaming.registration.issue_registration_token()
    return RegistrationTokenOut(token=token, partner_id=partner.id,
                                versions_url=roaming.versions_url(base_url(request)))


@router.get("/outbox", response_model=list[PushOut])
async def list_pushes(roaming: RoamingDep, partner_id: int | None = None,
                      pending: bool = False,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[PushOut]:
    entries = await roaming.storage.read(lambda r: r.list_pushes(partner_id, pending, limit))
    return [PushOut.of(e) for e in entries]
