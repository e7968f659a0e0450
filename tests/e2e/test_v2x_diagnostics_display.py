"""OCPP 2.0.1 and 2.1 diagnostics (N), display messages (O) and ISO 15118 certificate look-ups
(M, wired through the server) against a real server.

Named after the OCA test cases (2.0.1 Part 6, TC_N_xx_CSMS) where one exists; block O has no
CSMS test cases there, so those tests carry the use case id (O01 SetDisplayMessage, ...).
Each test runs for 2.0.1 and 2.1.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ocpp.messages import Call

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station2x import VERSIONS, TestStation2x, connect2x
from volthub.ocpp import schemas

T0 = "2026-01-01T10:00:00Z"


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(sqlite_url)) as running:
        yield running


async def command(server: RunningServer, station_id: str, name: str,
                  body: dict[str, Any]) -> httpx.Response:
    return await server.api.post(f"/stations/{station_id}/commands/{name}", json=body)


async def call_raw(station: TestStation2x, action: str, payload: dict[str, Any]) -> Any:
    """A CALL with exactly this camelCase payload; the CALLRESULT or CALLERROR as it came.

    (The `ocpp` library's 2.1 dataclasses rename some fields, e.g. iso15118SchemaVersion.)"""
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


async def station_view(server: RunningServer, station_id: str) -> dict[str, Any]:
    response = await server.api.get(f"/stations/{station_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def start_transaction(station: TestStation2x, reference: str) -> None:
    await station.send("TransactionEvent", {
        "eventType": "Started", "timestamp": T0, "triggerReason": "CablePluggedIn",
        "seqNo": 0, "transactionInfo": {"transactionId": reference},
        "evse": {"id": 1, "connectorId": 1}})


async def our_transaction_id(server: RunningServer, station_id: str) -> int:
    response = await server.api.get("/transactions", params={"station_id": station_id})
    [txn] = response.json()["items"]
    value: int = txn["id"]
    return value


# --- N01 GetLog --------------------------------------------------------------------------------
@pytest.mark.parametrize("log_type", ["DiagnosticsLog", "SecurityLog"],
                         ids=["tc_n_25_diagnostics", "tc_n_35_security"])
async def test_tc_n_25_and_35_retrieve_log_success(server: RunningServer, version: str,
                                                   log_type: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N25", version) as station:
        response = await command(server, "CS-N25", "get-log", {
            "log_type": log_type, "location": "https://logs.example.com/upload",
            "oldest_at": "2026-01-01T00:00:00Z", "retries": 2, "retry_interval_s": 30})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["response"]) == (
            "Accepted", {"status": "Accepted", "filename": "log.zip"})
        sent = await station.wait_for("GetLog")
        request_id = sent["requestId"]
        # The API tells which requestId the LogStatusNotifications will carry.
        assert body["data"]["request_id"] == request_id
        assert sent == {"logType": log_type, "requestId": request_id, "retries": 2,
                        "retryInterval": 30,
                        "log": {"remoteLocation": "https://logs.example.com/upload",
                                "oldestTimestamp": "2026-01-01T00:00:00.000Z"}}
        assert await station.send("LogStatusNotification",
                                  {"status": "Uploading", "requestId": request_id}) == {}
        assert (await station_view(server, "CS-N25"))["log_status"] == "Uploading"
        await station.send("LogStatusNotification", {"status": "Uploaded",
                                                      "requestId": request_id})
    assert (await station_view(server, "CS-N25"))["log_status"] == "Uploaded"
    stored = await reports(server, "CS-N25", "LogStatusNotification")
    assert [(r["payload"]["status"], r["request_id"]) for r in stored] == [
        ("Uploaded", request_id), ("Uploading", request_id)]  # newest first


async def test_tc_n_34_retrieve_log_rejected(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N34", version) as station:
        station.answers["GetLog"] = {"status": "Rejected"}
        response = await command(server, "CS-N34", "get-log", {
            "log_type": "DiagnosticsLog", "location": "ftp://logs.example.com/"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Rejected"
    assert (await station_view(server, "CS-N34"))["log_status"] is None


async def test_tc_n_36_second_log_request_cancels_the_first(server: RunningServer,
                                                            version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N36", version) as station:
        body = {"log_type": "DiagnosticsLog", "location": "https://logs.example.com/"}
        assert (await command(server, "CS-N36", "get-log", {**body, "request_id": 1})
                ).status_code == 200
        await station.send("LogStatusNotification", {"status": "Uploading", "requestId": 1})
        station.answers["GetLog"] = {"status": "AcceptedCanceled", "filename": "log2.zip"}
        second = await command(server, "CS-N36", "get-log", {**body, "request_id": 2})
        assert second.json()["status"] == "AcceptedCanceled"
        assert [p["requestId"] for p in station.got("GetLog")] == [1, 2]
        await station.send("LogStatusNotification", {"status": "AcceptedCanceled",
                                                      "requestId": 1})
        await station.send("LogStatusNotification", {"status": "Uploading", "requestId": 2})
        await station.send("LogStatusNotification", {"status": "Uploaded", "requestId": 2})
    assert (await station_view(server, "CS-N36"))["log_status"] == "Uploaded"
    stored = await reports(server, "CS-N36", "LogStatusNotification")
    assert [(r["request_id"], r["payload"]["status"]) for r in reversed(stored)] == [
        (1, "Uploading"), (1, "AcceptedCanceled"), (2, "Uploading"), (2, "Uploaded")]


async def test_n01_get_diagnostics_on_2x_is_a_diagnostics_get_log(server: RunningServer,
                                                                  version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N01-DIAG", version) as station:
        response = await command(server, "CS-N01-DIAG", "get-diagnostics",
                                 {"location": "https://logs.example.com/"})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("GetLog")
    assert sent["logType"] == "DiagnosticsLog"
    assert sent["log"] == {"remoteLocation": "https://logs.example.com/"}


# --- N02-N08 monitoring ------------------------------------------------------------------------
async def test_n03_set_monitoring_base(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N03", version) as station:
        response = await command(server, "CS-N03", "set-monitoring-base",
                                 {"monitoring_base": "FactoryDefault"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert await station.wait_for("SetMonitoringBase") == {"monitoringBase": "FactoryDefault"}
        bad = await command(server, "CS-N03", "set-monitoring-base", {"monitoring_base": "Some"})
        assert bad.status_code == 422
        assert "monitoring_base" in bad.json()["detail"]


async def test_n05_set_monitoring_level(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N05", version) as station:
        station.answers["SetMonitoringLevel"] = {"status": "Rejected"}
        response = await command(server, "CS-N05", "set-monitoring-level", {"severity": 4})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Rejected"
        assert await station.wait_for("SetMonitoringLevel") == {"severity": 4}
        assert (await command(server, "CS-N05", "set-monitoring-level", {"severity": 10})
                ).status_code == 422


MONITOR_TARGET = {"component": {"name": "EVSE", "evse": {"id": 1}},
                  "variable": {"name": "Power"}}


async def test_n04_set_and_n06_clear_variable_monitoring(server: RunningServer,
                                                         version: str) -> None:
    monitor = {"value": 22000.0, "type": "UpperThreshold", "severity": 5, "transaction": False,
               **MONITOR_TARGET}
    async with connect2x(server.ocpp_url, "CS-N04", version) as station:
        station.answers["SetVariableMonitoring"] = {"setMonitoringResult": [
            {"id": 7, "status": "Accepted", "type": "UpperThreshold", "severity": 5,
             **MONITOR_TARGET}]}
        response = await command(server, "CS-N04", "set-variable-monitoring",
                                 {"monitors": [monitor]})
        assert response.status_code == 200, response.text
        assert response.json()["response"]["setMonitoringResult"][0]["id"] == 7
        assert await station.wait_for("SetVariableMonitoring") == {"setMonitoringData": [monitor]}

        station.answers["ClearVariableMonitoring"] = {"clearMonitoringResult": [
            {"id": 7, "status": "Accepted"}, {"id": 8, "status": "NotFound"}]}
        response = await command(server, "CS-N04", "clear-variable-monitoring",
                                 {"ids": [7, 8]})
        assert response.status_code == 200, response.text
        assert response.json()["response"]["clearMonitoringResult"][1] == {
            "id": 8, "status": "NotFound"}
        assert await station.wait_for("ClearVariableMonitoring") == {"id": [7, 8]}
        assert (await command(server, "CS-N04", "clear-variable-monitoring", {"ids": []})
                ).status_code == 422


async def test_n02_get_monitoring_report_and_notify_monitoring_report_stored(
    server: RunningServer, version: str,
) -> None:
    variable_monitoring: dict[str, Any] = {"id": 7, "transaction": False, "value": 22000.0,
                                           "type": "UpperThreshold", "severity": 5}
    if version == "2.1":
        variable_monitoring["eventNotificationType"] = "CustomMonitor"
    async with connect2x(server.ocpp_url, "CS-N02", version) as station:
        response = await command(server, "CS-N02", "get-monitoring-report", {
            "request_id": 99, "criteria": ["ThresholdMonitoring"],
            "variables": [{"component": "EVSE", "variable": "Power", "evse_id": 1}]})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("GetMonitoringReport")
        assert sent == {"requestId": 99, "monitoringCriteria": ["ThresholdMonitoring"],
                        "componentVariable": [MONITOR_TARGET]}
        report = {"requestId": 99, "seqNo": 0, "generatedAt": T0, "tbc": False,
                  "monitor": [{**MONITOR_TARGET, "variableMonitoring": [variable_monitoring]}]}
        assert await station.send("NotifyMonitoringReport", report) == {}
    [stored] = await reports(server, "CS-N02", "NotifyMonitoringReport")
    assert stored["request_id"] == 99
    assert stored["payload"] == report


async def test_n07_notify_event_is_stored(server: RunningServer, version: str) -> None:
    event = {"generatedAt": T0, "seqNo": 0, "tbc": False, "eventData": [{
        "eventId": 1, "timestamp": T0, "trigger": "Alerting", "actualValue": "23500",
        "eventNotificationType": "CustomMonitor", "variableMonitoringId": 7,
        "techCode": "OVERPOWER", **MONITOR_TARGET}]}
    async with connect2x(server.ocpp_url, "CS-N07", version) as station:
        assert await station.send("NotifyEvent", event) == {}
    [stored] = await reports(server, "CS-N07", "NotifyEvent")
    assert stored["payload"] == event


# Validation must not write schema defaults into payloads (volthub.ocpp.schemas compiles
# with use_default=False): these two tests pin that down.


async def test_n07_notify_event_is_logged_and_kept_exactly_as_sent(server: RunningServer,
                                                                   version: str) -> None:
    event = {"generatedAt": T0, "seqNo": 0, "eventData": [{  # no tbc: it defaults to false
        "eventId": 1, "timestamp": T0, "trigger": "Delta", "actualValue": "Occupied",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
        "variable": {"name": "AvailabilityState"}}]}
    async with connect2x(server.ocpp_url, "CS-N07-RAW", version) as station:
        # Raw: the `ocpp` library's 2.1 NotifyEvent would add tbc itself.
        assert (await call_raw(station, "NotifyEvent", event)).payload == {}
    log = (await server.api.get("/stations/CS-N07-RAW/messages")).json()["items"]
    [logged] = [m for m in log if m["action"] == "NotifyEvent" and m["direction"] == "in"]
    [stored] = await reports(server, "CS-N07-RAW", "NotifyEvent")
    assert (logged["payload"], stored["payload"]) == (event, event)


async def test_n04_set_variable_monitoring_is_sent_exactly_as_given(server: RunningServer,
                                                                    version: str) -> None:
    monitor = {"value": 10.0, "type": "Delta", "severity": 8, **MONITOR_TARGET}
    async with connect2x(server.ocpp_url, "CS-N04-RAW", version) as station:
        station.answers["SetVariableMonitoring"] = {"setMonitoringResult": [
            {"id": 1, "status": "Accepted", "type": "Delta", "severity": 8, **MONITOR_TARGET}]}
        response = await command(server, "CS-N04-RAW", "set-variable-monitoring",
                                 {"monitors": [monitor]})
        assert response.status_code == 200, response.text
        assert await station.wait_for("SetVariableMonitoring") == {"setMonitoringData": [monitor]}


# --- N09/N10 customer information --------------------------------------------------------------
@pytest.mark.parametrize(("body", "expected"), [
    pytest.param({"id_token": "DRIVER-1"},
                 {"report": True, "clear": False,
                  "idToken": {"idToken": "DRIVER-1", "type": "ISO14443"}}, id="tc_n_27"),
    pytest.param({"id_token": "DRIVER-1", "clear": True},
                 {"report": True, "clear": True,
                  "idToken": {"idToken": "DRIVER-1", "type": "ISO14443"}}, id="tc_n_30"),
    pytest.param({"customer_identifier": "OpenChargeAlliance", "clear": True},
                 {"report": True, "clear": True, "customerIdentifier": "OpenChargeAlliance"},
                 id="tc_n_62"),
])
async def test_tc_n_27_30_62_customer_information_report_is_stored(
    server: RunningServer, version: str, body: dict[str, Any], expected: dict[str, Any],
) -> None:
    async with connect2x(server.ocpp_url, "CS-N27", version) as station:
        response = await command(server, "CS-N27", "customer-information", body)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        sent = await station.wait_for("CustomerInformation")
        request_id = sent.pop("requestId")
        assert response.json()["data"]["request_id"] == request_id
        assert sent == expected
        for seq_no, (data, tbc) in enumerate((("name: J. Doe", True), ("tokens: 1", False))):
            await station.send("NotifyCustomerInformation", {
                "data": data, "tbc": tbc, "seqNo": seq_no, "generatedAt": T0,
                "requestId": request_id})
    stored = await reports(server, "CS-N27", "NotifyCustomerInformation")
    assert sorted((r["request_id"], r["payload"]["seqNo"], r["payload"]["data"])
                  for r in stored) == [(request_id, 0, "name: J. Doe"),
                                       (request_id, 1, "tokens: 1")]


async def test_tc_n_29_customer_information_rejected(server: RunningServer,
                                                     version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N29", version) as station:
        station.answers["CustomerInformation"] = {"status": "Rejected"}
        response = await command(server, "CS-N29", "customer-information",
                                 {"id_token": "DRIVER-1"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Rejected"


async def test_tc_n_32_clear_customer_information_without_report(server: RunningServer,
                                                                 version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-N32", version) as station:
        response = await command(server, "CS-N32", "customer-information",
                                 {"id_token": "DRIVER-1", "report": False, "clear": True})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("CustomerInformation")
    assert (sent["report"], sent["clear"], sent["idToken"]["idToken"]) == (False, True,
                                                                           "DRIVER-1")


# --- O Display messages ------------------------------------------------------------------------
async def test_o01_set_display_message_is_kept_once_accepted(server: RunningServer,
                                                             version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-O01", version) as station:
        response = await command(server, "CS-O01", "set-display-message", {
            "id": 5, "priority": "InFront", "content": "Welcome!", "language": "en",
            "state": "Idle", "start_at": "2026-01-01T00:00:00Z",
            "end_at": "2026-02-01T00:00:00Z"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        sent = await station.wait_for("SetDisplayMessage")
    assert sent == {"message": {
        "id": 5, "priority": "InFront", "state": "Idle",
        "startDateTime": "2026-01-01T00:00:00.000Z", "endDateTime": "2026-02-01T00:00:00.000Z",
        "message": {"format": "UTF8", "language": "en", "content": "Welcome!"}}}
    [stored] = await reports(server, "CS-O01", "set-display-message")
    assert stored["payload"]["id"] == 5
    assert stored["payload"]["content"] == "Welcome!"
    assert stored["payload"]["priority"] == "InFront"


async def test_o01_display_message_the_station_refuses_is_not_kept(server: RunningServer,
                                                                   version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-O01-REJ", version) as station:
        station.answers["SetDisplayMessage"] = {"status": "NotSupportedPriority"}
        response = await command(server, "CS-O01-REJ", "set-display-message", {
            "id": 6, "priority": "AlwaysFront", "content": "Out of order"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "NotSupportedPriority"
    assert await reports(server, "CS-O01-REJ", "set-display-message") == []


async def test_o02_display_message_for_a_transaction_names_the_stations_transaction(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-O02", version) as station:
        await start_transaction(station, "TX-O02-77")
        ours = await our_transaction_id(server, "CS-O02")
        response = await command(server, "CS-O02", "set-display-message", {
            "id": 8, "content": "0.42 EUR so far", "transaction_id": ours})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("SetDisplayMessage")
    assert sent["message"]["transactionId"] == "TX-O02-77"
    assert sent["message"]["priority"] == "NormalCycle"


async def test_o03_get_display_messages_and_notify_display_messages_stored(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-O03", version) as station:
        response = await command(server, "CS-O03", "get-display-messages",
                                 {"ids": [5, 6], "priority": "InFront"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        sent = await station.wait_for("GetDisplayMessages")
        request_id = sent["requestId"]
        assert response.json()["data"]["request_id"] == request_id
        assert sent == {"requestId": request_id, "id": [5, 6], "priority": "InFront"}
        notify = {"requestId": request_id, "tbc": False, "messageInfo": [
            {"id": 5, "priority": "InFront", "state": "Idle",
             "message": {"format": "UTF8", "content": "Welcome!"}}]}
        assert await station.send("NotifyDisplayMessages", notify) == {}
    [stored] = await reports(server, "CS-O03", "NotifyDisplayMessages")
    assert stored["request_id"] == request_id
    assert stored["payload"] == notify


async def test_o04_clear_display_message(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-O04", version) as station:
        response = await command(server, "CS-O04", "clear-display-message", {"id": 5})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert await station.wait_for("ClearDisplayMessage") == {"id": 5}
        station.answers["ClearDisplayMessage"] = {"status": "Unknown"}
        response = await command(server, "CS-O04", "clear-display-message", {"id": 6})
        assert response.json()["status"] == "Unknown"


# --- M ISO 15118 certificates through the server -----------------------------------------------
async def test_m02_ev_certificate_without_a_certificate_provider_fails(
    server: RunningServer, version: str,
) -> None:
    assert server.settings.iso15118_cert_provider_url is None
    async with connect2x(server.ocpp_url, "CS-M02", version) as station:
        result = await call_raw(station, "Get15118EVCertificate", {
            "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install",
            "exiRequest": "gAEAAAAAAA=="})
    assert result.message_type_id == 3, result  # a CALLRESULT, not a CALLERROR
    answer = result.payload
    validate = schemas.validator(version, "Get15118EVCertificate", response=True)
    assert validate is not None
    validate(dict(answer))
    assert answer["status"] == "Failed"
    assert answer["exiResponse"] == ""
    # A reason code, with the readable reason beside it rather than cut into the code.
    assert answer["statusInfo"]["reasonCode"] == "NotEnabled"
    assert "certificate provider" in answer["statusInfo"]["additionalInfo"]


async def test_m06_certificate_status_with_an_unreachable_responder_fails(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-M06", version) as station:
        result = await call_raw(station, "GetCertificateStatus", {"ocspRequestData": {
            "hashAlgorithm": "SHA256", "issuerNameHash": "ab" * 32, "issuerKeyHash": "cd" * 32,
            "serialNumber": "1a2b3c", "responderURL": "http://127.0.0.1:9/ocsp"}})
    assert result.message_type_id == 3, result
    answer = result.payload
    validate = schemas.validator(version, "GetCertificateStatus", response=True)
    assert validate is not None
    validate(dict(answer))
    assert answer["status"] == "Failed"
    assert "ocspResult" not in answer
    assert " " not in answer["statusInfo"]["reasonCode"]
    assert "127.0.0.1" in answer["statusInfo"]["additionalInfo"]
