"""An OCPP 2.0.1 / 2.1 test station on the `ocpp` library's ChargePoint, with scriptable answers."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import websockets
from ocpp.charge_point import camel_to_snake_case, remove_nones, snake_to_camel_case
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import OCPPError
from ocpp.v21 import ChargePoint
from websockets.asyncio.client import ClientConnection

from tests.support.timeouts import ANSWER_TIMEOUT_S
from volthub.ocpp import schemas

VERSIONS = ("2.0.1", "2.1")


def csms_actions(version: str) -> list[str]:
    """Actions a CSMS may send to a station: those whose request schema we never handle."""
    from volthub.ocpp.v201.adapter import HANDLERS_21

    station_initiated = set(HANDLERS_21) - {"DataTransfer"}
    return sorted(schemas.actions(version) - station_initiated)


def _call_module(version: str) -> Any:
    if version == "2.1":
        from ocpp.v21 import call
    else:
        from ocpp.v201 import call  # type: ignore[no-redef]
    return call


def _result_module(version: str) -> Any:
    if version == "2.1":
        from ocpp.v21 import call_result
    else:
        from ocpp.v201 import call_result  # type: ignore[no-redef]
    return call_result


class TestStation2x(ChargePoint):  # type: ignore[misc]
    """Answers every CSMS call with `answers[action]` (camelCase dict) and records what it got."""

    __test__ = False  # not a pytest class

    def __init__(self, station_id: str, connection: ClientConnection, version: str) -> None:
        super().__init__(station_id, connection, response_timeout=ANSWER_TIMEOUT_S)
        self._ocpp_version = version
        self.version = version
        self.received: list[tuple[str, dict[str, Any]]] = []  # camelCase, as sent
        self.answers: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, OCPPError] = {}
        self.delays: dict[str, float] = {}
        self.events: dict[str, asyncio.Event] = {}
        for action in csms_actions(version):
            self.route_map[action] = {"_on_action": self._make_handler(action),
                                      "_skip_schema_validation": False}

    def _make_handler(self, action: str) -> Any:
        async def handler(**kwargs: Any) -> Any:
            if action in self.delays:
                await asyncio.sleep(self.delays[action])
            if action in self.errors:
                raise self.errors[action]
            answer = self.answers.get(action, DEFAULT_ANSWERS.get(action, {"status": "Accepted"}))
            return getattr(_result_module(self.version), action)(**camel_to_snake_case(answer))

        return handler

    async def _handle_call(self, msg: Any) -> Any:
        self.received.append((msg.action, msg.payload))
        self.events.setdefault(msg.action, asyncio.Event()).set()
        if msg.action not in self.route_map:
            # ocpp 2.1.0 leaves an unhandled 2.1 CALL unanswered (_raise_key_error returns
            # without raising for "2.1"): answer NotImplemented like 2.0.1 does.
            raise OcppNotImplemented(details={"cause": f"no handler for {msg.action}"})
        return await super()._handle_call(msg)

    async def wait_for(self, action: str, wait_s: float = 10) -> dict[str, Any]:
        """The first call of `action` the CSMS sent (waiting for it if needed)."""
        await asyncio.wait_for(self.events.setdefault(action, asyncio.Event()).wait(), wait_s)
        return next(p for a, p in self.received if a == action)

    def got(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.received if a == action]

    async def send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL given as camelCase JSON; answer the response as camelCase JSON."""
        request = getattr(_call_module(self.version), action)(**camel_to_snake_case(payload))
        result = await self.call(request)
        answer: dict[str, Any] = remove_nones(snake_to_camel_case(asdict(result)))
        return answer

    async def boot(self, reason: str = "PowerUp") -> dict[str, Any]:
        return await self.send("BootNotification", {
            "chargingStation": {"vendorName": "TestVendor", "model": "TestModel",
                                "serialNumber": "SN-1", "firmwareVersion": "1.0"},
            "reason": reason,
        })


DEFAULT_ANSWERS: dict[str, dict[str, Any]] = {
    "UnlockConnector": {"status": "Unlocked"},
    "GetVariables": {"getVariableResult": []},
    "SetVariables": {"setVariableResult": []},
    "GetLocalListVersion": {"versionNumber": 0},
    "GetLog": {"status": "Accepted", "filename": "log.zip"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
    "DataTransfer": {"status": "Accepted"},
    "GetTransactionStatus": {"messagesInQueue": False},
    "GetCompositeSchedule": {"status": "Rejected"},
    "ClearCache": {"status": "Accepted"},
    "CostUpdated": {},
    "CustomerInformation": {"status": "Accepted"},
    "NotifyWebPaymentStarted": {},
    "AFRRSignal": {"status": "Accepted"},
}


@asynccontextmanager
async def connect2x(
    ocpp_url: str, station_id: str, version: str = "2.0.1", password: str | None = None,
    boot: bool = True,
) -> AsyncIterator[TestStation2x]:
    headers = {}
    if password is not None:
        creds = base64.b64encode(f"{station_id}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {creds}"
    async with websockets.connect(f"{ocpp_url}/{station_id}", subprotocols=[f"ocpp{version}"],
                                  additional_headers=headers,
                                  open_timeout=ANSWER_TIMEOUT_S) as ws:
        assert ws.subprotocol == f"ocpp{version}"
        station = TestStation2x(station_id, ws, version)
        task = asyncio.create_task(station.start())
        try:
            if boot:
                await station.boot()
            yield station
        finally:
            task.cancel()
