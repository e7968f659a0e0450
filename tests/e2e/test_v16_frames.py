"""OCPP-J 1.6 transport rules with a raw WebSocket client: broken frames get the exact CALLERROR,
the connection survives them, every frame is in the message log, and nothing but
BootNotification is served before the station is accepted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.timeouts import ANSWER_TIMEOUT_S
from volthub.domain.enums import Admission

T0 = "2026-01-01T10:00:00Z"
BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


class RawStation:
    """A station that writes OCPP-J frames by hand."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = 0

    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self) -> Any:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout=ANSWER_TIMEOUT_S))

    async def call(self, action: str, payload: dict[str, Any],
                   message_id: str | None = None) -> Any:
        if message_id is None:
            self._ids += 1
            message_id = f"m{self._ids}"
        await self.send([2, message_id, action, payload])
        return await self.recv()

    async def assert_alive(self) -> None:
        """A Heartbeat is answered with a CALLRESULT carrying its own message id."""
        answer = await self.call("Heartbeat", {}, message_id="alive")
        assert answer[:2] == [3, "alive"], answer
        assert answer[2]["currentTime"].endswith("Z")


@asynccontextmanager
async def raw16(ocpp_url: str, station_id: str, boot: bool = True) -> AsyncIterator[RawStation]:
    async with websockets.connect(f"{ocpp_url}/{station_id}",
                                  subprotocols=[Subprotocol("ocpp1.6")],
                                  open_timeout=ANSWER_TIMEOUT_S) as ws:
        assert ws.subprotocol == "ocpp1.6"
        station = RawStation(ws)
        if boot:
            answer = await station.call("BootNotification", BOOT, message_id="boot")
            assert answer[0] == 3 and answer[2]["status"] == "Accepted", answer
        yield station


def _assert_call_error(answer: Any, message_id: str, code: str) -> None:
    assert isinstance(answer, list) and len(answer) == 5, answer
    assert answer[0] == 4, answer
    assert answer[1] == message_id, answer
    assert answer[2] == code, answer
    assert isinstance(answer[3], str)
    assert isinstance(answer[4], dict)


# frames that are not OCPP-J ---------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message_id"), [
    ('[2, "abc-1", "Heartbeat", {', "abc-1"),  # truncated: the id can still be read
    ('[2,"x7","Heartbeat",{}', "x7"),
    ("this is not json", "-1"),
    ("", "-1"),
    ('[2, 17, "Heartbeat", {', "-1"),
    ("{{{", "-1"),
])
async def test_invalid_json_is_a_formation_violation(
    server: RunningServer, text: str, message_id: str,
) -> None:
    async with raw16(server.ocpp_url, "CP-JSON") as station:
        await station.send(text)
        _assert_call_error(await station.recv(), message_id, "FormationViolation")
        await station.assert_alive()


async def test_binary_frame_that_is_not_json_is_a_formation_violation(
    server: RunningServer,
) -> None:
    async with raw16(server.ocpp_url, "CP-BIN") as station:
        await station.ws.send(b"\xff\xfe\x00 not text")
        _assert_call_error(await station.recv(), "-1", "FormationViolation")
        await station.assert_alive()


@pytest.mark.parametrize(("frame", "message_id"), [
    ({"messageTypeId": 2}, "-1"),  # not an array
    ([2], "-1"),
    ([2, "s1"], "-1"),
    ("just a string", "-1"),
    ([2, "s2", "Heartbeat"], "s2"),  # CALL without payload
    ([2, "s3", "Heartbeat", {}, {}], "s3"),  # CALL with one element too many
    ([2, "s4", 5, {}], "s4"),  # action not a string
    ([2, 17, "Heartbeat", {}], "-1"),  # message id not a string
    ([2, None, "Heartbeat", {}], "-1"),
    ([2, "", "Heartbeat", {}], "-1"),  # empty message id
    ([2, "s5", "Heartbeat", []], "s5"),  # payload not an object
    ([2, "s6", "Heartbeat", "payload"], "s6"),
    ([2, "s7", "Heartbeat", None], "s7"),
])
async def test_wrong_frame_shape_is_a_formation_violation(
    server: RunningServer, frame: Any, message_id: str,
) -> None:
    async with raw16(server.ocpp_url, "CP-SHAPE") as station:
        await station.send(frame)
        _assert_call_error(await station.recv(), message_id, "FormationViolation")
        await station.assert_alive()


@pytest.mark.parametrize("type_id", [0, 1, 5, 6, "2", None])
async def test_unknown_message_type_id_is_a_formation_violation(
    server: RunningServer, type_id: Any,
) -> None:
    # OCPP-J 1.6 has no MessageTypeNotSupported (that is 2.0.1's code).
    async with raw16(server.ocpp_url, "CP-TYPE") as station:
        await station.send([type_id, "t1", "Heartbeat", {}])
        _assert_call_error(await station.recv(), "t1", "FormationViolation")
        await station.assert_alive()


async def test_answer_to_no_outstanding_call_is_ignored(server: RunningServer) -> None:
    async with raw16(server.ocpp_url, "CP-STRAY") as station:
        await station.send([3, "nobody-asked", {"status": "Accepted"}])
        await station.send([4, "nobody-asked-2", "GenericError", "", {}])
        # The next frame we receive is the Heartbeat's answer: the strays got none.
        await station.assert_alive()


# actions ----------------------------------------------------------------------------------------
async def test_unknown_action_is_not_implemented(server: RunningServer) -> None:
    async with raw16(server.ocpp_url, "CP-ACT") as station:
        _assert_call_error(await station.call("MakeCoffee", {}, "a1"), "a1", "NotImplemented")
        await station.assert_alive()
        # Actions of other OCPP versions are unknown to 1.6 too.
        _assert_call_error(await station.call("TransactionEvent", {}, "a2"), "a2",
                           "NotImplemented")
        await station.assert_alive()


@pytest.mark.parametrize(("action", "payload"), [
    ("Reset", {"type": "Soft"}),
    ("RemoteStartTransaction", {"idTag": "T"}),
    ("GetConfiguration", {}),
    ("CertificateSigned", {"certificateChain": "x"}),
])
async def test_csms_to_station_action_sent_by_station_is_not_supported(
    server: RunningServer, action: str, payload: dict[str, Any],
) -> None:
    async with raw16(server.ocpp_url, "CP-WRONGDIR") as station:
        _assert_call_error(await station.call(action, payload, "r1"), "r1", "NotSupported")
        await station.assert_alive()


# schema violations ------------------------------------------------------------------------------
START = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": T0}


@pytest.mark.parametrize(("action", "payload", "code"), [
    # a required field is missing
    ("StartTransaction", {k: v for k, v in START.items() if k != "idTag"},
     "OccurenceConstraintViolation"),
    ("BootNotification", {"chargePointVendor": "V"}, "OccurenceConstraintViolation"),
    ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": T0}]},
     "OccurenceConstraintViolation"),
    # a field of the wrong type
    ("StartTransaction", {**START, "connectorId": "1"}, "TypeConstraintViolation"),
    ("StartTransaction", {**START, "meterStart": 1.5}, "TypeConstraintViolation"),
    ("Authorize", {"idTag": 123}, "TypeConstraintViolation"),
    ("MeterValues", {"connectorId": 1, "meterValue": [
        {"timestamp": T0, "sampledValue": [{"value": 12}]}]}, "TypeConstraintViolation"),
    # a value outside its enumeration
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Bogus"},
     "PropertyConstraintViolation"),
    ("StopTransaction", {"meterStop": 1, "timestamp": T0, "transactionId": 1,
                         "reason": "Tired"}, "PropertyConstraintViolation"),
    ("MeterValues", {"connectorId": 1, "meterValue": [
        {"timestamp": T0, "sampledValue": [{"value": "1", "unit": "Furlong"}]}]},
     "PropertyConstraintViolation"),
    # a property the schema does not have
    ("Heartbeat", {"extra": 1}, "FormationViolation"),
    ("Authorize", {"idTag": "T", "pin": "1234"}, "FormationViolation"),
])
async def test_schema_violation_gets_its_error_code(
    server: RunningServer, action: str, payload: dict[str, Any], code: str,
) -> None:
    async with raw16(server.ocpp_url, "CP-SCHEMA") as station:
        _assert_call_error(await station.call(action, payload, "v1"), "v1", code)
        await station.assert_alive()
    # Nothing was acted on: no transaction came of a rejected StartTransaction.
    txns = (await server.api.get("/transactions", params={"station_id": "CP-SCHEMA"})).json()
    assert txns["total"] == 0


async def test_many_broken_frames_in_a_row_leave_the_connection_working(
    server: RunningServer,
) -> None:
    async with raw16(server.ocpp_url, "CP-MANY") as station:
        for i in range(20):
            await station.send(f"garbage {i}")
            _assert_call_error(await station.recv(), "-1", "FormationViolation")
        await station.assert_alive()
        connected = (await server.api.get("/stations/CP-MANY")).json()["connected"]
        assert connected is True


# message log ------------------------------------------------------------------------------------
async def test_every_frame_in_and_out_is_in_the_message_log(server: RunningServer) -> None:
    async with raw16(server.ocpp_url, "CP-LOG") as station:
        hb = await station.call("Heartbeat", {}, "hb-1")
        await station.send("not json")
        await station.recv()
        await station.send([2, "bad-shape", "Heartbeat"])
        await station.recv()
        await station.call("MakeCoffee", {"sugar": 2}, "coffee")
        await station.call("Heartbeat", {"extra": 1}, "schema")
        # A CSMS call answered with a CALLRESULT ...
        reset = asyncio.create_task(
            server.api.post("/stations/CP-LOG/commands/reset", json={"type": "soft"}))
        csms_call = await station.recv()
        assert csms_call[0] == 2 and csms_call[2] == "Reset", csms_call
        await station.send([3, csms_call[1], {"status": "Accepted"}])
        assert (await reset).status_code == 200
        # ... and one answered with a CALLERROR.
        unlock = asyncio.create_task(server.api.post(
            "/stations/CP-LOG/commands/unlock", json={"evse_id": 1, "connector_id": 1}))
        csms_call_2 = await station.recv()
        assert csms_call_2[0] == 2 and csms_call_2[2] == "UnlockConnector", csms_call_2
        await station.send([4, csms_call_2[1], "NotSupported", "no lock", {"why": "none"}])
        assert (await unlock).status_code != 200

    response = await server.api.get("/stations/CP-LOG/messages", params={"limit": 100})
    assert response.status_code == 200, response.text
    got = [(m["direction"], m["message_type"], m["action"], m["message_id"], m["payload"])
           for m in response.json()["items"]]
    expected_oldest_first = [
        ("in", "CALL", "BootNotification", "boot", BOOT),
        ("out", "CALLRESULT", "BootNotification", "boot", got[-2][4]),
        ("in", "CALL", "Heartbeat", "hb-1", {}),
        ("out", "CALLRESULT", "Heartbeat", "hb-1", hb[2]),
        ("in", "CALL", None, "-1", "not json"),
        ("out", "CALLERROR", None, "-1", got[-6][4]),
        ("in", "CALL", None, "bad-shape", [2, "bad-shape", "Heartbeat"]),
        ("out", "CALLERROR", None, "bad-shape", got[-8][4]),
        ("in", "CALL", "MakeCoffee", "coffee", {"sugar": 2}),
        ("out", "CALLERROR", "MakeCoffee", "coffee", got[-10][4]),
        ("in", "CALL", "Heartbeat", "schema", {"extra": 1}),
        ("out", "CALLERROR", "Heartbeat", "schema", got[-12][4]),
        ("out", "CALL", "Reset", csms_call[1], {"type": "Soft"}),
        ("in", "CALLRESULT", "Reset", csms_call[1], {"status": "Accepted"}),
        ("out", "CALL", "UnlockConnector", csms_call_2[1], {"connectorId": 1}),
        ("in", "CALLERROR", "UnlockConnector", csms_call_2[1], got[-16][4]),
    ]
    assert got == list(reversed(expected_oldest_first))  # newest first
    assert got[-2][4]["status"] == "Accepted"
    errors = {m[3]: m[4]["errorCode"] for m in got if m[1] == "CALLERROR" and m[0] == "out"}
    assert errors == {"-1": "FormationViolation", "bad-shape": "FormationViolation",
                      "coffee": "NotImplemented", "schema": "FormationViolation"}
    assert got[0][4]["errorCode"] == "NotSupported"
    assert got[0][4]["errorDescription"] == "no lock"
    for item in response.json()["items"]:
        assert item["timestamp"].endswith("Z")


async def test_message_log_limit_returns_the_newest(server: RunningServer) -> None:
    async with raw16(server.ocpp_url, "CP-LIM") as station:
        for i in range(3):
            await station.call("Heartbeat", {}, f"hb-{i}")
    response = await server.api.get("/stations/CP-LIM/messages", params={"limit": 2})
    items = response.json()["items"]
    assert [(m["direction"], m["message_id"]) for m in items] == [("out", "hb-2"), ("in", "hb-2")]


# before acceptance ------------------------------------------------------------------------------
async def test_messages_before_acceptance_get_security_error(sqlite_url: str) -> None:
    settings = test_settings(sqlite_url, station_admission=Admission.PENDING)
    async with run_server(settings) as server, \
            raw16(server.ocpp_url, "CP-EARLY", boot=False) as station:
        # Before any BootNotification.
        _assert_call_error(await station.call("Heartbeat", {}, "e1"), "e1", "SecurityError")
        boot = await station.call("BootNotification", BOOT, "b1")
        assert boot[:2] == [3, "b1"] and boot[2]["status"] == "Pending"
        # After a Pending BootNotification.
        _assert_call_error(await station.call("Heartbeat", {}, "e2"), "e2", "SecurityError")
        _assert_call_error(await station.call("StatusNotification", {
            "connectorId": 1, "errorCode": "NoError", "status": "Available"}, "e3"),
            "e3", "SecurityError")
        _assert_call_error(await station.call("StartTransaction", START, "e4"), "e4",
                           "SecurityError")
        assert (await server.api.get("/transactions", params={"station_id": "CP-EARLY"})
                ).json()["total"] == 0
        assert (await server.api.get("/stations/CP-EARLY")).json()["evses"] == []
        # Accepted by the operator, then booted: now served.
        patched = await server.api.patch("/stations/CP-EARLY",
                                         json={"registration_status": "Accepted"})
        assert patched.status_code == 200
        boot = await station.call("BootNotification", BOOT, "b2")
        assert boot[2]["status"] == "Accepted"
        await station.assert_alive()


async def test_frames_with_overlong_action_or_message_id_are_logged(database_url: str) -> None:
    long_action = "A" * 100
    long_id = "i" * 80
    async with run_server(test_settings(database_url)) as server:
        async with raw16(server.ocpp_url, "CP-LONG") as station:
            _assert_call_error(await station.call(long_action, {}, "la"), "la", "NotImplemented")
            await station.send([2, long_id, "Heartbeat", {}])
            answer = await station.recv()
            assert answer[0] == 4 and answer[2] == "FormationViolation", answer
            await station.assert_alive()
        response = await server.api.get("/stations/CP-LONG/messages", params={"limit": 100})
        items = response.json()["items"]
        got = [(m["direction"], m["message_type"], m["message_id"]) for m in items]
    # Every frame is in the log, the long ones included (their long fields may be shortened),
    # and so are the frames that went to the database with them.
    assert len(got) == 8
    assert got[:2] == [("out", "CALLRESULT", "alive"), ("in", "CALL", "alive")]
    assert [(d, t) for d, t, _ in got[2:4]] == [("out", "CALLERROR"), ("in", "CALL")]
    assert all(m and long_id.startswith(m) for _, _, m in got[2:4])
    assert got[4:6] == [("out", "CALLERROR", "la"), ("in", "CALL", "la")]
    assert items[5]["action"] and long_action.startswith(items[5]["action"])
    assert got[6:] == [("out", "CALLRESULT", "boot"), ("in", "CALL", "boot")]
