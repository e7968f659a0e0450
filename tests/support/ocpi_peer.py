"""A stand-in OCPI partner for tests: records what it receives, answers as told, can go down."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from volthub.domain.roaming import Partner, PartnerStatus
from volthub.ocpi.envelope import envelope
from volthub.wiring import Container


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    """An ASGI app served by uvicorn on a loopback port, started and stopped by the test."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, app: Starlette) -> None:
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                     log_config=None, lifespan="off"))
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = None


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandInPeer:
    """Every request is recorded and answered with `status_code` (1000 unless told)."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    status_code: int = 1000
    _loopback: LoopbackServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: Request) -> JSONResponse:
        raw = await request.body()
        body = await request.json() if raw else None
        self.received.append(Received(request.method, request.url.path,
                                      dict(request.headers), body))
        return JSONResponse(envelope(None, self.status_code))

    async def start(self) -> None:
        self._loopback = LoopbackServer(self.port)
        await self._loopback.start(Starlette(routes=[Route(
            "/{path:path}", self._handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]))

    async def stop(self) -> None:
        if self._loopback is not None:
            await self._loopback.stop()


async def add_partner(container: Container, peer: StandInPeer, role: str = "EMSP",
                      party: tuple[str, str] = ("DE", "MSP")) -> int:
    """A registered partner whose every endpoint is on the stand-in (no handshake)."""
    endpoints = [{"identifier": module, "role": interface,
                  "url": f"{peer.url}/{module}/{interface.lower()}"}
                 for module in ("locations", "sessions", "cdrs", "tariffs", "tokens",
                                "commands", "credentials")
                 for interface in ("SENDER", "RECEIVER")]
    partner = Partner(id=0, status=PartnerStatus.CONNECTED,
                      roles=[{"role": role, "country_code": party[0], "party_id": party[1],
                              "business_details": {"name": "stand-in"}}],
                      versions_url=f"{peer.url}/versions", version="2.2.1",
                      endpoints=endpoints, token_out="token-for-stand-in")
    now = container.services.clock()
    storage = container.services.storage
    return await storage.write(lambda r: r.insert_partner(partner, now))
