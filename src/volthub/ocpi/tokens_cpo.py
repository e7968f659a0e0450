"""OCPI CPO role: the eMSPs' tokens we hold and their real-time authorization at the eMSP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from volthub.domain.enums import AuthStatus
from volthub.domain.model import Authorization
from volthub.domain.roaming import Partner, RoamingAuthorization, RoamingObject
from volthub.ocpi.client import PartnerUnreachable
from volthub.ocpi.roaming import REACHABLE, Roaming
from volthub.ocpi.schemas import AllowedType, AuthorizationInfo, LocationReferences
from volthub.services.authorization import ROAMING_TOKENS, roaming_group_id
from volthub.storage.interface import Repositories

log = logging.getLogger("volthub.ocpi.tokens")

# The station is waiting for its Authorize answer (mod_tokens §Real-time authorization NOTE:
# keep delays "to an absolute minimum"); past this the eMSP counts as unreachable.
REAL_TIME_TIMEOUT_S = 5.0
# RoamingAuthorization.extra["source"] of the grants stored here (START_SESSION grants carry
# extra["command"] instead).
SOURCE_REAL_TIME = "real_time"
SOURCE_OFFLINE = "offline"

# AllowedType → OCPP authorization status (volthub's AuthStatus has no NoCredit: the 1.6
# AuthorizationStatus has none either, so NO_CREDIT is Invalid everywhere).
ALLOWED_STATUS = {
    AllowedType.ALLOWED: AuthStatus.ACCEPTED,
    AllowedType.BLOCKED: AuthStatus.BLOCKED,
    AllowedType.EXPIRED: AuthStatus.EXPIRED,
    AllowedType.NO_CREDIT: AuthStatus.INVALID,
    AllowedType.NOT_ALLOWED: AuthStatus.INVALID,
}


def cdr_token(token: dict[str, Any]) -> dict[str, Any]:
    """mod_cdrs §CdrToken of a stored OCPI Token."""
    return {key: token[key] for key in ("country_code", "party_id", "uid", "type", "contract_id")}


def choose_token(tokens: Sequence[RoamingObject],
                 partner_id: int | None = None) -> RoamingObject | None:
    """Of several eMSPs' tokens sharing a uid, the one from the platform that last authorized
    it, else the most recently updated (find_roaming_objects orders newest first)."""
    for token in tokens:
        if partner_id is not None and token.partner_id == partner_id:
            return token
    return tokens[0] if tokens else None


class _Outcome(Enum):
    UNKNOWN = "unknown"  # the eMSP does not know the token: ask the next one
    UNREACHABLE = "unreachable"  # no answer (mod_tokens ALLOWED_OFFLINE applies)
    NO_DECISION = "no_decision"  # an answer that is neither a yes nor a no (2002, bad body)


@dataclass(slots=True, frozen=True)
class _Target:
    partner: Partner | None  # None: the token's platform is gone or offers no tokens SENDER
    to_party: tuple[str, str] | None
    token: RoamingObject | None


class RealTimeAuthorizer:
    """services.ports.RoamingAuthorizer: POST {tokens}/{uid}/authorize at the eMSP."""

    def __init__(self, roaming: Roaming, timeout_s: float = REAL_TIME_TIMEOUT_S) -> None:
        self.roaming = roaming
        self.timeout_s = timeout_s

    async def authorize(self, id_token: str,
                        station_id: str | None = None) -> Authorization | None:
        if "CPO" not in self.roaming.identity.roles:
            return None
        tokens = await self.roaming.storage.read(
            lambda r: r.find_roaming_objects(ROAMING_TOKENS, id_token))
        location = await self._location(station_id)
        unreachable: list[RoamingObject] = []
        for target in await self._targets(tokens):
            outcome = await self._ask(target, id_token, location) \
                if target.partner is not None else _Outcome.UNREACHABLE
            if isinstance(outcome, Authorization):
                return outcome
            if outcome is _Outcome.NO_DECISION:
                break  # this eMSP knows the token but gave no verdict: nobody else will
            if outcome is _Outcome.UNREACHABLE and target.token is not None:
                unreachable.append(target.token)
        for token in unreachable:
            offline = await self._offline(token, location)
            if offline is not None:
                return offline
        return None

    async def _targets(self, tokens: Sequence[RoamingObject]) -> list[_Target]:
        """The platform of each stored token; for a uid nobody pushed, every eMSP offering the
        tokens SENDER interface (in turn, until one knows it)."""
        if not tokens:
            return [_Target(p, _emsp_party(p), None)
                    for p in await self.roaming.partners_with("EMSP", "tokens", "SENDER")]
        partners = {p.id: p for p in await self.roaming.registration.all()}
        targets = []
        for token in tokens:
            partner = partners.get(token.partner_id) if token.partner_id is not None else None
            if partner is not None and (partner.status not in REACHABLE
                                        or partner.endpoint("tokens", "SENDER") is None):
                partner = None
            targets.append(_Target(partner, (token.country_code, token.party_id), token))
        return targets

    async def _location(self, station_id: str | None) -> LocationReferences | None:
        """mod_tokens §POST body: where the token is used, if the station is in OCPI."""
        if station_id is None:
            return None
        station = await self.roaming.storage.read(lambda r: r.get_station(station_id))
        if station is None or not station.location_id:
            return None
        return LocationReferences(location_id=station.location_id)

    async def _ask(self, target: _Target, uid: str,
                   location: LocationReferences | None) -> Authorization | _Outcome:
        partner = target.partner
        assert partner is not None
        endpoint = partner.endpoint("tokens", "SENDER")
        if endpoint is None or not partner.token_out:
            return _Outcome.UNREACHABLE
        token_type = str(target.token.data.get("type", "RFID")) if target.token else "RFID"
        url = f"{endpoint.rstrip('/')}/{quote(uid, safe='')}/authorize"
        try:
            reply = await asyncio.wait_for(self.roaming.client.request(
                "POST", url, partner.token_out, params={"type": token_type},
                body=location.model_dump(mode="json", exclude_none=True) if location else None,
                plain_token=partner.sends_plain_token, from_party=self.roaming.identity.party,
                to_party=target.to_party), self.timeout_s)
        except (PartnerUnreachable, TimeoutError) as exc:
            log.warning("real-time authorization: eMSP unreachable",
                        extra={"partner": partner.id, "error": str(exc)})
            return _Outcome.UNREACHABLE
        if reply.http_status == 404 or reply.status_code == 2004:
            # mod_tokens §POST: an unknown token is HTTP 404 / OCPI 2004.
            return _Outcome.UNKNOWN
        if reply.http_status == 401 or (reply.status_code or 0) >= 3000:
            return _Outcome.UNREACHABLE  # our credentials or their server: no usable answer
        if not reply.ok:
            log.warning("real-time authorization refused",
                        extra={"partner": partner.id, "reply": reply.describe()})
            return _Outcome.NO_DECISION
        return await self._record(partner, uid, reply.data, location)

    async def _record(self, partner: Partner, uid: str, data: Any,
                      location: LocationReferences | None) -> Authorization | _Outcome:
        try:
            info = AuthorizationInfo.model_validate(data)
        except ValidationError as exc:
            log.warning("real-time authorization: not an AuthorizationInfo",
                        extra={"partner": partner.id, "error": str(exc)})
            return _Outcome.NO_DECISION
        token = info.token
        if token.uid.upper() != uid.upper() or not (
                partner.is_hub or partner.has_party(token.country_code, token.party_id)):
            # An answer about another token, or for a party this platform does not speak for.
            log.warning("real-time authorization: answer for another token or party",
                        extra={"partner": partner.id, "uid": token.uid})
            return _Outcome.NO_DECISION
        token_data = token.model_dump(mode="json", exclude_none=True)
        now = self.roaming.clock()
        stored = RoamingObject(ROAMING_TOKENS, token.country_code, token.party_id, uid,
                               token_data, token.last_updated, partner.id)
        grant = RoamingAuthorization(
            uid=uid, allowed=info.allowed.value,
            authorization_reference=info.authorization_reference, created_at=now,
            location_id=location.location_id if location else None, partner_id=partner.id,
            extra={"source": SOURCE_REAL_TIME})

        async def op(r: Repositories) -> None:
            await r.upsert_roaming_object(stored)
            await r.insert_roaming_authorization(grant)

        await self.roaming.storage.write(op)
        return Authorization(ALLOWED_STATUS[info.allowed], group_id=roaming_group_id(token_data))

    async def _offline(self, token: RoamingObject,
                       location: LocationReferences | None) -> Authorization | None:
        """mod_tokens §WhitelistType ALLOWED_OFFLINE: "when the CPO cannot get a response from
        the eMSP ... the CPO shall allow this Token to be used" -- a token the eMSP last
        told us is invalid stays refused. NEVER: no answer, no charging (None)."""
        if token.data.get("whitelist") != "ALLOWED_OFFLINE":
            return None
        if token.data.get("valid") is not True:
            return Authorization(AuthStatus.INVALID)
        # Stored like a grant so that the StartTransaction that follows is accepted too.
        grant = RoamingAuthorization(
            uid=token.object_id, allowed=AllowedType.ALLOWED.value, authorization_reference=None,
            created_at=self.roaming.clock(),
            location_id=location.location_id if location else None,
            partner_id=token.partner_id, extra={"source": SOURCE_OFFLINE})
        await self.roaming.storage.write(lambda r: r.insert_roaming_authorization(grant))
        return Authorization(AuthStatus.ACCEPTED, group_id=roaming_group_id(token.data))


def _emsp_party(partner: Partner) -> tuple[str, str] | None:
    """The eMSP party of a direct peer; a hub is asked without a receiver (it routes)."""
    if partner.is_hub:
        return None
    for role in partner.roles:
        if role.get("role") == "EMSP":
            return (str(role["country_code"]), str(role["party_id"]))
    return None
