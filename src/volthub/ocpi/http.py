"""Per-request OCPI plumbing: who is calling (token → partner, routing headers), pagination."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from volthub.domain.roaming import Partner, PartnerStatus
from volthub.ocpi.auth import decode_header, token_digest
from volthub.ocpi.envelope import OcpiError, OcpiStatus, envelope, invalid, unauthorized
from volthub.ocpi.schemas import parse_ocpi_datetime

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming

# transport_and_format §Pagination: the most objects one page carries (X-Limit).
MAX_PAGE_LIMIT = 100


@dataclass(slots=True)
class Caller:
    """The authenticated platform and the parties this request is from and to."""

    partner: Partner
    token: str  # the credentials token of this request
    plain_token: bool
    from_party: tuple[str, str] | None
    to_party: tuple[str, str] | None


def roaming(request: Request) -> Roaming:
    result: Roaming = request.app.state.container.roaming
    return result


def base_url(request: Request) -> str:
    """Where partners reach us: VOLTHUB_PUBLIC_URL, else the URL this request came to."""
    configured: str | None = roaming(request).public_url
    if configured:
        return configured.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


async def _authenticate(request: Request, allow_planned: bool) -> tuple[Partner, str, bool]:
    service = roaming(request)
    for token, plain in decode_header(request.headers.get("authorization")):
        partner = await _partner_by_token(service, token_digest(token))
        if partner is None or partner.status is PartnerStatus.SUSPENDED:
            continue
        if partner.status is PartnerStatus.PLANNED and not allow_planned:
            # transport_and_format §Authorization: token A opens only versions and credentials.
            raise unauthorized("this token only opens versions and credentials")
        if plain and not partner.sends_plain_token:
            await service.note_plain_token(partner.id)
        return partner, token, plain
    raise unauthorized("missing or unknown credentials token in Authorization header")


async def _partner_by_token(service: Roaming, digest: str) -> Partner | None:
    return await service.storage.read(lambda r: r.partner_by_token(digest))


def _party(request: Request, prefix: str) -> tuple[str, str] | None:
    country = request.headers.get(f"ocpi-{prefix}-country-code")
    party = request.headers.get(f"ocpi-{prefix}-party-id")
    if country and party:
        return (country.upper(), party.upper())
    return None


async def registering_caller(request: Request) -> Caller:
    """Versions and credentials: token A is good here too; no routing headers (not routed)."""
    partner, token, plain = await _authenticate(request, allow_planned=True)
    return Caller(partner, token, plain, None, None)


async def module_caller(request: Request) -> Caller:
    """Functional modules: a registered partner; routing headers checked against it."""
    partner, token, plain = await _authenticate(request, allow_planned=False)
    from_party = _party(request, "from")
    to_party = _party(request, "to")
    # A direct peer may only speak for its own parties; a hub forwards for any party
    # (transport_and_format §Message routing).
    if from_party is not None and not partner.is_hub and not partner.has_party(*from_party):
        raise OcpiError(OcpiStatus.CLIENT_ERROR,
                        f"OCPI-from {from_party[0]}*{from_party[1]} is not a party of this "
                        "platform's credentials", http_status=401)
    identity = roaming(request).identity
    if to_party is not None and not identity.is_us(*to_party):
        raise OcpiError(OcpiStatus.CLIENT_ERROR,
                        f"OCPI-to {to_party[0]}*{to_party[1]} is not served here")
    return Caller(partner, token, plain, from_party, to_party)


RegisteringCaller = Annotated[Caller, Depends(registering_caller)]
ModuleCaller = Annotated[Caller, Depends(module_caller)]


def parse_ocpi_instant(value: str | None) -> datetime | None:
    """types §DateTime: ISO 8601; without a zone it is UTC. None when absent or malformed."""
    if not value:
        return None
    try:
        return parse_ocpi_datetime(value.strip())
    except ValueError:
        return None


@dataclass(slots=True, frozen=True)
class PageQuery:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None

    def covers(self, last_updated: datetime) -> bool:
        """transport_and_format §GET: date_from inclusive, date_to exclusive, on last_updated."""
        if self.date_from is not None and last_updated < self.date_from:
            return False
        return self.date_to is None or last_updated < self.date_to


def page_query(
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int | None, Query(ge=0)] = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> PageQuery:
    """transport_and_format §GET: offset/limit (capped at X-Limit), date_from (inclusive) and
    date_to (exclusive) on last_updated."""
    start = parse_ocpi_instant(date_from)
    end = parse_ocpi_instant(date_to)
    if date_from and start is None:
        raise invalid(f"date_from: not a DateTime: {date_from!r}")
    if date_to and end is None:
        raise invalid(f"date_to: not a DateTime: {date_to!r}")
    effective = MAX_PAGE_LIMIT if limit is None or limit == 0 else min(limit, MAX_PAGE_LIMIT)
    return PageQuery(offset, effective, start, end)


PageDep = Annotated[PageQuery, Depends(page_query)]


def paged_response(request: Request, query: PageQuery, items: Sequence[Any],
                   total: int) -> JSONResponse:
    """A page with X-Total-Count, X-Limit and a Link to the next page keeping the filters."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(MAX_PAGE_LIMIT)}
    next_offset = query.offset + len(items)
    if items and next_offset < total:
        params = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}
        params.update(offset=str(next_offset), limit=str(query.limit))
        url = f"{base_url(request)}{request.url.path}?{urlencode(params)}"
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse(envelope(list(items)), headers=headers)
