"""The one authorization rule for Authorize, transaction start and remote start (every version)."""

from __future__ import annotations

from datetime import datetime

from volthub.domain.enums import AuthStatus, TokenStatus
from volthub.domain.model import Authorization, IdToken
from volthub.storage.interface import Repositories


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
    """Authorize `id_token`; unknown tokens are UNKNOWN (1.6 adapters say Invalid)."""
    token = await repos.get_token(id_token)
    if token is None:
        return Authorization(status=AuthStatus.UNKNOWN)
    group = None
    if token.group_id and token.group_id != token.id_token:
        group = await repos.get_token(token.group_id)
    return token_authorization(token, group, now)


def local_list_status(token: IdToken, now: datetime) -> AuthStatus:
    """What a token is worth in a local list: no group lookup, the station checks groups."""
    return token_authorization(token, None, now).status


__all__ = ["TokenStatus", "authorize", "local_list_status", "token_authorization"]
