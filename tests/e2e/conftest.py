"""Fixtures of the end-to-end tests beyond tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.tls_server import TlsEnv, tls_server


@pytest.fixture
async def tls(sqlite_url: str, tmp_path: Path) -> AsyncIterator[TlsEnv]:
    """A server on wss:// with an RSA and an ECDSA certificate (tests/support/tls_server.py)."""
    async with tls_server(sqlite_url, tmp_path) as env:
        yield env
