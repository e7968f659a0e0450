"""OCPP 2.0.1 and 2.1 provisioning (block B) against a real server: boot states, reports,
device model, Get/SetVariables with the station's message limits, network profile, reset.

Named after the OCA test cases (2.0.1 Part 6, CSMS side) where one exists; each runs for
2.0.1 and 2.1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import OCPPError, SecurityError
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station2x import VERSIONS, TestStation2x, connect2x
from tests.support.station16 import connect16
from volthub.domain.enums import Admission

T0 = "2026-01-01T10:00:00Z"
NETWORK_PROFILE = {
    "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppInterface": "Wired0",
    "ocppCsmsUrl": "wss://csms.example.com/ocpp", "messageTimeout": 30, "securityProfile": 2,
}


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def pending_server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    """VOLTHUB_STATION_ADMISSION=pending, with a boot retry interval unlike the heartbeat's."""
    settings = test_settings(sqlite_url, station_admission=Admission.PENDING,
                             boot_retry_interval_s=17)
    async with run_server(settings) as running:
        yield running


# helpers ---------------------------------------------------------------------------------
def _request(version: str, action: str, payload: dict[str, Any]) -> Any:
    module = call21 if version == "2.1" else call201
    return getattr(module, action)(**camel_to_snake_case(payload))


async def refused(station: TestStation2x, action: str, payload: dict[str, Any]) -> OCPPError:
    """Send a CALL that the CSMS must answer with a CALLERROR; that error."""
    with pytest.raises(OCPPError) as caught:
        await station.call(_request(station.version, action, payload), suppress=False)
    return caught.value


def status(evse_id: int = 1, connector_id: int = 1, state: str = "Available") -> dict[str, Any]:
    return {"timestamp": T0, "connectorStatus": state, "evseId": evse_id,
            "connectorId": connector_id}


async def command(server: RunningServer, station_id: str, name: str,
                  body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await server.api.post(f"/stations/{station_id}/commands/{name}", json=body or {})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def station_view(server: RunningServer, station_id: str) -> dict[str, Any]:
    response = await server.api.get(f"/stations/{station_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def device_model(server: RunningServer, station_id: str, **query: str
                       ) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/device-model", params=query)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def reports(server: RunningServer, station_id: str, action: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/reports", params={"action": action})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def messages(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/messages", params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def report_item(component: dict[str, Any], variable: dict[str, Any],
                attributes: list[dict[str, Any]], **characteristics: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"component": component, "variable": variable,
                            "variableAttribute": attributes}
    if characteristics:
        item["variableCharacteristics"] = {"supportsMonitoring": False, **characteristics}
    return item


def limit_item(name: str, instance: str, value: int) -> dict[str, Any]:
    """DeviceDataCtrlr.ItemsPerMessage / BytesPerMessage of one message type (2.0.1 B06)."""
    return report_item({"name": "DeviceDataCtrlr"}, {"name": name, "instance": instance},
                       [{"type": "Actual", "value": str(value), "mutability": "ReadOnly"}],
                       dataType="integer")


async def notify_report(station: TestStation2x, request_id: int, items: list[dict[str, Any]],
                        seq_no: int = 0, tbc: bool = False) -> None:
    await station.send("NotifyReport", {"requestId": request_id, "generatedAt": T0,
                                        "seqNo": seq_no, "tbc": tbc, "reportData": items})


def echo_get_variables(station: TestStation2x) -> None:
    """Answer each GetVariables with an Accepted value per item, named after the variable."""
    module = _result_module(station.version)

    async def handler(get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        return module.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "attribute_value": f"v-{d['variable']['name']}",
             "component": d["component"], "variable": d["variable"]}
            for d in get_variable_data])

    _replace_handler(station, "GetVariables", handler)


def echo_set_variables(station: TestStation2x) -> None:
    module = _result_module(station.version)

    async def handler(set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        return module.SetVariables(set_variable_result=[
            {"attribute_status": "Accepted", "component": d["component"],
             "variable": d["variable"]}
            for d in set_variable_data])

    _replace_handler(station, "SetVariables", handler)


def _result_module(version: str) -> Any:
    return result21 if version == "2.1" else result201


def _replace_handler(station: TestStation2x, action: str, handler: Any) -> None:
    station.route_map[action] = {"_on_action": handler, "_skip_schema_validation": False}


def variables(*keys: str) -> list[dict[str, str]]:
    return [{"component": k.split(".")[0], "variable": k.split(".")[1]} for k in keys]


# B01-B04 boot ----------------------------------------------------------------------------
async def test_tc_b_02_cold_boot_pending_then_accepted(server: RunningServer,
                                                       version: str) -> None:
    created = await server.api.post("/stations", json={"id": "CS-PEND",
                                                       "registration_status": "Pending"})
    assert created.status_code == 201, created.text
    async with connect2x(server.ocpp_url, "CS-PEND", version, boot=False) as station:
        first = await station.boot()
        assert first["status"] == "Pending"
        assert first["interval"] == server.settings.boot_retry_interval_s
        # B02: while Pending the CSMS may read (and set) the station's configuration.
        station.answers["GetVariables"] = {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "120",
             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]}
        read = await command(server, "CS-PEND", "get-variables",
                             {"variables": variables("OCPPCommCtrlr.OfflineThreshold")})
        assert read["response"]["getVariableResult"][0]["attributeValue"] == "120"
        assert (await station_view(server, "CS-PEND"))["registration_status"] == "Pending"

        patched = await server.api.patch("/stations/CS-PEND",
                                          json={"registration_status": "Accepted"})
        assert patched.status_code == 200, patched.text
        second = await station.boot()
        assert second["status"] == "Accepted"
        assert second["interval"] == server.settings.heartbeat_interval_s
        await station.send("StatusNotification", status())
    body = await station_view(server, "CS-PEND")
    assert body["registration_status"] == "Accepted"
    assert body["evses"][0]["connectors"][0]["status"] == "Available"


async def test_tc_b_02_admission_pending_until_operator_accepts(pending_server: RunningServer,
                                                                version: str) -> None:
    server = pending_server
    async with connect2x(server.ocpp_url, "CS-NEW", version, boot=False) as station:
        first = await station.boot()
        assert (first["status"], first["interval"]) == ("Pending", 17)
        body = await station_view(server, "CS-NEW")
        assert body["registration_status"] == "Pending"
        assert body["vendor"] == "TestVendor"  # what it told us at boot is kept meanwhile
        error = await refused(station, "Heartbeat", {})
        assert isinstance(error, SecurityError)
        await server.api.patch("/stations/CS-NEW", json={"registration_status": "Accepted"})
        second = await station.boot()
        assert second["status"] == "Accepted"
        assert second["interval"] == server.settings.heartbeat_interval_s
        assert "currentTime" in await station.send("Heartbeat", {})


@pytest.mark.parametrize("registration", ["Pending", "Rejected"])
async def test_tc_b_30_not_accepted_station_gets_security_error(
        server: RunningServer, version: str, registration: str) -> None:
    await server.api.post("/stations", json={"id": "CS-SECERR",
                                             "registration_status": registration})
    async with connect2x(server.ocpp_url, "CS-SECERR", version, boot=False) as station:
        answer = await station.boot()
        assert answer["status"] == registration
        assert answer["interval"] == server.settings.boot_retry_interval_s
        for action, payload in [
            ("StatusNotification", status()),
            ("NotifyEvent", {"generatedAt": T0, "seqNo": 0, "eventData": [{
                "eventId": 1, "timestamp": T0, "trigger": "Delta", "actualValue": "Available",
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "AvailabilityState"}}]}),
            ("Heartbeat", {}),
        ]:
            error = await refused(station, action, payload)
            assert isinstance(error, SecurityError), action
    body = await station_view(server, "CS-SECERR")
    assert body["evses"] == []  # the refused StatusNotification changed nothing
    errors = [m for m in await messages(server, "CS-SECERR")
              if m["message_type"] == "CALLERROR" and m["direction"] == "out"]
    assert len(errors) == 3


async def test_tc_b_31_pending_station_triggered_messages(server: RunningServer,
                                                          version: str) -> None:
    await server.api.post("/stations", json={"id": "CS-TRIG", "registration_status": "Pending"})
    async with connect2x(server.ocpp_url, "CS-TRIG", version, boot=False) as station:
        assert (await station.boot())["status"] == "Pending"
        # F06 while Pending: the message the CSMS asked for is served, once.
        answer = await command(server, "CS-TRIG", "trigger",
                               {"message": "StatusNotification", "evse_id": 1,
                                "connector_id": 2})
        assert answer["status"] == "Accepted"
        assert station.got("TriggerMessage")[-1] == {
            "requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 2}}
        assert await station.send("StatusNotification", status(1, 2, "Occupied")) == {}
        error = await refused(station, "StatusNotification", status(1, 2, "Available"))
        assert isinstance(error, SecurityError)

        # The operator accepts, then triggers a boot rather than waiting for the interval.
        await server.api.patch("/stations/CS-TRIG", json={"registration_status": "Accepted"})
        answer = await command(server, "CS-TRIG", "trigger", {"message": "BootNotification"})
        assert answer["status"] == "Accepted"
        assert station.got("TriggerMessage")[-1] == {"requestedMessage": "BootNotification"}
        booted = await station.boot(reason="Triggered")
        assert booted["status"] == "Accepted"
        await station.send("StatusNotification", status(1, 2, "Available"))
    body = await station_view(server, "CS-TRIG")
    assert body["boot_reason"] == "Triggered"
    [evse] = body["evses"]
    assert (evse["evse_id"], evse["connectors"][0]["connector_id"]) == (1, 2)
    assert evse["connectors"][0]["status"] == "Available"


async def test_tc_b_30_pending_station_may_send_the_report_the_csms_asked_for(
        server: RunningServer, version: str) -> None:
    """B02 (TC_B_30): while Pending, messages triggered by TriggerMessage, GetBaseReport and
    GetReport are allowed: the NotifyReport parts of a requested report are served."""
    await server.api.post("/stations", json={"id": "CS-PREP", "registration_status": "Pending"})
    async with connect2x(server.ocpp_url, "CS-PREP", version, boot=False) as station:
        assert (await station.boot())["status"] == "Pending"
        await command(server, "CS-PREP", "get-base-report",
                      {"report_base": "ConfigurationInventory", "request_id": 5})
        heartbeat = report_item({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"},
                                [{"type": "Actual", "value": "300"}], dataType="integer")
        await notify_report(station, 5, [heartbeat], seq_no=0, tbc=True)
        await notify_report(station, 5, [limit_item("ItemsPerMessage", "GetVariables", 9)],
                            seq_no=1)
        error = await refused(station, "Heartbeat", {})  # still only what was asked for
        assert isinstance(error, SecurityError)
    rows = await device_model(server, "CS-PREP")
    assert {(r["component"], r["variable"]) for r in rows} == {
        ("OCPPCommCtrlr", "HeartbeatInterval"), ("DeviceDataCtrlr", "ItemsPerMessage")}


async def test_b_boot_reason_is_stored(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-REASON", version, boot=False) as station:
        await station.boot(reason="RemoteReset")
        assert (await station_view(server, "CS-REASON"))["boot_reason"] == "RemoteReset"
        await station.boot(reason="FirmwareUpdate")
    body = await station_view(server, "CS-REASON")
    assert body["boot_reason"] == "FirmwareUpdate"
    assert body["last_boot_at"].endswith("Z")


# B07/B08 reports and device model ----------------------------------------------------------
@pytest.mark.parametrize("report_base", ["ConfigurationInventory", "FullInventory"])
async def test_tc_b_12_b_13_get_base_report_fills_device_model(
        server: RunningServer, version: str, report_base: str) -> None:
    async with connect2x(server.ocpp_url, "CS-REPORT", version) as station:
        answer = await command(server, "CS-REPORT", "get-base-report",
                               {"report_base": report_base})
        assert {k: answer[k] for k in ("status", "response")} == {
            "status": "Accepted", "response": {"status": "Accepted"}}
        sent = await station.wait_for("GetBaseReport")
        assert sent["reportBase"] == report_base
        assert answer["data"] == {"request_id": sent["requestId"]}
        request_id = sent["requestId"]
        assert isinstance(request_id, int) and request_id >= 0
        await notify_report(station, request_id, [
            report_item({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"},
                        [{"type": "Actual", "value": "300", "mutability": "ReadWrite",
                          "persistent": True}],
                        dataType="integer", unit="s", minLimit=1, maxLimit=86400),
            report_item({"name": "SecurityCtrlr"}, {"name": "SecurityProfile"},
                        [{"type": "Actual", "value": "1", "mutability": "ReadOnly",
                          "persistent": True, "constant": True}], dataType="integer"),
        ], seq_no=0, tbc=True)
        await notify_report(station, request_id, [
            report_item({"name": "EVSE", "evse": {"id": 1}}, {"name": "AvailabilityState"},
                        [{"type": "Actual", "value": "Available", "mutability": "ReadOnly"}],
                        dataType="OptionList",
                        valuesList="Available,Occupied,Reserved,Unavailable,Faulted"),
            report_item({"name": "SampledDataCtrlr"}, {"name": "TxUpdatedInterval"},
                        [{"type": "Actual", "value": "60"},
                         {"type": "MaxSet", "value": "900", "mutability": "ReadOnly"}],
                        dataType="integer"),
        ], seq_no=1, tbc=False)
    rows = await device_model(server, "CS-REPORT")
    by_key = {(r["component"], r["evse_id"], r["variable"], r["attribute_type"]): r
              for r in rows}
    assert len(rows) == 5
    heartbeat = by_key[("OCPPCommCtrlr", None, "HeartbeatInterval", "Actual")]
    assert (heartbeat["value"], heartbeat["mutability"], heartbeat["persistent"]) == (
        "300", "ReadWrite", True)
    assert heartbeat["characteristics"]["unit"] == "s"
    assert heartbeat["characteristics"]["maxLimit"] == 86400
    profile = by_key[("SecurityCtrlr", None, "SecurityProfile", "Actual")]
    assert (profile["mutability"], profile["constant"]) == ("ReadOnly", True)
    availability = by_key[("EVSE", 1, "AvailabilityState", "Actual")]
    assert availability["characteristics"]["dataType"] == "OptionList"
    assert by_key[("SampledDataCtrlr", None, "TxUpdatedInterval", "MaxSet")]["value"] == "900"
    assert by_key[("SampledDataCtrlr", None, "TxUpdatedInterval", "Actual")]["mutability"] == (
        "ReadWrite")  # 2.0.1 VariableAttributeType: mutability defaults to ReadWrite
    parts = await reports(server, "CS-REPORT", "NotifyReport")
    assert sorted((p["payload"]["seqNo"], p["payload"]["tbc"], p["payload"]["items"])
                  for p in parts) == [(0, True, 2), (1, False, 2)]
    assert {p["request_id"] for p in parts} == {request_id}
    only_evse = await device_model(server, "CS-REPORT", component="EVSE")
    assert [r["variable"] for r in only_evse] == ["AvailabilityState"]


async def test_b_get_report_with_component_criteria(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-GETREP", version) as station:
        answer = await command(server, "CS-GETREP", "get-report", {
            "request_id": 42, "component_criteria": ["Problem", "Available"],
            "variables": [{"component": "EVSE", "evse_id": 1, "variable": "AvailabilityState"},
                          {"component": "Connector", "evse_id": 1, "connector_id": 2,
                           "variable": "ConnectorType"}]})
        assert answer["status"] == "Accepted"
        assert await station.wait_for("GetReport") == {
            "requestId": 42, "componentCriteria": ["Problem", "Available"],
            "componentVariable": [
                {"component": {"name": "EVSE", "evse": {"id": 1}},
                 "variable": {"name": "AvailabilityState"}},
                {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 2}},
                 "variable": {"name": "ConnectorType"}}]}
        await notify_report(station, 42, [report_item(
            {"name": "Connector", "evse": {"id": 1, "connectorId": 2}},
            {"name": "ConnectorType"},
            [{"type": "Actual", "value": "cCCS2", "mutability": "ReadOnly"}],
            dataType="string")])
        station.answers["GetReport"] = {"status": "EmptyResultSet"}
        empty = await command(server, "CS-GETREP", "get-report",
                              {"component_criteria": ["Problem"]})
        assert empty["status"] == "EmptyResultSet"
        sent = station.got("GetReport")[-1]
        assert sent["componentCriteria"] == ["Problem"] and "componentVariable" not in sent
    [row] = await device_model(server, "CS-GETREP", component="Connector")
    assert (row["evse_id"], row["connector_id"], row["value"]) == (1, 2, "cCCS2")
    [part] = await reports(server, "CS-GETREP", "NotifyReport")
    assert part["request_id"] == 42


# B05/B06 Get/SetVariables --------------------------------------------------------------------
async def test_tc_b_07_get_variables_multiple_values(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-GETV", version) as station:
        station.answers["GetVariables"] = {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "90",
             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}},
            {"attributeStatus": "Accepted", "attributeValue": "true",
             "component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"}},
            {"attributeStatus": "Accepted", "attributeType": "Target", "attributeValue": "11000",
             "component": {"name": "EVSE", "evse": {"id": 2}},
             "variable": {"name": "Power"}},
            {"attributeStatus": "UnknownComponent",
             "component": {"name": "Nope"}, "variable": {"name": "Nothing"}},
        ]}
        answer = await command(server, "CS-GETV", "get-variables", {"variables": [
            {"component": "OCPPCommCtrlr", "variable": "OfflineThreshold"},
            {"component": "AuthCtrlr", "variable": "AuthorizeRemoteStart"},
            {"component": "EVSE", "evse_id": 2, "variable": "Power", "attribute_type": "Target"},
            {"component": "Nope", "variable": "Nothing"}]})
        assert answer["status"] == "Accepted"
        assert [r["attributeStatus"] for r in answer["response"]["getVariableResult"]] == [
            "Accepted", "Accepted", "Accepted", "UnknownComponent"]
        assert await station.wait_for("GetVariables") == {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}},
            {"component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"}},
            {"component": {"name": "EVSE", "evse": {"id": 2}}, "variable": {"name": "Power"},
             "attributeType": "Target"},
            {"component": {"name": "Nope"}, "variable": {"name": "Nothing"}}]}
    rows = await device_model(server, "CS-GETV")
    values = {(r["component"], r["evse_id"], r["variable"], r["attribute_type"]): r["value"]
              for r in rows}
    assert values == {("OCPPCommCtrlr", None, "OfflineThreshold", "Actual"): "90",
                      ("AuthCtrlr", None, "AuthorizeRemoteStart", "Actual"): "true",
                      ("EVSE", 2, "Power", "Target"): "11000"}


async def test_tc_b_10_set_variables_multiple_values(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-SETV", version) as station:
        await notify_report(station, 1, [report_item(
            {"name": "AuthCtrlr"}, {"name": "AuthorizeRemoteStart"},
            [{"type": "Actual", "value": "true", "mutability": "ReadWrite"}],
            dataType="boolean")])
        station.answers["SetVariables"] = {"setVariableResult": [
            {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "OfflineThreshold"}},
            {"attributeStatus": "Accepted", "component": {"name": "AuthCtrlr"},
             "variable": {"name": "AuthorizeRemoteStart"}},
            {"attributeStatus": "Rejected", "component": {"name": "SecurityCtrlr"},
             "variable": {"name": "SecurityProfile"}}]}
        answer = await command(server, "CS-SETV", "set-variables", {"variables": [
            {"component": "OCPPCommCtrlr", "variable": "OfflineThreshold", "value": "123"},
            {"component": "AuthCtrlr", "variable": "AuthorizeRemoteStart", "value": "false"},
            {"component": "SecurityCtrlr", "variable": "SecurityProfile", "value": "3"}]})
        # One word for the call; each item keeps its own status in the response.
        assert answer["status"] == "Rejected"
        assert [r["attributeStatus"] for r in answer["response"]["setVariableResult"]] == [
            "Accepted", "Accepted", "Rejected"]
        assert await station.wait_for("SetVariables") == {"setVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"},
             "attributeValue": "123"},
            {"component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"},
             "attributeValue": "false"},
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"},
             "attributeValue": "3"}]}
        missing = await server.api.post("/stations/CS-SETV/commands/set-variables", json={
            "variables": [{"component": "OCPPCommCtrlr", "variable": "OfflineThreshold"}]})
        assert missing.status_code == 422
        assert "OCPPCommCtrlr.OfflineThreshold" in missing.json()["detail"]
    rows = {(r["component"], r["variable"]): r for r in await device_model(server, "CS-SETV")}
    assert rows[("OCPPCommCtrlr", "OfflineThreshold")]["value"] == "123"
    remote_start = rows[("AuthCtrlr", "AuthorizeRemoteStart")]
    # The new value, with what the report said about the variable kept.
    assert remote_start["value"] == "false"
    assert remote_start["mutability"] == "ReadWrite"
    assert remote_start["characteristics"]["dataType"] == "boolean"
    assert ("SecurityCtrlr", "SecurityProfile") not in rows  # the station refused it


async def test_tc_b_06_get_variables_results_matched_by_name(server: RunningServer,
                                                             version: str) -> None:
    """A station may list its results in any order: values land on the variable they name."""
    async with connect2x(server.ocpp_url, "CS-ORDERV", version) as station:
        station.answers["GetVariables"] = {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "true",
             "component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"}},
            {"attributeStatus": "Accepted", "attributeValue": "90",
             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]}
        await command(server, "CS-ORDERV", "get-variables", {"variables": variables(
            "OCPPCommCtrlr.OfflineThreshold", "AuthCtrlr.AuthorizeRemoteStart")})
    values = {r["variable"]: r["value"] for r in await device_model(server, "CS-ORDERV")}
    assert values == {"OfflineThreshold": "90", "AuthorizeRemoteStart": "true"}


async def test_b_get_variables_split_by_items_per_message(server: RunningServer,
                                                          version: str) -> None:
    keys = [f"Comp{i}.Var{i}" for i in range(5)]
    async with connect2x(server.ocpp_url, "CS-ITEMS", version) as station:
        await notify_report(station, 1, [limit_item("ItemsPerMessage", "GetVariables", 2),
                                         limit_item("ItemsPerMessage", "SetVariables", 4)])
        echo_get_variables(station)
        answer = await command(server, "CS-ITEMS", "get-variables",
                               {"variables": variables(*keys)})
        calls = station.got("GetVariables")
        assert [len(c["getVariableData"]) for c in calls] == [2, 2, 1]
        assert [f"{d['component']['name']}.{d['variable']['name']}"
                for c in calls for d in c["getVariableData"]] == keys
        # One answer, as if the station had answered one call.
        assert answer["status"] == "Accepted"
        results = answer["response"]["getVariableResult"]
        assert [(r["variable"]["name"], r["attributeValue"]) for r in results] == [
            (f"Var{i}", f"v-Var{i}") for i in range(5)]

        echo_set_variables(station)
        answer = await command(server, "CS-ITEMS", "set-variables", {"variables": [
            {"component": f"Comp{i}", "variable": f"Var{i}", "value": str(i)}
            for i in range(5)]})
        assert [len(c["setVariableData"]) for c in station.got("SetVariables")] == [4, 1]
        assert answer["status"] == "Accepted"
        assert len(answer["response"]["setVariableResult"]) == 5
    values = {r["variable"]: r["value"] for r in await device_model(server, "CS-ITEMS")
              if r["component"].startswith("Comp")}
    assert values == {f"Var{i}": str(i) for i in range(5)}


async def test_b_set_variables_split_by_bytes_per_message(server: RunningServer,
                                                          version: str) -> None:
    limit = 400
    async with connect2x(server.ocpp_url, "CS-BYTES", version) as station:
        await notify_report(station, 1, [limit_item("BytesPerMessage", "SetVariables", limit)])
        echo_set_variables(station)
        body = {"variables": [{"component": "OCPPCommCtrlr", "variable": f"Setting{i}",
                               "value": "x" * 40} for i in range(6)]}
        answer = await command(server, "CS-BYTES", "set-variables", body)
        assert answer["status"] == "Accepted"
        assert len(answer["response"]["setVariableResult"]) == 6
        calls = station.got("SetVariables")
        assert len(calls) > 1
        assert [d["variable"]["name"] for c in calls for d in c["setVariableData"]] == [
            f"Setting{i}" for i in range(6)]
    frames = [m for m in await messages(server, "CS-BYTES")
              if m["direction"] == "out" and m["action"] == "SetVariables"
              and m["message_type"] == "CALL"]
    assert len(frames) == len(calls)
    for frame in frames:
        text = json.dumps([2, frame["message_id"], "SetVariables", frame["payload"]],
                          separators=(",", ":"))
        assert len(text.encode()) <= limit


# B09 network profile ------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["Accepted", "Failed"])
async def test_tc_b_42_b_44_set_network_profile(server: RunningServer, version: str,
                                                outcome: str) -> None:
    async with connect2x(server.ocpp_url, "CS-NETP", version) as station:
        station.answers["SetNetworkProfile"] = {"status": outcome}
        answer = await command(server, "CS-NETP", "set-network-profile",
                               {"configuration_slot": 2, "connection_data": NETWORK_PROFILE})
        assert answer["status"] == outcome
        assert await station.wait_for("SetNetworkProfile") == {
            "configurationSlot": 2, "connectionData": NETWORK_PROFILE}
        bad = await server.api.post("/stations/CS-NETP/commands/set-network-profile", json={
            "configuration_slot": 2, "connection_data": {"ocppCsmsUrl": "wss://x"}})
        assert bad.status_code == 422
        assert "SetNetworkProfile" in bad.json()["detail"]
        assert len(station.got("SetNetworkProfile")) == 1


# B11/B12 reset ----------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "expected"), [
    ({"type": "on_idle"}, {"type": "OnIdle"}),                              # TC_B_20
    ({"type": "immediate"}, {"type": "Immediate"}),                         # TC_B_22
    ({"type": "on_idle", "evse_id": 1}, {"type": "OnIdle", "evseId": 1}),   # TC_B_25/26
    ({"type": "immediate", "evse_id": 2}, {"type": "Immediate", "evseId": 2}),  # TC_B_27
    ({"type": "soft"}, {"type": "OnIdle"}),    # the 1.6 words mean the same on 2.x
    ({"type": "hard"}, {"type": "Immediate"}),
], ids=["b20-onidle", "b22-immediate", "b25-evse-onidle", "b27-evse-immediate", "soft", "hard"])
async def test_tc_b_20_to_27_reset(server: RunningServer, version: str, body: dict[str, Any],
                                   expected: dict[str, Any]) -> None:
    async with connect2x(server.ocpp_url, "CS-RESET", version) as station:
        station.answers["Reset"] = {"status": "Scheduled"}
        answer = await command(server, "CS-RESET", "reset", body)
        assert answer == {"status": "Scheduled", "response": {"status": "Scheduled"}}
        assert await station.wait_for("Reset") == expected


async def test_b_reset_forms_on_ocpp16(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CS-RESET16") as station:
        for kind, expected in [("soft", "Soft"), ("hard", "Hard"), ("on_idle", "Soft"),
                               ("immediate", "Hard")]:
            answer = await command(server, "CS-RESET16", "reset", {"type": kind})
            assert answer["status"] == "Accepted"
            assert station.raw_received[-1] == ("Reset", {"type": expected})
        evse = await server.api.post("/stations/CS-RESET16/commands/reset",
                                     json={"type": "soft", "evse_id": 1})
        assert evse.status_code == 422
        assert "evse_id" in evse.json()["detail"]
        bad = await server.api.post("/stations/CS-RESET16/commands/reset",
                                    json={"type": "reboot"})
        assert bad.status_code == 422
        assert "type" in bad.json()["detail"]
        assert len(station.raw_received) == 4
