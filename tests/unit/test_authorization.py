"""The one authorization rule: status, expiry, group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from volthub.domain.enums import AuthStatus, TokenStatus
from volthub.domain.model import IdToken
from volthub.services.authorization import token_authorization

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_accepted_token_keeps_its_expiry_and_group() -> None:
    auth = token_authorization(IdToken("A", expires_at=NOW + timedelta(days=1), group_id="G"),
                               None, NOW)
    assert auth.status is AuthStatus.ACCEPTED
    assert auth.expires_at == NOW + timedelta(days=1) and auth.group_id == "G"


def test_expiry_in_the_past_makes_an_accepted_token_expired() -> None:
    token = IdToken("A", expires_at=NOW - timedelta(seconds=1))
    assert token_authorization(token, None, NOW).status is AuthStatus.EXPIRED


def test_blocked_status_wins_over_expiry() -> None:
    token = IdToken("A", status=TokenStatus.BLOCKED, expires_at=NOW - timedelta(days=1))
    assert token_authorization(token, None, NOW).status is AuthStatus.BLOCKED


def test_blocked_or_expired_group_takes_its_members_along() -> None:
    member = IdToken("A", group_id="G")
    blocked_group = IdToken("G", status=TokenStatus.BLOCKED)
    expired_group = IdToken("G", expires_at=NOW - timedelta(days=1))
    assert token_authorization(member, blocked_group, NOW).status is AuthStatus.BLOCKED
    assert token_authorization(member, expired_group, NOW).status is AuthStatus.EXPIRED
    assert token_authorization(member, IdToken("G"), NOW).status is AuthStatus.ACCEPTED
