"""Station password hashing (scrypt from the standard library) with a verification cache."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

# scrypt parameters: ~20 ms per verification on this class of machine; the LRU cache below keeps
# reconnect storms from burning a core on re-hashing the same credentials.
_N, _R, _P = 2**14, 8, 1


def _octets(password: str | bytes) -> bytes:
    # A 1.6 AuthorizationKey may stand for binary octets (whitepaper A00.FR.205): bytes as given.
    return password if isinstance(password, bytes) else password.encode()


def hash_password(password: str | bytes) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_octets(password), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@lru_cache(maxsize=65536)
def verify_password(password: str | bytes, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        _octets(password), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def hash_token(token: str) -> str:
    """Admin bearer tokens are long random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()
