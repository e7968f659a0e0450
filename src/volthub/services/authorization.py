"""The one authorization rule for Authorize, transaction start and remote start (every version)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from volthub.domain.enums import AuthStatus, TokenStatus
from volthub.domain.model import Authorization, IdToken
from volthub.domain.roaming import RoamingAuthorization, RoamingObject
from volthub.storage.interface import Repositories

# OCPI tokens pushed to us by eMSPs (CPO role) are kept as RoamingObjects of this module.
ROAMING_TOKENS = "tokens"
# An eMSP's "go" (real-time ALLOWED or a START_SESSION) lets a session of that token start for
# this long: a 1.6 StartTransaction can follow its Authorize by minutes, a reservation by hours.
ROAMING_GRANT_VALIDITY = timedelta(hours=24)
# A grant this recent answers the current attempt (the Authorize a station sends right after a
# START_SESSION, or again before StartTransaction): the eMSP is not asked a second time.
ROAMING_GRANT_FRESH = timedelta(minutes=5)
# mod_tokens §WhitelistType: with these the eMSP decides each use in real time.
REAL_TIME_WHITELISTS = frozenset({"NEVER", "ALLOWED_OFFLINE"})
# mod_tokens Token.group_id note: OCPP 1.5/1.6 parentIdTag holds at most 20 characters.
MAX_GROUP_ID = 20


def token_authorization(token: IdToken, group: IdToken | None, now: datetime) -> Authorization:
    """Status of a known token: its own status, then its expiry, then its group's standing."""
    status = AuthStatus(token.status.value)
    if status is AuthStatus.ACCEPTED and token.expires_at is not None and token.expires_at <= now:
        status = AuthStatus.EXPIRED
    if status is AuthStatus.ACCEPTED and group is not None:
        # A blocked or expired group token takes all its members with it.
        group_auth = token_authorization(group, None, now)
        if group_auth.status is not AuthStatus.ACCEPTED:
            status = group_auth.status
    return Authorization(status=status, expires_at=token.expires_at, group_id=token.group_id)


async def authorize(repos: Repositories, id_token: str, now: datetime) -> Authorization:
    """Authorize `id_token`: ours first, then eMSPs' roaming tokens; unknown tokens are
    UNKNOWN (1.6 adapters say Invalid). Works inside a transaction, never over the network."""
    token = await repos.get_token(id_token)
    if token is None:
        return await roaming_authorization(repos, id_token, now)
    group = None
    if token.group_id and token.group_id != token.id_token:
        group = await repos.get_token(token.group_id)
    return token_authorization(token, group, now)


async def recent_grant(repos: Repositories, uid: str, now: datetime,
                       within: timedelta = ROAMING_GRANT_VALIDITY) -> RoamingAuthorization | None:
    """The eMSP's latest answer for `uid` if it allowed charging (a later refusal revokes)."""
    latest = await repos.latest_roaming_authorization(uid, now - within)
    return latest if latest is not None and latest.allowed == "ALLOWED" else None


async def roaming_authorization(repos: Repositories, uid: str, now: datetime) -> Authorization:
    """A roaming token (OCPI CPO role) as far as stored data tells; UNKNOWN means the eMSP has
    to be asked in real time (or nobody knows the token)."""
    tokens = await repos.find_roaming_objects(ROAMING_TOKENS, uid)
    granted = await recent_grant(repos, uid, now) is not None
    if not tokens:
        # A START_SESSION or real-time answer for a token that was never pushed.
        return Authorization(AuthStatus.ACCEPTED if granted else AuthStatus.UNKNOWN)
    verdicts = [(roaming_token_status(t.data, granted), t) for t in tokens]
    for wanted in (AuthStatus.ACCEPTED, AuthStatus.UNKNOWN):
        for status, obj in verdicts:
            if status is wanted:
                return Authorization(status, group_id=roaming_group_id(obj.data))
    return Authorization(verdicts[0][0])


def roaming_token_status(data: Mapping[str, Any], granted: bool) -> AuthStatus:
    """One OCPI Token: NEVER/ALLOWED_OFFLINE need the eMSP's grant whatever `valid` says
    (mod_tokens §WhitelistType: "The validity of a Token has no influence on this ... the CPO
    SHALL do a real-time authorization"); ALWAYS/ALLOWED are whitelisted: `valid` decides."""
    if data.get("whitelist") in REAL_TIME_WHITELISTS:
        return AuthStatus.ACCEPTED if granted else AuthStatus.UNKNOWN
    return AuthStatus.ACCEPTED if data.get("valid") is True else AuthStatus.INVALID


def roaming_group_id(data: Mapping[str, Any]) -> str | None:
    group = data.get("group_id")
    return group if isinstance(group, str) and 0 < len(group) <= MAX_GROUP_ID else None


def requires_real_time(tokens: Sequence[RoamingObject]) -> bool:
    """Whether any of these tokens (same uid, several eMSPs) needs the eMSP for each use."""
    return any(t.data.get("whitelist") in REAL_TIME_WHITELISTS for t in tokens)


async def ask_emsp(repos: Repositories, id_token: str, local: Authorization,
                   now: datetime) -> bool:
    """Whether an authorization with the network at hand should ask the eMSP in real time:
    not for our own tokens; yes when nothing stored decides (UNKNOWN); yes for a token whose
    whitelist wants real time unless the eMSP allowed it just now (mod_tokens §WhitelistType
    NEVER: "CPO shall always send a realtime authorization for any use of this Token")."""
    if await repos.get_token(id_token) is not None:
        return False
    if local.status is AuthStatus.UNKNOWN:
        return True
    tokens = await repos.find_roaming_objects(ROAMING_TOKENS, id_token)
    if not requires_real_time(tokens):
        return False
    return await recent_grant(repos, id_token, now, ROAMING_GRANT_FRESH) is None


def local_list_status(token: IdToken, now: datetime) -> AuthStatus:
    """What a token is worth in a local list: no group lookup, the station checks groups."""
    return token_authorization(token, None, now).status


__all__ = ["TokenStatus", "ask_emsp", "authorize", "local_list_status", "token_authorization"]
