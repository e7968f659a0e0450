"""A small OCPP 2.0.1 / 2.1 CSMS for the simulator's tests, on the ocpp library's server side.

One server speaks both versions: each connection gets an ``ocpp.v201.ChargePoint`` or an
``ocpp.v21.ChargePoint`` after the subprotocol the station chose. Payloads stay camelCase: the
station's calls are answered from ``responders`` (schema-validated by the library both ways),
and a test calls a station with ``call(station_id, action, payload)``. Every frame is recorded
in order, so tests can check what came first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.messages import Call, MessageType, validate_payload
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v201 import ChargePoint as ChargePoint201
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Payload = dict[str, Any]


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
    def payload(self) -> Payload:
        if self.kind == 2:
            return dict(self.message[3])
        if self.kind == 3:
            return dict(self.message[2])
        return {}


class CallErrorReply(Exception):
    def __init__(self, frame: list[Any]) -> None:
        super().__init__(f"{frame[2]}: {frame[3]}")
        self.code = str(frame[2])
        self.frame = frame


class _Recorder:
    def __init__(self, csms: FakeCsms2, station_id: str, ws: ServerConnection) -> None:
        self.csms, self.station_id, self.ws = csms, station_id, ws

    async def recv(self) -> str:
        raw = await self.ws.recv()
        text = raw if isinstance(raw, str) else raw.decode()
        self.csms._record(Frame(self.station_id, "in", json.loads(text)))
        return text

    async def send(self, message: str) -> None:
        self.csms._record(Frame(self.station_id, "out", json.loads(message)))
        await self.ws.send(message)


class _Raw:
    csms: FakeCsms2

    async def _handle_call(self, msg: Any) -> None:
        point: Any = self
        responder = self.csms.responders.get(msg.action)
        if responder is None:
            raise OcppNotImplementedError(details={"cause": f"fake CSMS has no {msg.action}"})
        await validate_payload(msg, point._ocpp_version)
        result = msg.create_call_result(responder(point.id, msg.payload))
        await validate_payload(result, point._ocpp_version)
        await point._send(result.to_json())

    async def call_raw(self, action: str, payload: Payload) -> Payload:
        point: Any = self
        message = Call(unique_id=str(uuid.uuid4()), action=action, payload=payload)
        await validate_payload(message, point._ocpp_version)
        async with point._call_lock:
            await point._send(message.to_json())
            response = await point._get_specific_response(message.unique_id, point._response_timeout)
        if response.message_type_id == MessageType.CallError:
            raise CallErrorReply([4, response.unique_id, response.error_code, response.error_description])
        response.action = action
        await validate_payload(response, point._ocpp_version)
        return dict(response.payload)


class _Point201(_Raw, ChargePoint201):  # type: ignore[misc]
    pass


class _Point21(_Raw, ChargePoint21):  # type: ignore[misc]
    pass


@dataclass
class FakeCsms2:
    """``boot_statuses`` answer the first BootNotifications in turn, then Accepted."""

    interval_s: int = 300
    boot_statuses: list[str] = field(default_factory=list)
    refused_tokens: set[str] = field(default_factory=set)
    frames: list[Frame] = field(default_factory=list)
    authorization: dict[str, str | None] = field(default_factory=dict)
    points: dict[str, Any] = field(default_factory=dict)
    sockets: dict[str, ServerConnection] = field(default_factory=dict)
    responders: dict[str, Callable[[str, Payload], Payload]] = field(default_factory=dict)
    #: The station id of every WebSocket connection, in order.
    connections: list[str] = field(default_factory=list)
    _server: Server | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        empty: Callable[[str, Payload], Payload] = lambda _s, _p: {}  # noqa: E731
        self.responders.update(
            {
                "BootNotification": self._boot,
                "Heartbeat": lambda _s, _p: {"currentTime": now_iso()},
                "Authorize": lambda _s, p: {
                    "idTokenInfo": {"status": self.token_status(p["idToken"]["idToken"])}
                },
                "TransactionEvent": self._transaction_event,
                "SignCertificate": lambda _s, _p: {"status": "Accepted"},
                "DataTransfer": lambda _s, _p: {"status": "Accepted"},
                **{
                    action: empty
                    for action in (
                        "StatusNotification",
                        "MeterValues",
                        "NotifyReport",
                        "NotifyMonitoringReport",
                        "NotifyDisplayMessages",
                        "NotifyCustomerInformation",
                        "NotifyEvent",
                        "ReportChargingProfiles",
                        "FirmwareStatusNotification",
                        "LogStatusNotification",
                        "PublishFirmwareStatusNotification",
                        "ReservationStatusUpdate",
                        "SecurityEventNotification",
                        "ReportDERControl",
                    )
                },
            }
        )

    def token_status(self, token: str) -> str:
        return "Invalid" if token in self.refused_tokens else "Accepted"

    def _boot(self, _station: str, _payload: Payload) -> Payload:
        status = self.boot_statuses.pop(0) if self.boot_statuses else "Accepted"
        return {"currentTime": now_iso(), "interval": self.interval_s, "status": status}

    def _transaction_event(self, _station: str, payload: Payload) -> Payload:
        token = payload.get("idToken")
        if token is None:
            return {}
        return {"idTokenInfo": {"status": self.token_status(token["idToken"])}}

    async def start(self) -> str:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=["ocpp2.1", "ocpp2.0.1"],  # type: ignore[list-item]
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        station_id = ws.request.path.rsplit("/", 1)[-1] if ws.request else "?"
        self.connections.append(station_id)
        self.authorization[station_id] = ws.request.headers.get("Authorization") if ws.request else None
        point_class: Any = _Point21 if ws.subprotocol == "ocpp2.1" else _Point201
        point = point_class(station_id, _Recorder(self, station_id, ws), response_timeout=10)
        point.csms = self
        self.points[station_id] = point
        self.sockets[station_id] = ws
        with contextlib.suppress(ConnectionClosed):
            await point.start()

    def _record(self, frame: Frame) -> None:
        self.frames.append(frame)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def call(self, station_id: str, action: str, payload: Payload) -> Payload:
        """Call the station; a CALLERROR raises CallErrorReply."""
        return dict(await self.points[station_id].call_raw(action, payload))

    async def send_raw(self, station_id: str, message: list[Any], timeout_s: float = 5.0) -> list[Any]:
        """Send a frame as is (no validation) and return the station's reply frame."""
        unique_id = message[1]
        await self.sockets[station_id].send(json.dumps(message))
        deadline = time.monotonic() + timeout_s
        while True:
            for frame in self.frames:
                if frame.direction == "in" and frame.kind in (3, 4) and frame.message[1] == unique_id:
                    return frame.message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no reply to {message[2]} within {timeout_s} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def calls(self, action: str, station_id: str | None = None) -> list[Payload]:
        """Payloads of the station calls of ``action`` so far."""
        return [
            f.payload
            for f in self.frames
            if f.direction == "in" and f.action == action and station_id in (None, f.station_id)
        ]

    def actions(self, station_id: str | None = None) -> list[str]:
        return [
            str(f.action)
            for f in self.frames
            if f.direction == "in" and f.kind == 2 and station_id in (None, f.station_id)
        ]

    def statuses(self, evse_id: int) -> list[str]:
        return [p["connectorStatus"] for p in self.calls("StatusNotification") if p["evseId"] == evse_id]

    async def wait_for(self, action: str, count: int = 1, timeout_s: float = 5.0, **match: Any) -> Payload:
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

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("condition not met in time")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
