"""A real volthub server on an ephemeral loopback port, in the test's event loop."""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import httpx
import uvicorn

from volthub.app import create_app
from volthub.config import Settings
from volthub.security.tls import tls_enabled, uvicorn_options
from volthub.wiring import Container

ADMIN_TOKEN = "test-admin-token"


@dataclass
class RunningServer:
    settings: Settings
    port: int
    server: uvicorn.Server
    container: Container
    api: httpx.AsyncClient

    @property
    def tls(self) -> bool:
        return tls_enabled(self.settings)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ocpp_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/ocpp"


def test_settings(database_url: str, **overrides: object) -> Settings:
    # The built-in CA and other server files in a fresh folder, not the working folder.
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, port=0,
                        call_timeout_s=5.0, log_json=False,
                        data_dir=tempfile.mkdtemp(prefix="volthub-test-data-"))
    return replace(settings, **overrides)  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a pytest test


@asynccontextmanager
async def run_server(
    settings: Settings, client_ssl: ssl.SSLContext | None = None
) -> AsyncIterator[RunningServer]:
    """With TLS settings the server listens for wss:// and https://; `client_ssl` is then what
    the admin API client trusts."""
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_config=None,
                            lifespan="on",
                            ws_ping_interval=settings.ws_ping_interval_s,
                            ws_ping_timeout=settings.ws_ping_timeout_s,
                            **uvicorn_options(settings))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if tls_enabled(settings) else "http"
    api = httpx.AsyncClient(
        base_url=f"{scheme}://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {settings.admin_token}"},
        timeout=30, verify=client_ssl if client_ssl is not None else True,
    )
    try:
        yield RunningServer(settings, port, server, app.state.container, api)
    finally:
        # The client first: an idle TLS connection would hold the server's shutdown until
        # asyncio's SSL shutdown timeout (30 s).
        await api.aclose()
        server.should_exit = True
        await task
