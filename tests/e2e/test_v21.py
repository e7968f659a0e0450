"""What OCPP 2.1 adds, against a real server: the new station-initiated actions, the SEND and
CALLRESULTERROR frames (2.1 Part 4 §4.2.3-4.2.4) and V2X commands.

The new actions are sent as raw frames with exactly the camelCase payload given (the `ocpp`
library's 2.1 dataclasses rename a few fields) and every answer is checked against the 2.1
response schema.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from ocpp.messages import Call
from websockets.typing import Subprotocol

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station2x import TestStation2x, connect2x
from tests.support.timeouts import ANSWER_TIMEOUT_S
from volthub.ocpp import schemas

T0 = "2026-01-01T10:00:00Z"
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "ab" * 32, "issuerKeyHash": "cd" * 32,
        "serialNumber": "1a2b3c"}
BOOT = {"chargingStation": {"vendorName": "TestVendor", "model": "Raw"}, "reason": "PowerUp"}
STREAM = {"id": 3, "pending": 0, "basetime": T0,
          "data": [{"t": 0, "v": "230.1"}, {"t": 0.5, "v": "230.4"}]}


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(sqlite_url)) as running:
        yield running


# --- helpers --------------------------------------------------------------------------------
def check(version: str, action: str, payload: dict[str, Any], response: bool) -> None:
    """Validate against the version's schema (on a copy: the validator fills in defaults)."""
    validate = schemas.validator(version, action, response=response)
    assert validate is not None, f"no schema for {action}"
    validate(copy.deepcopy(payload))


async def call_raw(station: TestStation2x, action: str, payload: dict[str, Any]) -> Any:
    """A CALL with exactly this payload; the CALLRESULT or CALLERROR as it came."""
    message = Call(unique_id=str(uuid.uuid4()), action=action, payload=payload)
    async with station._call_lock:
        await station._send(message.to_json())
        return await station._get_specific_response(message.unique_id, 10)


async def reports(server: RunningServer, station_id: str, action: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/reports",
                                    params={"action": action})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def messages(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/messages")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def command(server: RunningServer, station_id: str, name: str,
                  body: dict[str, Any]) -> httpx.Response:
    return await server.api.post(f"/stations/{station_id}/commands/{name}", json=body)


async def start_transaction(server: RunningServer, station: TestStation2x,
                            reference: str) -> int:
    await station.send("TransactionEvent", {
        "eventType": "Started", "timestamp": T0, "triggerReason": "CablePluggedIn",
        "seqNo": 0, "transactionInfo": {"transactionId": reference},
        "evse": {"id": 1, "connectorId": 1}})
    response = await server.api.get("/transactions", params={"station_id": station.id})
    [txn] = response.json()["items"]
    value: int = txn["id"]
    return value


class RawStation:
    """A bare OCPP-J WebSocket: frames exactly as written, answers exactly as they come."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, frame: list[Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self) -> list[Any]:
        frame: list[Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        return frame

    async def call(self, message_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
        await self.send([2, message_id, action, payload])
        return await self.recv()


@asynccontextmanager
async def raw_station(server: RunningServer, station_id: str, version: str
                      ) -> AsyncIterator[RawStation]:
    async with websockets.connect(f"{server.ocpp_url}/{station_id}",
                                  subprotocols=[Subprotocol(f"ocpp{version}")],
                                  open_timeout=ANSWER_TIMEOUT_S) as ws:
        assert ws.subprotocol == f"ocpp{version}"
        station = RawStation(ws)
        boot = await station.call("boot-1", "BootNotification", BOOT)
        assert boot[:2] == [3, "boot-1"] and boot[2]["status"] == "Accepted"
        yield station


# --- every new station-initiated 2.1 action ------------------------------------------------
# action -> (request, report action the handler keeps it under, or None)
NEW_ACTIONS: dict[str, tuple[dict[str, Any], str | None]] = {
    "BatterySwap": ({
        "eventType": "BatteryIn", "requestId": 17,
        "idToken": {"idToken": "DRIVER-1", "type": "ISO14443"},
        "batteryData": [{"evseId": 1, "serialNumber": "BAT-001", "soC": 18.5, "soH": 97.0,
                         "productionDate": "2024-03-01T00:00:00Z"}]},
        "BatterySwap"),
    "OpenPeriodicEventStream": ({
        "constantStreamData": {"id": 3, "variableMonitoringId": 7,
                               "params": {"interval": 5, "values": 10}}},
        "OpenPeriodicEventStream"),
    "ClosePeriodicEventStream": ({"id": 3}, "ClosePeriodicEventStream"),
    "GetCertificateChainStatus": ({"certificateStatusRequests": [
        {"certificateHashData": HASH, "source": "OCSP", "urls": ["http://127.0.0.1:9/ocsp"]}]},
        None),
    "NotifyDERAlarm": ({"controlType": "HVMustTrip", "gridEventFault": "OverVoltage",
                        "alarmEnded": False, "timestamp": T0, "extraInfo": "253 V"},
                       "NotifyDERAlarm"),
    "NotifyDERStartStop": ({"controlId": "DER-1", "started": True, "timestamp": T0,
                            "supersededIds": ["DER-0"]}, "NotifyDERStartStop"),
    "ReportDERControl": ({"requestId": 5, "tbc": False, "fixedPFAbsorb": [{
        "id": "DER-1", "isDefault": False, "isSuperseded": False,
        "fixedPF": {"priority": 1, "displacement": 0.9, "excitation": True}}]},
        "ReportDERControl"),
    "NotifyPriorityCharging": ({"transactionId": "TX-PRIO", "activated": True},
                               "NotifyPriorityCharging"),
    "NotifySettlement": ({"transactionId": "TX-PAY", "pspRef": "PSP-42", "status": "Settled",
                          "settlementAmount": 12.5, "settlementTime": T0,
                          "receiptId": "R-1", "receiptUrl": "https://receipts.example.com/R-1"},
                         "NotifySettlement"),
    "PullDynamicScheduleUpdate": ({"chargingProfileId": 900001}, None),
    "VatNumberValidation": ({"vatNumber": "NL123456789B01", "evseId": 1},
                            "VatNumberValidation"),
}


@pytest.mark.parametrize("action", sorted(NEW_ACTIONS))
async def test_new_21_action_is_answered_schema_valid_and_kept(server: RunningServer,
                                                               action: str) -> None:
    request, kept_as = NEW_ACTIONS[action]
    check("2.1", action, request, response=False)
    async with connect2x(server.ocpp_url, "CS-21-NEW", "2.1") as station:
        result = await call_raw(station, action, request)
    assert result.message_type_id == 3, f"{action} answered {result}"
    answer = result.payload
    check("2.1", action, answer, response=True)
    if kept_as is not None:
        [stored] = await reports(server, "CS-21-NEW", kept_as)
        assert stored["payload"] == request
    else:
        assert await reports(server, "CS-21-NEW", action) == []


async def test_new_21_answers_say_what_the_csms_did(server: RunningServer) -> None:
    async with connect2x(server.ocpp_url, "CS-21-ANS", "2.1") as station:
        opened = (await call_raw(station, "OpenPeriodicEventStream",
                                 NEW_ACTIONS["OpenPeriodicEventStream"][0])).payload
        pulled = (await call_raw(station, "PullDynamicScheduleUpdate",
                                 NEW_ACTIONS["PullDynamicScheduleUpdate"][0])).payload
        vat = (await call_raw(station, "VatNumberValidation",
                              NEW_ACTIONS["VatNumberValidation"][0])).payload
        chain = (await call_raw(station, "GetCertificateChainStatus",
                                NEW_ACTIONS["GetCertificateChainStatus"][0])).payload
        swap = (await call_raw(station, "BatterySwap", NEW_ACTIONS["BatterySwap"][0])).payload
    assert opened["status"] == "Accepted"
    # No Dynamic profiles are ever sent, so there is nothing to pull.
    assert pulled["status"] == "Rejected"
    # The number is echoed with the EVSE; no VAT registry is configured to confirm it.
    assert (vat["vatNumber"], vat["evseId"], vat["status"]) == ("NL123456789B01", 1, "Rejected")
    # One entry per certificate asked about; the responder cannot be reached.
    [entry] = chain["certificateStatus"]
    assert entry["certificateHashData"] == HASH
    assert (entry["source"], entry["status"]) == ("OCSP", "Failed")
    assert swap == {}


# --- SEND (type 6) and CALLRESULTERROR (type 5) ----------------------------------------------
async def test_send_frame_is_never_answered_and_is_logged_as_send(server: RunningServer) -> None:
    async with raw_station(server, "CS-21-SEND", "2.1") as station:
        await station.send([6, "send-1", "NotifyPeriodicEventStream", STREAM])
        # The next frame is the answer to the next CALL: nothing came for the SEND.
        answer = await station.call("hb-1", "Heartbeat", {})
        assert answer[:2] == [3, "hb-1"]
    log = await messages(server, "CS-21-SEND")
    [send] = [m for m in log if m["message_id"] == "send-1"]
    assert (send["direction"], send["message_type"], send["action"]) == (
        "in", "SEND", "NotifyPeriodicEventStream")
    assert send["payload"] == STREAM
    assert not [m for m in log if m["message_id"] == "send-1" and m["direction"] == "out"]
    [stored] = await reports(server, "CS-21-SEND", "NotifyPeriodicEventStream")
    assert stored["payload"] == STREAM


async def test_send_frame_of_a_station_not_accepted_gets_no_answer(server: RunningServer,
                                                                  ) -> None:
    response = await server.api.post("/stations", json={"id": "CS-21-PENDING",
                                                         "registration_status": "Pending"})
    assert response.status_code == 201, response.text
    async with websockets.connect(f"{server.ocpp_url}/CS-21-PENDING",
                                  subprotocols=[Subprotocol("ocpp2.1")],
                                  open_timeout=ANSWER_TIMEOUT_S) as ws:
        station = RawStation(ws)
        boot = await station.call("boot-1", "BootNotification", BOOT)
        assert boot[:2] == [3, "boot-1"] and boot[2]["status"] == "Pending"
        # Not accepted: a CALL gets a SecurityError, a SEND gets nothing and is not applied.
        await station.send([6, "send-pending", "NotifyPeriodicEventStream", STREAM])
        answer = await station.call("notify-1", "NotifyEvent", {
            "generatedAt": T0, "seqNo": 0, "eventData": [{
                "eventId": 1, "timestamp": T0, "trigger": "Alerting", "actualValue": "1",
                "eventNotificationType": "CustomMonitor", "component": {"name": "X"},
                "variable": {"name": "Y"}}]})
        assert answer[:3] == [4, "notify-1", "SecurityError"]
    assert await reports(server, "CS-21-PENDING", "NotifyPeriodicEventStream") == []
    log = await messages(server, "CS-21-PENDING")
    [send] = [m for m in log if m["message_type"] == "SEND"]
    assert send["message_id"] == "send-pending"
    assert [m["message_id"] for m in log if m["direction"] == "out"] == ["notify-1", "boot-1"]


async def test_send_frame_of_an_unknown_action_gets_no_answer(server: RunningServer) -> None:
    async with raw_station(server, "CS-21-UNKNOWN", "2.1") as station:
        await station.send([6, "send-unknown", "NoSuchAction", {"x": 1}])
        answer = await station.call("hb-1", "Heartbeat", {})
        assert answer[:2] == [3, "hb-1"]
    log = await messages(server, "CS-21-UNKNOWN")
    [send] = [m for m in log if m["message_type"] == "SEND"]
    assert (send["message_id"], send["action"]) == ("send-unknown", "NoSuchAction")
    assert [m["message_id"] for m in log if m["direction"] == "out"] == ["hb-1", "boot-1"]


async def test_send_frame_while_a_csms_call_is_outstanding(server: RunningServer) -> None:
    """2.1 Part 4 §4.1.x: a SEND may be sent before the outstanding CALL is answered."""
    async with raw_station(server, "CS-21-SEND2", "2.1") as station:
        pending = asyncio.create_task(
            command(server, "CS-21-SEND2", "clear-display-message", {"id": 4}))
        csms_call = await station.recv()
        assert csms_call[0] == 2 and csms_call[2:] == ["ClearDisplayMessage", {"id": 4}]
        await station.send([6, "send-2", "NotifyPeriodicEventStream", STREAM])
        await station.send([3, csms_call[1], {"status": "Accepted"}])
        response = await pending
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
    [stored] = await reports(server, "CS-21-SEND2", "NotifyPeriodicEventStream")
    assert stored["payload"] == STREAM


async def test_call_result_error_is_logged_and_the_connection_stays_usable(
    server: RunningServer,
) -> None:
    async with raw_station(server, "CS-21-CRE", "2.1") as station:
        answer = await station.call("hb-1", "Heartbeat", {})
        assert answer[:2] == [3, "hb-1"]
        # The station could not process our CALLRESULT; nothing is answered to that.
        await station.send([5, "hb-1", "FormatViolation", "currentTime unreadable",
                            {"at": "currentTime"}])
        answer = await station.call("hb-2", "Heartbeat", {})
        assert answer[:2] == [3, "hb-2"]
        pending = asyncio.create_task(
            command(server, "CS-21-CRE", "clear-display-message", {"id": 1}))
        csms_call = await station.recv()
        assert csms_call[2] == "ClearDisplayMessage"
        await station.send([3, csms_call[1], {"status": "Accepted"}])
        assert (await pending).status_code == 200
    log = await messages(server, "CS-21-CRE")
    [error] = [m for m in log if m["message_type"] == "CALLRESULTERROR"]
    assert (error["direction"], error["message_id"]) == ("in", "hb-1")
    assert error["payload"]["errorCode"] == "FormatViolation"
    assert error["payload"]["errorDescription"] == "currentTime unreadable"
    # Only the two Heartbeats were answered: the CALLRESULTERROR got no frame back.
    assert sorted(m["message_id"] for m in log
                  if m["direction"] == "out" and m["message_type"] in ("CALLRESULT",
                                                                        "CALLERROR")) == [
        "boot-1", "hb-1", "hb-2"]


@pytest.mark.parametrize("frame", [
    [6, "send-1", "NotifyPeriodicEventStream", STREAM],
    [5, "cre-1", "FormatViolation", "bad", {}],
], ids=["send", "callresulterror"])
async def test_2_1_frame_types_on_2_0_1_are_message_type_not_supported(
    server: RunningServer, frame: list[Any],
) -> None:
    async with raw_station(server, "CS-201-TYPE", "2.0.1") as station:
        await station.send(frame)
        error = await station.recv()
        assert error[:3] == [4, frame[1], "MessageTypeNotSupported"]
        answer = await station.call("hb-1", "Heartbeat", {})
        assert answer[:2] == [3, "hb-1"]
    assert await reports(server, "CS-201-TYPE", "NotifyPeriodicEventStream") == []


# --- V2X commands ---------------------------------------------------------------------------
DISCHARGE_PROFILE: dict[str, Any] = {
    "id": 30, "stack_level": 1, "purpose": "TxDefaultProfile", "kind": "Absolute",
    "schedule": {"charging_rate_unit": "W", "start_schedule": "2026-01-01T00:00:00Z",
                 "periods": [{"start_period_s": 0, "limit": 11000, "discharge_limit": -5000},
                             {"start_period_s": 3600, "limit": 7000}]},
}


async def test_v2x_discharge_limit_is_sent_on_2_1(server: RunningServer) -> None:
    async with connect2x(server.ocpp_url, "CS-V2X", "2.1") as station:
        response = await command(server, "CS-V2X", "set-charging-profile",
                                 {"evse_id": 1, "profile": DISCHARGE_PROFILE})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("SetChargingProfile")
    check("2.1", "SetChargingProfile", sent, response=False)
    [schedule] = sent["chargingProfile"]["chargingSchedule"]
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11000.0, "dischargeLimit": -5000},
        {"startPeriod": 3600, "limit": 7000.0}]
    profiles = (await server.api.get("/stations/CS-V2X/charging-profiles")).json()["items"]
    [stored] = profiles
    assert stored["profile"]["schedule"]["periods"][0]["discharge_limit"] == -5000


async def test_v2x_discharge_limit_on_2_0_1_is_422_and_not_sent(server: RunningServer) -> None:
    async with connect2x(server.ocpp_url, "CS-V2X-201", "2.0.1") as station:
        response = await command(server, "CS-V2X-201", "set-charging-profile",
                                 {"evse_id": 1, "profile": DISCHARGE_PROFILE})
        assert response.status_code == 422, response.text
        assert "2.1" in response.json()["detail"]
        await station.send("Heartbeat", {})
        assert station.got("SetChargingProfile") == []
    assert (await server.api.get("/stations/CS-V2X-201/charging-profiles")).json()["items"] == []


async def test_v2x_positive_discharge_limit_is_422(server: RunningServer) -> None:
    async with connect2x(server.ocpp_url, "CS-V2X-POS", "2.1") as station:
        profile = copy.deepcopy(DISCHARGE_PROFILE)
        profile["schedule"]["periods"][0]["discharge_limit"] = 5000
        response = await command(server, "CS-V2X-POS", "set-charging-profile",
                                 {"evse_id": 1, "profile": profile})
        assert response.status_code == 422, response.text
        assert "discharge_limit" in response.json()["detail"]
        assert station.got("SetChargingProfile") == []


async def test_notify_allowed_energy_transfer_names_the_stations_transaction(
    server: RunningServer,
) -> None:
    async with connect2x(server.ocpp_url, "CS-NAET", "2.1") as station:
        ours = await start_transaction(server, station, "TX-BPT-1")
        response = await command(server, "CS-NAET", "notify-allowed-energy-transfer",
                                 {"transaction_id": ours, "allowed": ["AC_BPT", "AC_three_phase"]})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        sent = await station.wait_for("NotifyAllowedEnergyTransfer")
    assert sent == {"transactionId": "TX-BPT-1",
                    "allowedEnergyTransfer": ["AC_BPT", "AC_three_phase"]}


DER_CONTROL = {"isDefault": False, "controlId": "DER-1", "controlType": "FixedPFAbsorb",
               "fixedPFAbsorb": {"priority": 1, "displacement": 0.9, "excitation": True}}


async def test_v2x_commands_on_2_0_1_are_422(server: RunningServer) -> None:
    async with connect2x(server.ocpp_url, "CS-V2X-NONE", "2.0.1") as station:
        ours = await start_transaction(server, station, "TX-NONE")
        for name, body in (
            ("notify-allowed-energy-transfer", {"transaction_id": ours, "allowed": ["AC_BPT"]}),
            ("set-der-control", {"control": DER_CONTROL}),
        ):
            response = await command(server, "CS-V2X-NONE", name, body)
            assert response.status_code == 422, (name, response.text)
        await station.send("Heartbeat", {})
        assert station.got("NotifyAllowedEnergyTransfer") == []
        assert station.got("SetDERControl") == []
    assert await reports(server, "CS-V2X-NONE", "set-der-control") == []


async def test_set_der_control_is_kept_once_accepted(server: RunningServer) -> None:
    async with connect2x(server.ocpp_url, "CS-DER", "2.1") as station:
        response = await command(server, "CS-DER", "set-der-control", {"control": DER_CONTROL})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert await station.wait_for("SetDERControl") == DER_CONTROL
        [stored] = await reports(server, "CS-DER", "set-der-control")
        assert stored["payload"] == {"control": DER_CONTROL}

        station.answers["SetDERControl"] = {"status": "NotSupported"}
        refused = {**DER_CONTROL, "controlId": "DER-2"}
        response = await command(server, "CS-DER", "set-der-control", {"control": refused})
        assert response.json()["status"] == "NotSupported"
    assert [r["payload"]["control"]["controlId"]
            for r in await reports(server, "CS-DER", "set-der-control")] == ["DER-1"]


async def test_set_der_control_that_breaks_the_21_schema_is_422_and_not_sent(
    server: RunningServer,
) -> None:
    async with connect2x(server.ocpp_url, "CS-DER-BAD", "2.1") as station:
        bad = {k: v for k, v in DER_CONTROL.items() if k != "controlType"}
        response = await command(server, "CS-DER-BAD", "set-der-control", {"control": bad})
        assert response.status_code == 422, response.text
        assert "controlType" in response.json()["detail"]
        assert station.got("SetDERControl") == []
    assert await reports(server, "CS-DER-BAD", "set-der-control") == []
