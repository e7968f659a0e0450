"""An OCPP 1.6 test station on the `ocpp` library's ChargePoint, with scriptable answers."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import OCPPError
from ocpp.v16 import ChargePoint, call, call_result
from websockets.asyncio.client import ClientConnection

from tests.support.timeouts import ANSWER_TIMEOUT_S


class TestStation16(ChargePoint):  # type: ignore[misc]
    """Answers every CSMS call with `answers[action]` (a dict) and records what it got."""

    __test__ = False  # not a pytest class

    def __init__(self, station_id: str, connection: ClientConnection) -> None:
        super().__init__(station_id, connection, response_timeout=ANSWER_TIMEOUT_S)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        # Optional behaviour (off by default): the payloads exactly as sent (camelCase), a delay
        # before answering an action, a CALLERROR instead of an answer, and dispatching each
        # frame in its own task so that overlapping CSMS calls would show in `max_in_flight`.
        self.raw_received: list[tuple[str, dict[str, Any]]] = []
        self.delays: dict[str, float] = {}
        self.errors: dict[str, OCPPError] = {}
        self.concurrent = False
        self.in_flight = 0
        self.max_in_flight = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        for action in _CSMS_ACTIONS:
            self.route_map[action] = {
                "_on_action": self._make_handler(action),
                "_skip_schema_validation": False,
            }

    def _make_handler(self, action: str) -> Any:
        async def handler(**kwargs: Any) -> Any:
            self.received.append((action, kwargs))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                if action in self.delays:
                    await asyncio.sleep(self.delays[action])
                if action in self.errors:
                    raise self.errors[action]
                return _result_for(action, self.answers.get(action))
            finally:
                self.in_flight -= 1

        return handler

    async def start(self) -> None:
        while True:
            message = await self._connection.recv()
            if not self.concurrent:
                await self.route_message(message)
                continue
            task = asyncio.create_task(self.route_message(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle_call(self, msg: Any) -> Any:
        self.raw_received.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    async def boot(self) -> Any:
        return await self.call(call.BootNotification(charge_point_vendor="TestVendor",
                                                     charge_point_model="TestModel"))


_CSMS_ACTIONS = [
    "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector",
    "ChangeAvailability", "ChangeConfiguration", "GetConfiguration", "ClearCache",
    "TriggerMessage", "DataTransfer", "UpdateFirmware", "GetDiagnostics", "SendLocalList",
    "GetLocalListVersion", "ReserveNow", "CancelReservation", "SetChargingProfile",
    "ClearChargingProfile", "GetCompositeSchedule", "ExtendedTriggerMessage", "GetLog",
    "InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate",
    "CertificateSigned", "SignedUpdateFirmware",
]

_DEFAULT_ANSWERS: dict[str, dict[str, Any]] = {
    "UnlockConnector": {"status": "Unlocked"},
    "GetConfiguration": {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}]},
    "UpdateFirmware": {},
    "GetDiagnostics": {"fileName": "diag.zip"},
    "GetLocalListVersion": {"listVersion": 0},
    "GetLog": {"status": "Accepted", "filename": "log.zip"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
    "DataTransfer": {"status": "Accepted"},
}


def _result_for(action: str, answer: dict[str, Any] | None) -> Any:
    """The library's call_result dataclass built from a camelCase JSON answer."""
    payload = answer if answer is not None else _DEFAULT_ANSWERS.get(action, {"status": "Accepted"})
    return getattr(call_result, action)(**camel_to_snake_case(payload))


@asynccontextmanager
async def connect16(
    ocpp_url: str, station_id: str, password: str | bytes | None = None, boot: bool = True,
    user: str | None = None, ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[TestStation16]:
    """`password` may be octets (a 1.6 AuthorizationKey's binary form); `ssl_context` for wss."""
    headers = {}
    if password is not None:
        secret = password if isinstance(password, bytes) else password.encode()
        creds = base64.b64encode(f"{user or station_id}:".encode() + secret).decode()
        headers["Authorization"] = f"Basic {creds}"
    async with websockets.connect(f"{ocpp_url}/{station_id}", subprotocols=["ocpp1.6"],
                                  additional_headers=headers, ssl=ssl_context,
                                  open_timeout=ANSWER_TIMEOUT_S) as ws:
        station = TestStation16(station_id, ws)
        task = asyncio.create_task(station.start())
        try:
            if boot:
                await station.boot()
            yield station
        finally:
            task.cancel()
