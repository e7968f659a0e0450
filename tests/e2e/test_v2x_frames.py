"""OCPP-J 2.0.1 and 2.1 transport rules with a raw WebSocket client: broken frames get the CALLERROR
that Part 4 §4.3 names, the connection survives them, every frame is in the message log, and a
station's invalid answer to a CSMS call fails the command without a CALLRESULTERROR.

The error codes, checked in layers (see volthub.ocpp.errors.V201_ERRORS):
- text that is not JSON → FormatViolation ("syntactically incorrect"; §4.1.2, §4.2.3);
- JSON that is not an RPC frame (not an array, wrong element count, MessageId not a string of
  1..36 characters, Action not a string) → RpcFrameworkError ("not a valid RPC Request, for
  example: MessageId could not be read");
- a MessageTypeId not in §4.1.3 Table 3 → MessageTypeNotSupported (2.0.1 §4.4);
- a CALL payload that is not a JSON object (§4.1.5) → FormatViolation;
- an unknown Action → NotImplemented; a known one the CSMS does not take → NotSupported;
- schema: missing field or list outside its cardinality → OccurrenceConstraintViolation, wrong
  type / length / format → TypeConstraintViolation, value outside its enumeration or range →
  PropertyConstraintViolation, a property the PDU does not define → ProtocolError ("not conform
  the PDU structure").
An unreadable MessageId is answered as "-1" (§4.2.3).
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
from tests.support.station2x import VERSIONS
from tests.support.timeouts import ANSWER_TIMEOUT_S
from volthub.domain.enums import Admission

T0 = "2026-01-01T10:00:00Z"
CS = {"model": "M", "vendorName": "V"}
BOOT = {"chargingStation": CS, "reason": "PowerUp"}
TOKEN = {"idToken": "T", "type": "ISO14443"}
STATUS = {"timestamp": T0, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
TXN = {"eventType": "Started", "timestamp": T0, "triggerReason": "Authorized", "seqNo": 0,
       "transactionInfo": {"transactionId": "TX-S"}, "evse": {"id": 1, "connectorId": 1}}
SAMPLE = {"timestamp": T0, "sampledValue": [{"value": 1.0}]}


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


class RawStation:
    """A 2.x station that writes OCPP-J frames by hand."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = 0

    async def send_text(self, text: str) -> None:
        await self.ws.send(text)

    async def send(self, frame: Any) -> None:
        """`frame` as JSON (a Python str becomes a JSON string, not raw text)."""
        await self.ws.send(json.dumps(frame))

    async def recv(self) -> Any:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout=ANSWER_TIMEOUT_S))

    async def call(self, action: str, payload: Any, message_id: str | None = None) -> Any:
        if message_id is None:
            self._ids += 1
            message_id = f"m{self._ids}"
        await self.send([2, message_id, action, payload])
        return await self.recv()

    async def assert_alive(self) -> None:
        """A Heartbeat is answered with a CALLRESULT carrying its own message id: the next frame
        the station receives is that answer, so nothing else was sent before it."""
        answer = await self.call("Heartbeat", {}, message_id="alive")
        assert answer[:2] == [3, "alive"], answer
        assert answer[2]["currentTime"].endswith("Z")


@asynccontextmanager
async def raw2x(ocpp_url: str, station_id: str, version: str,
                boot: bool = True) -> AsyncIterator[RawStation]:
    async with websockets.connect(f"{ocpp_url}/{station_id}",
                                  subprotocols=[Subprotocol(f"ocpp{version}")],
                                  open_timeout=ANSWER_TIMEOUT_S) as ws:
        assert ws.subprotocol == f"ocpp{version}"
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
    assert isinstance(answer[3], str) and len(answer[3]) <= 255
    assert isinstance(answer[4], dict)


# frames that are not JSON -----------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message_id"), [
    ('[2, "abc-1", "Heartbeat", {', "abc-1"),  # truncated: the id can still be read
    ('[2,"x7","Heartbeat",{}', "x7"),
    ("this is not json", "-1"),
    ("", "-1"),
    ('[2, 17, "Heartbeat", {', "-1"),
    ("{{{", "-1"),
    ("[2, 'single', 'Heartbeat', {}]", "-1"),
])
async def test_text_that_is_not_json_is_a_format_violation(
    server: RunningServer, version: str, text: str, message_id: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-JSON", version) as station:
        await station.send_text(text)
        _assert_call_error(await station.recv(), message_id, "FormatViolation")
        await station.assert_alive()


async def test_binary_frame_that_is_not_json_is_a_format_violation(
    server: RunningServer, version: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-BIN", version) as station:
        await station.ws.send(b"\xff\xfe\x00 not text")
        _assert_call_error(await station.recv(), "-1", "FormatViolation")
        await station.assert_alive()


# JSON that is not an RPC frame ------------------------------------------------------------------
@pytest.mark.parametrize(("frame", "message_id"), [
    ({"messageTypeId": 2}, "-1"),  # not an array
    ("just a string", "-1"),
    (42, "-1"),
    (None, "-1"),
    ([], "-1"),
    ([2], "-1"),
    ([2, "s1"], "-1"),
    ([2, "s2", "Heartbeat"], "s2"),  # CALL without payload
    ([2, "s3", "Heartbeat", {}, {}], "s3"),  # CALL with one element too many
    ([2, "s4", 5, {}], "s4"),  # Action not a string
    ([2, "s4b", None, {}], "s4b"),
    ([2, 17, "Heartbeat", {}], "-1"),  # MessageId not a string: it cannot be read
    ([2, None, "Heartbeat", {}], "-1"),
    ([2, ["s"], "Heartbeat", {}], "-1"),
    ([2, "", "Heartbeat", {}], "-1"),  # empty MessageId
    ([2, "x" * 37, "Heartbeat", {}], "x" * 37),  # MessageId longer than string[36]
])
async def test_json_that_is_not_an_rpc_frame_is_an_rpc_framework_error(
    server: RunningServer, version: str, frame: Any, message_id: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-SHAPE", version) as station:
        await station.send(frame)
        _assert_call_error(await station.recv(), message_id, "RpcFrameworkError")
        await station.assert_alive()


@pytest.mark.parametrize(("payload", "message_id"), [
    ([], "p1"), ("payload", "p2"), (None, "p3"), (42, "p4"), (True, "p5"),
])
async def test_payload_that_is_not_an_object_is_a_format_violation(
    server: RunningServer, version: str, payload: Any, message_id: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-PAYLOAD", version) as station:
        _assert_call_error(await station.call("Heartbeat", payload, message_id), message_id,
                           "FormatViolation")
        await station.assert_alive()


@pytest.mark.parametrize("type_id", [0, 1, 7, 99, -2, "2", None, [2], {"t": 2}])
async def test_unknown_message_type_id_is_message_type_not_supported(
    server: RunningServer, version: str, type_id: Any,
) -> None:
    async with raw2x(server.ocpp_url, "CS-TYPE", version) as station:
        await station.send([type_id, "t1", "Heartbeat", {}])
        _assert_call_error(await station.recv(), "t1", "MessageTypeNotSupported")
        await station.assert_alive()


@pytest.mark.parametrize("type_id", [5, 6])
async def test_2_1_message_types_are_not_supported_on_2_0_1(
    server: RunningServer, type_id: int,
) -> None:
    # 2.0.1 Part 4 §4.1.3 Table 3 knows 2, 3 and 4 only; CALLRESULTERROR (5) and SEND (6) are 2.1.
    async with raw2x(server.ocpp_url, "CS-TYPE201", "2.0.1") as station:
        await station.send([type_id, "t5", "Heartbeat", {}])
        _assert_call_error(await station.recv(), "t5", "MessageTypeNotSupported")
        await station.assert_alive()


async def test_answers_to_no_outstanding_call_are_ignored(
    server: RunningServer, version: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-STRAY", version) as station:
        await station.send([3, "nobody-asked", {"status": "Accepted"}])
        await station.send([4, "nobody-asked-2", "GenericError", "", {}])
        # The next frame we receive is the Heartbeat's answer: the strays got none.
        await station.assert_alive()


# 2.1 SEND and CALLRESULTERROR -------------------------------------------------------------------
async def test_send_is_handled_and_never_answered(server: RunningServer) -> None:
    stream = {"id": 3, "pending": 0, "basetime": T0, "data": [{"t": 0, "v": "230.4"}]}
    async with raw2x(server.ocpp_url, "CS-SEND", "2.1") as station:
        await station.send([6, "send-1", "NotifyPeriodicEventStream", stream])
        # 2.1 Part 4 §4.2.4: not answered, not even when broken or unknown.
        await station.send([6, "send-2", "NotifyPeriodicEventStream", []])
        await station.send([6, "send-3", "MakeCoffee", {}])
        await station.send([6, 17, "NotifyPeriodicEventStream"])
        await station.assert_alive()
    response = await server.api.get("/stations/CS-SEND/reports",
                                    params={"action": "NotifyPeriodicEventStream"})
    assert response.status_code == 200, response.text
    assert [r["payload"] for r in response.json()["items"]] == [stream]


async def test_call_result_error_from_the_station_is_not_answered(server: RunningServer) -> None:
    async with raw2x(server.ocpp_url, "CS-CRE", "2.1") as station:
        await station.send([5, "some-result", "FormatViolation", "could not process", {}])
        await station.assert_alive()
    log = (await server.api.get("/stations/CS-CRE/messages", params={"limit": 10})).json()
    [entry] = [m for m in log["items"] if m["message_id"] == "some-result"]
    assert (entry["direction"], entry["message_type"]) == ("in", "CALLRESULTERROR")
    assert entry["payload"]["errorCode"] == "FormatViolation"


# actions ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", [
    "MakeCoffee",
    "heartbeat",  # Part 4 §4.2.1: the Action is case-sensitive
    "HeartbeatRequest",  # §4.1.6: the Action is the message name without the "Request" suffix
    "StartTransaction",  # OCPP 1.6 actions are unknown to 2.x
    "StopTransaction",
    "DiagnosticsStatusNotification",
])
async def test_unknown_action_is_not_implemented(
    server: RunningServer, version: str, action: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-ACT", version) as station:
        _assert_call_error(await station.call(action, {}, "a1"), "a1", "NotImplemented")
        await station.assert_alive()


@pytest.mark.parametrize("action", ["BatterySwap", "NotifySettlement", "VatNumberValidation"])
async def test_2_1_station_actions_are_unknown_to_2_0_1(server: RunningServer,
                                                        action: str) -> None:
    async with raw2x(server.ocpp_url, "CS-ACT21", "2.0.1") as station:
        _assert_call_error(await station.call(action, {}, "a2"), "a2", "NotImplemented")
        await station.assert_alive()


@pytest.mark.parametrize(("action", "payload"), [
    ("Reset", {"type": "Immediate"}),
    ("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 1}),
    ("GetVariables", {"getVariableData": [{"component": {"name": "C"},
                                           "variable": {"name": "V"}}]}),
    ("CertificateSigned", {"certificateChain": "x"}),
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
    ("CostUpdated", {"totalCost": 1.0, "transactionId": "T"}),
    ("SetVariables", {}),  # the direction is refused before the payload is looked at
])
async def test_csms_to_station_action_sent_by_station_is_not_supported(
    server: RunningServer, version: str, action: str, payload: dict[str, Any],
) -> None:
    async with raw2x(server.ocpp_url, "CS-WRONGDIR", version) as station:
        _assert_call_error(await station.call(action, payload, "r1"), "r1", "NotSupported")
        await station.assert_alive()


@pytest.mark.parametrize("action", ["SetDERControl", "AFRRSignal", "RequestBatterySwap",
                                    "NotifyAllowedEnergyTransfer", "NotifyWebPaymentStarted"])
async def test_2_1_csms_to_station_actions_sent_by_station_are_not_supported(
    server: RunningServer, action: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-WRONGDIR21", "2.1") as station:
        _assert_call_error(await station.call(action, {}, "r2"), "r2", "NotSupported")
        await station.assert_alive()


# schema violations ------------------------------------------------------------------------------
def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


SCHEMA_CASES = [
    # a required field is missing, at the top or nested
    pytest.param("BootNotification", {"chargingStation": CS}, "OccurrenceConstraintViolation",
                 id="boot-no-reason"),
    pytest.param("BootNotification", {"chargingStation": {"model": "M"}, "reason": "PowerUp"},
                 "OccurrenceConstraintViolation", id="boot-no-vendor"),
    pytest.param("Authorize", {}, "OccurrenceConstraintViolation", id="authorize-empty"),
    pytest.param("StatusNotification", _without(STATUS, "connectorId"),
                 "OccurrenceConstraintViolation", id="status-no-connector"),
    pytest.param("TransactionEvent", _without(TXN, "seqNo"), "OccurrenceConstraintViolation",
                 id="txn-no-seqno"),
    # a list outside its cardinality (meterValue 1..*, sampledValue 1..*)
    pytest.param("MeterValues", {"evseId": 1, "meterValue": []},
                 "OccurrenceConstraintViolation", id="meter-values-empty"),
    pytest.param("MeterValues", {"evseId": 1, "meterValue": [{"timestamp": T0,
                                                                "sampledValue": []}]},
                 "OccurrenceConstraintViolation", id="sampled-values-empty"),
    # a field of the wrong type, too long, or not a date-time
    pytest.param("StatusNotification", {**STATUS, "connectorId": "1"},
                 "TypeConstraintViolation", id="status-connector-string"),
    pytest.param("Authorize", {"idToken": {"idToken": 123, "type": "ISO14443"}},
                 "TypeConstraintViolation", id="authorize-token-number"),
    pytest.param("TransactionEvent", {**TXN, "seqNo": 1.5}, "TypeConstraintViolation",
                 id="txn-seqno-float"),
    pytest.param("Authorize", {"idToken": {"idToken": "X" * 256, "type": "ISO14443"}},
                 "TypeConstraintViolation", id="authorize-token-too-long"),
    pytest.param("StatusNotification", {**STATUS, "timestamp": "yesterday"},
                 "TypeConstraintViolation", id="status-timestamp"),
    pytest.param("MeterValues", {"evseId": 1, "meterValue": [
        {"timestamp": T0, "sampledValue": [{"value": "12"}]}]}, "TypeConstraintViolation",
                 id="sampled-value-string"),
    # a value outside its enumeration
    pytest.param("StatusNotification", {**STATUS, "connectorStatus": "Bogus"},
                 "PropertyConstraintViolation", id="status-enum"),
    pytest.param("BootNotification", {"chargingStation": CS, "reason": "Tired"},
                 "PropertyConstraintViolation", id="boot-reason-enum"),
    pytest.param("TransactionEvent", {**TXN, "triggerReason": "Boredom"},
                 "PropertyConstraintViolation", id="txn-trigger-enum"),
    # a property the schema does not have (additionalProperties false)
    pytest.param("Heartbeat", {"extra": 1}, "ProtocolError", id="heartbeat-extra"),
    pytest.param("Authorize", {"idToken": TOKEN, "pin": "1234"}, "ProtocolError",
                 id="authorize-extra"),
    pytest.param("BootNotification", {"chargingStation": {**CS, "colour": "red"},
                                      "reason": "PowerUp"}, "ProtocolError", id="boot-nested"),
    pytest.param("TransactionEvent", {**TXN, "transactionInfo": {"transactionId": "TX-S",
                                                                 "mood": "good"}},
                 "ProtocolError", id="txn-nested-extra"),
    # customData must name its vendor
    pytest.param("Heartbeat", {"customData": {}}, "OccurrenceConstraintViolation",
                 id="custom-data-no-vendor"),
]


@pytest.mark.parametrize(("action", "payload", "code"), SCHEMA_CASES)
async def test_schema_violation_gets_its_error_code(
    server: RunningServer, version: str, action: str, payload: dict[str, Any], code: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-SCHEMA", version) as station:
        _assert_call_error(await station.call(action, payload, "v1"), "v1", code)
        await station.assert_alive()
    # Nothing was acted on: no transaction came of a rejected TransactionEvent.
    txns = (await server.api.get("/transactions", params={"station_id": "CS-SCHEMA"})).json()
    assert txns["total"] == 0


async def test_value_below_its_minimum_is_a_property_violation(server: RunningServer) -> None:
    # 2.1's MeterValuesRequest gives evseId a minimum of 0 (2.0.1's schema has none).
    async with raw2x(server.ocpp_url, "CS-MIN", "2.1") as station:
        _assert_call_error(await station.call("MeterValues", {"evseId": -1,
                                                              "meterValue": [SAMPLE]}, "v2"),
                           "v2", "PropertyConstraintViolation")
        await station.assert_alive()


async def test_custom_data_may_carry_vendor_properties(server: RunningServer,
                                                       version: str) -> None:
    # CustomDataType is the one object that admits properties of its own.
    async with raw2x(server.ocpp_url, "CS-CUSTOM", version) as station:
        answer = await station.call("Heartbeat", {"customData": {"vendorId": "V", "x": [1]}},
                                    "c1")
        assert answer[:2] == [3, "c1"], answer


async def test_many_broken_frames_in_a_row_leave_the_connection_working(
    server: RunningServer, version: str,
) -> None:
    async with raw2x(server.ocpp_url, "CS-MANY", version) as station:
        for i in range(10):
            await station.send_text(f"garbage {i}")
            _assert_call_error(await station.recv(), "-1", "FormatViolation")
            await station.send([2, f"g{i}"])
            _assert_call_error(await station.recv(), "-1", "RpcFrameworkError")
            await station.send([9, f"g{i}", "Heartbeat", {}])
            _assert_call_error(await station.recv(), f"g{i}", "MessageTypeNotSupported")
        await station.assert_alive()
        connected = (await server.api.get("/stations/CS-MANY")).json()["connected"]
        assert connected is True


# a station's invalid answer to a CSMS call --------------------------------------------------------
@pytest.mark.parametrize("answer", [
    {"status": "Bogus"},  # outside ResetStatusEnumType
    {},  # status is required
    {"status": "Accepted", "extra": 1},
    {"status": 1},
])
async def test_invalid_call_result_fails_the_command_without_a_call_result_error(
    server: RunningServer, version: str, answer: dict[str, Any],
) -> None:
    async with raw2x(server.ocpp_url, "CS-BADRESULT", version) as station:
        reset = asyncio.create_task(
            server.api.post("/stations/CS-BADRESULT/commands/reset", json={"type": "soft"}))
        csms_call = await station.recv()
        assert csms_call[0] == 2 and csms_call[2] == "Reset", csms_call
        await station.send([3, csms_call[1], answer])
        response = await reset
        assert response.status_code == 502, response.text
        assert "Reset" in response.json()["detail"]
        # 2.1 Part 4 §4.1: a receiver "can" answer with a CALLRESULTERROR, it is not required to;
        # volthub sends none, so the station's next frame is the Heartbeat's answer.
        await station.assert_alive()
        # The connection still carries commands.
        reset = asyncio.create_task(
            server.api.post("/stations/CS-BADRESULT/commands/reset", json={"type": "soft"}))
        csms_call = await station.recv()
        await station.send([3, csms_call[1], {"status": "Accepted"}])
        assert (await reset).status_code == 200
    log = (await server.api.get("/stations/CS-BADRESULT/messages", params={"limit": 100})).json()
    types = {m["message_type"] for m in log["items"]}
    assert "CALLRESULTERROR" not in types
    bad = next(m for m in reversed(log["items"])
               if m["message_type"] == "CALLRESULT" and m["direction"] == "in")
    assert (bad["action"], bad["payload"]) == ("Reset", answer)


# message log ------------------------------------------------------------------------------------
async def test_every_frame_in_and_out_is_in_the_message_log(server: RunningServer,
                                                            version: str) -> None:
    async with raw2x(server.ocpp_url, "CS-LOG", version) as station:
        hb = await station.call("Heartbeat", {}, "hb-1")
        await station.send_text("not json")
        await station.recv()
        await station.send([2, "bad-shape", "Heartbeat"])
        await station.recv()
        await station.call("MakeCoffee", {"sugar": 2}, "coffee")
        await station.call("Heartbeat", {"extra": 1}, "schema")
        # A CSMS call answered with a CALLRESULT ...
        reset = asyncio.create_task(
            server.api.post("/stations/CS-LOG/commands/reset", json={"type": "soft"}))
        csms_call = await station.recv()
        assert csms_call[0] == 2 and csms_call[2] == "Reset", csms_call
        await station.send([3, csms_call[1], {"status": "Accepted"}])
        assert (await reset).status_code == 200
        # ... and one answered with a CALLERROR.
        unlock = asyncio.create_task(server.api.post(
            "/stations/CS-LOG/commands/unlock", json={"evse_id": 1, "connector_id": 1}))
        csms_call_2 = await station.recv()
        assert csms_call_2[0] == 2 and csms_call_2[2] == "UnlockConnector", csms_call_2
        await station.send([4, csms_call_2[1], "NotSupported", "no lock", {"why": "none"}])
        assert (await unlock).status_code == 502

    response = await server.api.get("/stations/CS-LOG/messages", params={"limit": 100})
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
        ("out", "CALL", "Reset", csms_call[1], {"type": "OnIdle"}),
        ("in", "CALLRESULT", "Reset", csms_call[1], {"status": "Accepted"}),
        ("out", "CALL", "UnlockConnector", csms_call_2[1], {"evseId": 1, "connectorId": 1}),
        ("in", "CALLERROR", "UnlockConnector", csms_call_2[1], got[-16][4]),
    ]
    assert got == list(reversed(expected_oldest_first))  # newest first
    assert got[-2][4]["status"] == "Accepted"
    errors = {m[3]: m[4]["errorCode"] for m in got if m[1] == "CALLERROR" and m[0] == "out"}
    assert errors == {"-1": "FormatViolation", "bad-shape": "RpcFrameworkError",
                      "coffee": "NotImplemented", "schema": "ProtocolError"}
    assert got[0][4] == {"errorCode": "NotSupported", "errorDescription": "no lock",
                         "errorDetails": {"why": "none"}}
    for item in response.json()["items"]:
        assert item["timestamp"].endswith("Z")


# before acceptance ------------------------------------------------------------------------------
async def test_messages_before_acceptance_get_security_error(sqlite_url: str,
                                                             version: str) -> None:
    settings = test_settings(sqlite_url, station_admission=Admission.PENDING)
    async with run_server(settings) as server, \
            raw2x(server.ocpp_url, "CS-EARLY", version, boot=False) as station:
        _assert_call_error(await station.call("Heartbeat", {}, "e1"), "e1", "SecurityError")
        boot = await station.call("BootNotification", BOOT, "b1")
        assert boot[:2] == [3, "b1"] and boot[2]["status"] == "Pending"
        _assert_call_error(await station.call("Heartbeat", {}, "e2"), "e2", "SecurityError")
        _assert_call_error(await station.call("TransactionEvent", TXN, "e3"), "e3",
                           "SecurityError")
        # Broken frames are refused for what they are, before acceptance too.
        await station.send_text("not json")
        _assert_call_error(await station.recv(), "-1", "FormatViolation")
        assert (await server.api.get("/transactions", params={"station_id": "CS-EARLY"})
                ).json()["total"] == 0
        patched = await server.api.patch("/stations/CS-EARLY",
                                         json={"registration_status": "Accepted"})
        assert patched.status_code == 200
        boot = await station.call("BootNotification", BOOT, "b2")
        assert boot[2]["status"] == "Accepted"
        await station.assert_alive()
