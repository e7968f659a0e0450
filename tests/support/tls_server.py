"""A TLS-enabled test server (wss://, https://) and helpers for security tests."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.timeouts import ANSWER_TIMEOUT_S
from tests.support.tls_pki import TestCA, client_context

PASSWORD = "s3cret-passw0rd-16"


@dataclass
class TlsEnv:
    server: RunningServer
    ca: TestCA
    folder: Path
    ca_file: Path

    def client(self, cn: str | None = None, kind: str = "ecdsa", **kwargs: Any) -> ssl.SSLContext:
        """A station's TLS context trusting our test CA, with a client certificate for `cn`."""
        if cn is None:
            return client_context(self.ca_file, **kwargs)
        cert, key = self.ca.write_pair(self.folder, f"client-{cn}-{kind}", cn, kind)
        return client_context(self.ca_file, cert, key, **kwargs)


@asynccontextmanager
async def tls_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[TlsEnv]:
    """A server with an RSA and an ECDSA certificate; client certificates of the test CA (and
    of the built-in CA) are accepted."""
    ca = TestCA.create()
    rsa_cert, rsa_key = ca.write_pair(tmp_path, "server-rsa", "127.0.0.1", "rsa", server=True)
    ec_cert, ec_key = ca.write_pair(tmp_path, "server-ecdsa", "127.0.0.1", "ecdsa", server=True)
    ca_file = ca.write_cert(tmp_path)
    settings = test_settings(
        sqlite_url, tls_cert_file=str(rsa_cert), tls_key_file=str(rsa_key),
        tls_ecdsa_cert_file=str(ec_cert), tls_ecdsa_key_file=str(ec_key),
        tls_client_ca_file=str(ca_file))
    async with run_server(settings, client_ssl=client_context(ca_file)) as server:
        yield TlsEnv(server, ca, tmp_path, ca_file)


@asynccontextmanager
async def open_ws(server: RunningServer, station_id: str, context: ssl.SSLContext | None,
                  password: str | None = None) -> AsyncIterator[ClientConnection]:
    headers = {}
    if password is not None:
        token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    async with websockets.connect(f"{server.ocpp_url}/{station_id}", ssl=context,
                                  subprotocols=[Subprotocol("ocpp1.6")],
                                  additional_headers=headers) as ws:
        yield ws


async def heartbeat(ws: ClientConnection) -> Any:
    await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=ANSWER_TIMEOUT_S))


async def refused(server: RunningServer, station_id: str, context: ssl.SSLContext | None,
                  password: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with open_ws(server, station_id, context, password):
            pass
    return info.value.response.status_code


async def events(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/security-events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def create(server: RunningServer, station_id: str, profile: int,
                 password: str | None = None) -> None:
    body: dict[str, Any] = {"id": station_id, "security_profile": profile}
    if password:
        body["password"] = password
    response = await server.api.post("/stations", json=body)
    assert response.status_code == 201, response.text


def ssl_object(ws: ClientConnection) -> ssl.SSLObject:
    obj: ssl.SSLObject = ws.transport.get_extra_info("ssl_object")
    return obj
