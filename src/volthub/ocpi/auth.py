"""The `Authorization: Token ...` header (transport_and_format §Authorization header)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets


def encode_token(token: str) -> str:
    """The header value for a credentials token: `Token <base64(utf-8 token)>`."""
    return "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")


def decode_header(value: str | None) -> list[tuple[str, bool]]:
    """Candidate tokens in an Authorization header, each with `plain` (not Base64-encoded).

    The Base64 reading comes first; the literal value is the fallback for 2.1.1/2.2 peers that
    do not encode (transport_and_format §Authorization header, NOTE). A token that happens to be
    valid Base64 is thus tried both ways; the caller matches each against known tokens."""
    if not value:
        return []
    scheme, _, raw = value.strip().partition(" ")
    raw = raw.strip()
    if scheme.lower() != "token" or not raw:
        return []
    candidates: list[tuple[str, bool]] = []
    try:
        decoded = base64.b64decode(raw, validate=True).decode("utf-8")
        if decoded:
            candidates.append((decoded, False))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    candidates.append((raw, True))
    return candidates


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A credentials token: types §CiString(64), printable, unguessable."""
    return secrets.token_urlsafe(36)[:48]
