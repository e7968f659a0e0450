"""A small OCPP 1.6 CSMS for the simulator's tests, on the ocpp library's server side.

It records every frame in order (so tests can check what came first), answers station calls
with schema-valid payloads, and lets a test call a station.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Frame:
    station_id: str
    direction: str  # "in": from the station, "out": to it
    message: list[Any]

    @property
    def kind(self) -> int:
        return int(self.message[0])

    @property
    def action(self) -> str | None:
        return str(self.message[2]) if self.kind == 2 else None

    @property
    def payload(self) -> dict[str, Any]:
        return dict(self.message[3] if self.kind == 2 else self.message[2])


class _Recorder:
    def __init__(self, csms: FakeCsms, station_id: str, ws: ServerConnection) -> None:
        self.csms, self.station_id, self.ws = csms, station_id, ws

    async def recv(self) -> str:
        raw = await self.ws.recv()
        text = raw if isinstance(raw, str) else raw.decode()
        self.csms._record(Frame(self.station_id, "in", json.loads(text)))
        return text

    async def send(self, message: str) -> None:
        self.csms._record(Frame(self.station_id, "out", json.loads(message)))
        await self.ws.send(message)


class _Point(ChargePoint):  # type: ignore[misc]
    def __init__(self, station_id: str, connection: _Recorder, csms: FakeCsms) -> None:
        super().__init__(station_id, connection, response_timeout=10)
        self.csms = csms

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot(self, **_: Any) -> Any:
        status = self.csms.boot_statuses.pop(0) if self.csms.boot_statuses else "Accepted"
        return call_result.BootNotification(
            current_time=now_iso(), interval=self.csms.interval_s, status=status
        )

    @on(Action.heartbeat)  # type: ignore[untyped-decorator]
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)  # type: ignore[untyped-decorator]
    def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)  # type: ignore[untyped-decorator]
    def on_authorize(self, id_tag: str, **_: Any) -> Any:
        return call_result.Authorize(id_tag_info={"status": self.csms.tag_status(id_tag)})

    @on(Action.start_transaction)  # type: ignore[untyped-decorator]
    def on_start(self, id_tag: str, **_: Any) -> Any:
        return call_result.StartTransaction(
            transaction_id=next(self.csms.transaction_ids),
            id_tag_info={"status": self.csms.tag_status(id_tag)},
        )

    @on(Action.stop_transaction)  # type: ignore[untyped-decorator]
    def on_stop(self, **_: Any) -> Any:
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)  # type: ignore[untyped-decorator]
    def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.data_transfer)  # type: ignore[untyped-decorator]
    def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status="Accepted")

    @on(Action.firmware_status_notification)  # type: ignore[untyped-decorator]
    def on_firmware(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)  # type: ignore[untyped-decorator]
    def on_diagnostics(self, **_: Any) -> Any:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.log_status_notification)  # type: ignore[untyped-decorator]
    def on_log_status(self, **_: Any) -> Any:
        return call_result.LogStatusNotification()

    @on(Action.security_event_notification)  # type: ignore[untyped-decorator]
    def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)  # type: ignore[untyped-decorator]
    def on_sign_certificate(self, **_: Any) -> Any:
        return call_result.SignCertificate(status="Accepted")

    @on(Action.signed_firmware_status_notification)  # type: ignore[untyped-decorator]
    def on_signed_firmware(self, **_: Any) -> Any:
        return call_result.SignedFirmwareStatusNotification()


@dataclass
class FakeCsms:
    """``boot_statuses`` answer the first BootNotifications in turn, then Accepted."""

    interval_s: int = 300
    boot_statuses: list[str] = field(default_factory=list)
    refused_tags: set[str] = field(default_factory=set)
    frames: list[Frame] = field(default_factory=list)
    authorization: dict[str, str | None] = field(default_factory=dict)
    points: dict[str, _Point] = field(default_factory=dict)
    sockets: dict[str, ServerConnection] = field(default_factory=dict)
    transaction_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _server: Server | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def tag_status(self, id_tag: str) -> str:
        return "Invalid" if id_tag in self.refused_tags else "Accepted"

    async def start(self) -> str:
        self._server = await serve(self._handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"])  # type: ignore[list-item]
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        station_id = ws.request.path.rsplit("/", 1)[-1] if ws.request else "?"
        self.authorization[station_id] = ws.request.headers.get("Authorization") if ws.request else None
        point = _Point(station_id, _Recorder(self, station_id, ws), self)
        self.points[station_id] = point
        self.sockets[station_id] = ws
        with contextlib.suppress(ConnectionClosed):
            await point.start()

    def _record(self, frame: Frame) -> None:
        self.frames.append(frame)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def call(self, station_id: str, payload: Any) -> Any:
        return await self.points[station_id].call(payload)

    def calls(self, action: str, station_id: str | None = None) -> list[dict[str, Any]]:
        """Payloads of the station calls of ``action`` so far."""
        return [
            f.payload
            for f in self.frames
            if f.direction == "in" and f.action == action and station_id in (None, f.station_id)
        ]

    def statuses(self, connector_id: int) -> list[str]:
        return [p["status"] for p in self.calls("StatusNotification") if p["connectorId"] == connector_id]

    async def wait_for(
        self, action: str, count: int = 1, timeout_s: float = 5.0, **match: Any
    ) -> dict[str, Any]:
        """The ``count``-th station call of ``action`` whose payload has the ``match`` items."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [p for p in self.calls(action) if all(p.get(k) == v for k, v in match.items())]
            if len(found) >= count:
                return found[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {action} {match} (#{count}) within {timeout_s} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
