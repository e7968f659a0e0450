"""OCPP 2.0.1 and 2.1 core flows against a real server: boot, authorize, transactions, commands.

Named after the OCA test cases (2.0.1 Part 6) where one exists; each runs for 2.0.1 and 2.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station2x import VERSIONS, connect2x

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T10:30:00Z"
T2 = "2026-01-01T11:00:00Z"


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(sqlite_url)) as running:
        yield running


def energy(value_wh: float, context: str, timestamp: str = T0) -> dict[str, Any]:
    return {"timestamp": timestamp, "sampledValue": [
        {"value": value_wh, "context": context, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}}]}


def event(event_type: str, seq_no: int, timestamp: str, trigger: str,
          transaction_id: str = "TX-1", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type, "timestamp": timestamp, "triggerReason": trigger,
        "seqNo": seq_no, "transactionInfo": {"transactionId": transaction_id},
    }
    info = extra.pop("info", None)
    if info:
        payload["transactionInfo"].update(info)
    payload.update(extra)
    return payload


async def transactions(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get("/transactions", params={"station_id": station_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_tc_b_01_cold_boot_accepted(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-BOOT", version, boot=False) as station:
        answer = await station.boot()
        assert answer["status"] == "Accepted"
        assert answer["interval"] == server.settings.heartbeat_interval_s
        assert answer["currentTime"].endswith("Z")
    body = (await server.api.get("/stations/CS-BOOT")).json()
    assert body["ocpp_version"] == version
    assert body["vendor"] == "TestVendor"
    assert body["serial_number"] == "SN-1"


async def test_tc_g_01_status_notification_per_connector(server: RunningServer,
                                                         version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-STATUS", version) as station:
        await station.send("StatusNotification", {
            "timestamp": T0, "connectorStatus": "Occupied", "evseId": 2, "connectorId": 1})
        await station.send("Heartbeat", {})
    body = (await server.api.get("/stations/CS-STATUS")).json()
    evse = next(e for e in body["evses"] if e["evse_id"] == 2)
    assert evse["connectors"][0]["status"] == "Occupied"


async def test_tc_c_authorize_known_unknown_blocked(server: RunningServer, version: str) -> None:
    await server.api.post("/id-tokens", json={"id_token": "GOOD", "group_id": "FLEET"})
    await server.api.post("/id-tokens", json={"id_token": "FLEET"})
    await server.api.post("/id-tokens", json={"id_token": "BAD", "status": "Blocked"})
    async with connect2x(server.ocpp_url, "CS-AUTH", version) as station:
        good = await station.send("Authorize", {"idToken": {"idToken": "GOOD",
                                                            "type": "ISO14443"}})
        unknown = await station.send("Authorize", {"idToken": {"idToken": "NOPE",
                                                               "type": "ISO14443"}})
        bad = await station.send("Authorize", {"idToken": {"idToken": "BAD", "type": "eMAID"}})
        free = await station.send("Authorize", {"idToken": {"idToken": "",
                                                            "type": "NoAuthorization"}})
    assert good["idTokenInfo"]["status"] == "Accepted"
    assert good["idTokenInfo"]["groupIdToken"]["idToken"] == "FLEET"
    assert unknown["idTokenInfo"]["status"] == "Unknown"  # CONTRACT.md: 2.x says Unknown
    assert bad["idTokenInfo"]["status"] == "Blocked"
    assert free["idTokenInfo"]["status"] == "Accepted"


async def test_tc_e_transaction_started_updated_ended(server: RunningServer, version: str) -> None:
    await server.api.post("/id-tokens", json={"id_token": "DRIVER"})
    async with connect2x(server.ocpp_url, "CS-TX", version) as station:
        started = await station.send("TransactionEvent", event(
            "Started", 0, T0, "Authorized", evse={"id": 1, "connectorId": 1},
            idToken={"idToken": "DRIVER", "type": "ISO14443"},
            meterValue=[energy(1000, "Transaction.Begin")], numberOfPhasesUsed=3,
            cableMaxCurrent=32, info={"chargingState": "Charging"}))
        assert started["idTokenInfo"]["status"] == "Accepted"
        updated = await station.send("TransactionEvent", event(
            "Updated", 1, T1, "MeterValuePeriodic",
            meterValue=[energy(5000, "Sample.Periodic", T1)]))
        assert "idTokenInfo" not in updated  # only when the request carries an idToken
        await station.send("TransactionEvent", event(
            "Ended", 2, T2, "EVCommunicationLost",
            meterValue=[energy(9000, "Transaction.End", T2)],
            info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"}))
    [txn] = await transactions(server, "CS-TX")
    assert txn["station_transaction_id"] == "TX-1"
    assert txn["status"] == "completed"
    assert (txn["meter_start_wh"], txn["meter_stop_wh"], txn["energy_wh"]) == (1000, 9000, 8000)
    assert txn["stop_reason"] == "EVDisconnected"
    assert txn["id_token"] == "DRIVER"
    assert txn["evse_id"] == 1
    readings = (await server.api.get(f"/transactions/{txn['id']}/meter-values")).json()
    assert [r["value"] for r in readings] == [1000, 5000, 9000]


async def test_tc_e_repeated_event_is_applied_once(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-DUP", version) as station:
        first = event("Started", 0, T0, "CablePluggedIn", evse={"id": 1, "connectorId": 1},
                      meterValue=[energy(100, "Transaction.Begin")])
        await station.send("TransactionEvent", first)
        await station.send("TransactionEvent", first)  # a retry after a lost answer
    [txn] = await transactions(server, "CS-DUP")
    readings = (await server.api.get(f"/transactions/{txn['id']}/meter-values")).json()
    assert len(readings) == 1


async def test_tc_e_out_of_order_events_merge(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-ORDER", version) as station:
        # Ended arrives first (queued offline), then its Started.
        await station.send("TransactionEvent", event(
            "Ended", 1, T2, "EVCommunicationLost", offline=True,
            meterValue=[energy(4000, "Transaction.End", T2)],
            info={"stoppedReason": "EVDisconnected"}))
        await station.send("TransactionEvent", event(
            "Started", 0, T0, "CablePluggedIn", offline=True, evse={"id": 2, "connectorId": 1},
            meterValue=[energy(1500, "Transaction.Begin")]))
    [txn] = await transactions(server, "CS-ORDER")
    assert txn["status"] == "completed"
    assert txn["started_at"] == "2026-01-01T10:00:00Z"
    assert txn["evse_id"] == 2
    assert txn["meter_start_wh"] == 1500


async def test_tc_e_seq_gap_asks_transaction_status(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-GAP", version) as station:
        await station.send("TransactionEvent", event("Started", 0, T0, "CablePluggedIn",
                                                     evse={"id": 1, "connectorId": 1}))
        await station.send("TransactionEvent", event("Updated", 3, T1, "MeterValuePeriodic"))
        asked = await station.wait_for("GetTransactionStatus")
    assert asked == {"transactionId": "TX-1"}


async def test_tc_f_remote_start_correlates_remote_start_id(server: RunningServer,
                                                            version: str) -> None:
    await server.api.post("/id-tokens", json={"id_token": "APP-USER"})
    async with connect2x(server.ocpp_url, "CS-REMOTE", version) as station:
        response = await server.api.post("/stations/CS-REMOTE/commands/remote-start",
                                          json={"id_token": "APP-USER", "evse_id": 1})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        request = await station.wait_for("RequestStartTransaction")
        assert request["idToken"] == {"idToken": "APP-USER", "type": "ISO14443"}
        assert request["evseId"] == 1
        remote_start_id = request["remoteStartId"]
        await station.send("TransactionEvent", event(
            "Started", 0, T0, "RemoteStart", evse={"id": 1, "connectorId": 1},
            idToken={"idToken": "APP-USER", "type": "ISO14443"},
            info={"remoteStartId": remote_start_id}))
        [txn] = await transactions(server, "CS-REMOTE")
        assert txn["remote_start_id"] == remote_start_id
        stop = await server.api.post("/stations/CS-REMOTE/commands/remote-stop",
                                     json={"transaction_id": txn["id"]})
        assert stop.status_code == 200, stop.text
        assert await station.wait_for("RequestStopTransaction") == {"transactionId": "TX-1"}


async def test_tc_b_configuration_keys_map_to_variables(server: RunningServer,
                                                        version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-VARS", version) as station:
        station.answers["GetVariables"] = {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "300",
             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {"attributeStatus": "UnknownVariable",
             "component": {"name": "Foo"}, "variable": {"name": "Bar"}}]}
        response = await server.api.post("/stations/CS-VARS/commands/get-configuration",
                                          json={"keys": ["OCPPCommCtrlr.HeartbeatInterval",
                                                         "Foo.Bar"]})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("GetVariables")
        assert sent["getVariableData"][0] == {"component": {"name": "OCPPCommCtrlr"},
                                              "variable": {"name": "HeartbeatInterval"}}
        station.answers["SetVariables"] = {"setVariableResult": [
            {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}}]}
        response = await server.api.post("/stations/CS-VARS/commands/set-configuration",
                                          json={"key": "OCPPCommCtrlr.HeartbeatInterval",
                                                "value": "60"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        sent = await station.wait_for("SetVariables")
        assert sent["setVariableData"][0]["attributeValue"] == "60"
    model = (await server.api.get("/stations/CS-VARS/device-model")).json()["items"]
    [row] = [r for r in model if r["variable"] == "HeartbeatInterval"]
    assert row["value"] == "60"
