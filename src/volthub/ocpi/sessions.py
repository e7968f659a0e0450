"""OCPI CPO role: transactions of roaming tokens as OCPI Sessions, pushed with their CDRs.

A session is roaming when its id token is not one of ours but an eMSP's token (pushed to our
Tokens receiver or learnt by real-time authorization); it goes to the platform that gave us
that token, addressed to the token's party. Our own drivers' sessions go nowhere.

What we send is also kept as a document (ocpi_objects, modules `cpo_sessions` / `cpo_cdrs`,
under the token's party, partner_id = that platform), so that the pull interfaces (GET
/sessions, GET /cdrs) answer with exactly what was pushed, paged on last_updated, and later
events of a session keep the routing and authorization fixed when it started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from volthub.domain.billing import CdrRecord
from volthub.domain.enums import TransactionStatus
from volthub.domain.errors import NotFound
from volthub.domain.model import Transaction
from volthub.domain.roaming import RoamingAuthorization, RoamingObject
from volthub.ocpi.http import parse_ocpi_instant
from volthub.ocpi.schemas import CDR, AuthMethod, Session, SessionStatus
from volthub.ocpi.tokens_cpo import SOURCE_REAL_TIME, cdr_token, choose_token
from volthub.services.authorization import (
    REAL_TIME_WHITELISTS,
    ROAMING_GRANT_VALIDITY,
    ROAMING_TOKENS,
)
from volthub.services.events import EventListener
from volthub.storage.interface import Repositories

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming
    from volthub.wiring import Services

log = logging.getLogger("volthub.ocpi.sessions")

SESSIONS_OUT = "cpo_sessions"
CDRS_OUT = "cpo_cdrs"
# Meter values can arrive every few seconds: at most one PATCH per session this often (the
# final PUT always goes). mod_sessions leaves the rate to the CPO.
PATCH_INTERVAL = timedelta(seconds=30)
# A whitelisted token's session is credited to an eMSP grant (real-time answer, START_SESSION)
# only when the grant came this shortly before: an older one belonged to an earlier session.
ATTRIBUTION_WINDOW = timedelta(minutes=15)
NOT_AVAILABLE = "#NA"  # transport_and_format §Not available
KWH = Decimal("0.0001")  # types §number: 4 decimals


@dataclass(slots=True, frozen=True)
class SessionRoute:
    """Where a roaming session goes and how it was authorized, fixed when it starts."""

    partner_id: int
    cdr_token: dict[str, Any]
    auth_method: str
    authorization_reference: str | None

    @property
    def party(self) -> tuple[str, str]:
        return (str(self.cdr_token["country_code"]), str(self.cdr_token["party_id"]))

    @classmethod
    def of(cls, snapshot: RoamingObject) -> SessionRoute:
        data = snapshot.data
        assert snapshot.partner_id is not None
        return cls(snapshot.partner_id, dict(data["cdr_token"]), str(data["auth_method"]),
                   data.get("authorization_reference"))


@dataclass(slots=True, frozen=True)
class Measure:
    kwh: Decimal
    currency: str
    total_cost: dict[str, Any] | None  # OCPI Price; None when the session is not priced
    charging_periods: list[dict[str, Any]] | None


async def route_at_start(repos: Repositories, txn: Transaction,
                         now: datetime) -> SessionRoute | None:
    """The route of a session that just started, or None when it is not a roaming session."""
    if not txn.id_token or await repos.get_token(txn.id_token) is not None:
        return None  # ours first, as in services.authorization
    tokens = await repos.find_roaming_objects(ROAMING_TOKENS, txn.id_token)
    grant = await repos.latest_roaming_authorization(txn.id_token, now - ROAMING_GRANT_VALIDITY)
    token = choose_token(tokens, grant.partner_id if grant else None)
    if token is None or token.partner_id is None:
        return None
    method, reference = _authorization(token, grant, now)
    return SessionRoute(token.partner_id, cdr_token(token.data), method, reference)


def _authorization(token: RoamingObject, grant: RoamingAuthorization | None,
                   now: datetime) -> tuple[str, str | None]:
    """auth_method and authorization_reference (mod_sessions §Session: the reference of the
    real-time authorization or StartSession, "the last given value")."""
    if grant is None or grant.allowed != "ALLOWED":
        return AuthMethod.WHITELIST.value, None
    # A NEVER/ALLOWED_OFFLINE token cannot start without its grant (services.authorization),
    # so the latest one is this session's; a whitelisted token needs a fresh one.
    if token.data.get("whitelist") not in REAL_TIME_WHITELISTS \
            and grant.created_at < now - ATTRIBUTION_WINDOW:
        return AuthMethod.WHITELIST.value, None
    if grant.extra.get("command"):
        return AuthMethod.COMMAND.value, grant.authorization_reference
    if grant.extra.get("source") == SOURCE_REAL_TIME:
        return AuthMethod.AUTH_REQUEST.value, grant.authorization_reference
    return AuthMethod.WHITELIST.value, grant.authorization_reference  # ALLOWED_OFFLINE


def session_document(country_code: str, party_id: str, txn: Transaction, route: SessionRoute,
                     location_id: str | None, measure: Measure, now: datetime) -> dict[str, Any]:
    """mod_sessions §Session object (raises pydantic.ValidationError if it would be invalid).
    PENDING is never used: a transaction exists once the station started it."""
    completed = txn.status is TransactionStatus.COMPLETED
    document: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": str(txn.id),
        "start_date_time": txn.started_at,
        "end_date_time": txn.stopped_at if completed else None,
        "kwh": measure.kwh,
        "cdr_token": route.cdr_token,
        "auth_method": route.auth_method,
        "authorization_reference": route.authorization_reference,
        "location_id": location_id or NOT_AVAILABLE,
        "evse_uid": f"{txn.station_id}-{txn.evse_id}",
        "connector_id": str(txn.connector_id),
        "currency": measure.currency,
        "charging_periods": measure.charging_periods if completed else None,
        "total_cost": measure.total_cost,
        "status": (SessionStatus.COMPLETED if completed else SessionStatus.ACTIVE).value,
        "last_updated": now,
    }
    return Session.model_validate(document).model_dump(mode="json", exclude_none=True)


def cdr_document(cdr: CdrRecord, route: SessionRoute) -> dict[str, Any]:
    """The CDR as billing issued it, with the roaming token and authorization of its session
    (billing writes our own party's token there)."""
    document = dict(cdr.document["ocpi"])
    document.update(cdr_token=route.cdr_token, auth_method=route.auth_method)
    if route.authorization_reference:
        document["authorization_reference"] = route.authorization_reference
    return CDR.model_validate(document).model_dump(mode="json", exclude_none=True)


async def _energy_kwh(repos: Repositories, txn: Transaction) -> Decimal:
    """Energy so far: the stop's, else the register's rise since the start."""
    wh: float = 0.0
    if txn.energy_wh is not None:
        wh = txn.energy_wh
    else:
        register = await repos.energy_register_range(txn.id)
        if register is not None:
            base = txn.meter_start_wh if txn.meter_start_wh is not None else register[0]
            wh = max(register[1] - base, 0.0)
    return (Decimal(str(wh)) / 1000).quantize(KWH, ROUND_HALF_UP)


class SessionPusher(EventListener):
    """Pushes roaming sessions (PUT, throttled PATCHes, final PUT) and their CDRs (POST)."""

    def __init__(self, roaming: Roaming, services: Services) -> None:
        self.roaming = roaming
        self.services = services
        self._patched: dict[int, datetime] = {}  # session → time of its last PATCH

    async def session_started(self, txn: Transaction) -> None:
        now = self.roaming.clock()
        route = await self.roaming.storage.read(lambda r: route_at_start(r, txn, now))
        if route is None:
            return
        document = await self._document(txn, route)
        if document is not None:
            await self._keep(document, route)
            await self._push_session(route, "PUT", document)

    async def session_updated(self, txn: Transaction) -> None:
        snapshot = await self._snapshot(txn.id)
        if snapshot is None or snapshot.data.get("status") != SessionStatus.ACTIVE.value:
            return
        now = self.roaming.clock()
        last = self._patched.get(txn.id)
        if last is not None and now - last < PATCH_INTERVAL:
            return
        current = await self.roaming.storage.read(lambda r: r.get_transaction(txn.id))
        if current is None or current.status is not TransactionStatus.ACTIVE:
            return  # its end is on the way: the final PUT carries everything
        route = SessionRoute.of(snapshot)
        document = await self._document(current, route)
        if document is None:
            return
        self._patched[txn.id] = now
        await self._keep(document, route)
        # mod_sessions §PATCH: only what changed, always with last_updated.
        changed = ("kwh", "total_cost", "last_updated")
        patch: dict[str, Any] = {key: document[key] for key in changed if key in document}
        await self._push_session(route, "PATCH", patch, session_id=document["id"])

    async def session_ended(self, txn: Transaction) -> None:
        await self._complete(txn.id)

    async def cdr_issued(self, cdr: CdrRecord) -> None:
        if cdr.transaction_id is None:
            return
        snapshot = await self._snapshot(cdr.transaction_id)
        if snapshot is None:
            return  # not a roaming session
        # Billing issues the CDR before session_ended is told: the eMSP gets the COMPLETED
        # session first, then its CDR.
        await self._complete(cdr.transaction_id)
        route = SessionRoute.of(snapshot)
        try:
            document = cdr_document(cdr, route)
        except ValidationError:
            log.exception("CDR not pushed: not a valid OCPI CDR", extra={"cdr": cdr.id})
            return
        kept = RoamingObject(CDRS_OUT, *route.party, cdr.id, document,
                             _last_updated(document, cdr.created_at), route.partner_id)
        await self.roaming.storage.write(lambda r: r.upsert_roaming_object(kept))
        if not await self._receives(route, "cdrs"):
            return
        # mod_cdrs §POST: to the eMSP's CDRs endpoint itself.
        await self.roaming.outbox.push(route.partner_id, "cdrs", "POST", "", document,
                                       f"cdrs/{cdr.id}", route.party)

    async def _complete(self, transaction_id: int) -> None:
        """The final PUT of a finished session, once (session_ended or its CDR, first wins)."""
        snapshot = await self._snapshot(transaction_id)
        if snapshot is None or snapshot.data.get("status") == SessionStatus.COMPLETED.value:
            return
        txn = await self.roaming.storage.read(lambda r: r.get_transaction(transaction_id))
        if txn is None or txn.status is not TransactionStatus.COMPLETED:
            return
        route = SessionRoute.of(snapshot)
        document = await self._document(txn, route)
        if document is None:
            return
        self._patched.pop(transaction_id, None)
        await self._keep(document, route)
        await self._push_session(route, "PUT", document)

    async def _snapshot(self, transaction_id: int) -> RoamingObject | None:
        found = await self.roaming.storage.read(
            lambda r: r.find_roaming_objects(SESSIONS_OUT, str(transaction_id)))
        return found[0] if found else None

    async def _keep(self, document: dict[str, Any], route: SessionRoute) -> None:
        kept = RoamingObject(SESSIONS_OUT, *route.party, document["id"], document,
                             _last_updated(document, self.roaming.clock()), route.partner_id)
        await self.roaming.storage.write(lambda r: r.upsert_roaming_object(kept))

    async def _push_session(self, route: SessionRoute, method: str, body: dict[str, Any],
                            session_id: str | None = None) -> None:
        """mod_sessions §Receiver: {sessions}/{our country_code}/{our party_id}/{id}."""
        if not await self._receives(route, "sessions"):
            return
        identity = self.roaming.identity
        sid = session_id or str(body["id"])
        await self.roaming.outbox.push(
            route.partner_id, "sessions", method,
            f"/{identity.country_code}/{identity.party_id}/{sid}", body, f"sessions/{sid}",
            route.party)

    async def _receives(self, route: SessionRoute, module: str) -> bool:
        """Whether the platform takes pushes of `module`; one without a RECEIVER endpoint
        pulls instead (mod_sessions/mod_cdrs §Pull model), from what `_keep` stored."""
        partner = await self.roaming.storage.read(lambda r: r.get_partner(route.partner_id))
        return partner is not None and partner.endpoint(module, "RECEIVER") is not None

    async def _document(self, txn: Transaction, route: SessionRoute) -> dict[str, Any] | None:
        measure = await self._measure(txn)
        station = await self.roaming.storage.read(lambda r: r.get_station(txn.station_id))
        identity = self.roaming.identity
        try:
            return session_document(identity.country_code, identity.party_id, txn, route,
                                    station.location_id if station else None, measure,
                                    self.roaming.clock())
        except ValidationError:
            log.exception("session not pushed: not a valid OCPI Session",
                          extra={"transaction_id": txn.id})
            return None

    async def _measure(self, txn: Transaction) -> Measure:
        """Energy and cost: the CDR's once issued, else the running price, else the meter."""
        billing = self.services.billing
        issued = [c for c in await billing.of_transaction(txn.id) if not c.credit]
        if issued:
            ocpi = issued[-1].document["ocpi"]
            # An unpriced CDR says 0.00; a session without price information omits total_cost
            # (mod_sessions: omitted "does not imply the session is/was free of charge").
            return Measure(issued[-1].total_energy_kwh, issued[-1].currency,
                           ocpi["total_cost"] if ocpi.get("tariffs") else None,
                           ocpi.get("charging_periods"))
        try:
            cost = await billing.current_price(txn.id)
        except NotFound:
            cost = None
        if cost is not None:
            total = cost.total_cost.rounded(cost.currency)
            return Measure(cost.total_energy_kwh.quantize(KWH, ROUND_HALF_UP), cost.currency,
                           {"excl_vat": total.excl_vat, "incl_vat": total.incl_vat}, None)
        kwh = await self.roaming.storage.read(lambda r: _energy_kwh(r, txn))
        return Measure(kwh, billing.currency, None, None)


def _last_updated(document: dict[str, Any], fallback: datetime) -> datetime:
    return parse_ocpi_instant(str(document.get("last_updated") or "")) or fallback
