"""The core scenarios, each run for OCPP 1.6, 2.0.1 and 2.1 through one version-neutral driver:
the admin API shows the same thing whichever version a station speaks.

Scenarios that rest on what the database finds again (authorization, transactions, remote
control, reservations) run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.support.drivers import ENERGY, VERSIONS, connect
from tests.support.server import RunningServer, run_server, test_settings

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T10:30:00Z"
T2 = "2026-01-01T11:00:00Z"
LATER = "2030-01-01T12:00:00Z"


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def db_server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(database_url)) as running:
        yield running


def at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


async def get(server: RunningServer, path: str, **params: Any) -> Any:
    response = await server.api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def command(server: RunningServer, station_id: str, name: str,
                  body: dict[str, Any]) -> httpx.Response:
    return await server.api.post(f"/stations/{station_id}/commands/{name}", json=body)


async def add_token(server: RunningServer, id_token: str, **fields: Any) -> None:
    response = await server.api.post("/id-tokens", json={"id_token": id_token, **fields})
    assert response.status_code == 201, response.text


async def transactions(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    body = await get(server, "/transactions", station_id=station_id)
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


async def reservations(server: RunningServer, station_id: str) -> dict[int, dict[str, Any]]:
    body = await get(server, f"/stations/{station_id}/reservations")
    return {r["id"]: r for r in body["items"]}


async def connector(server: RunningServer, station_id: str, evse_id: int,
                    connector_id: int = 1) -> dict[str, Any]:
    body = await get(server, f"/stations/{station_id}")
    [evse] = [e for e in body["evses"] if e["evse_id"] == evse_id]
    [found] = [c for c in evse["connectors"] if c["connector_id"] == connector_id]
    result: dict[str, Any] = found
    return result


# boot and status --------------------------------------------------------------------------------
async def test_boot_makes_the_station_visible_with_its_version(server: RunningServer,
                                                               version: str) -> None:
    async with connect(version, server.ocpp_url, "X-BOOT", boot=False) as station:
        assert await station.boot() == "Accepted"
        assert (await station.heartbeat()).endswith("Z")
        body = await get(server, "/stations/X-BOOT")
        assert body["connected"] is True
    assert body["ocpp_version"] == version
    assert (body["vendor"], body["model"]) == ("TestVendor", "TestModel")
    assert body["registration_status"] == "Accepted"
    assert body["last_seen"].endswith("Z")
    listed = await get(server, "/stations")
    assert [(s["id"], s["ocpp_version"]) for s in listed["items"]] == [("X-BOOT", version)]


async def test_status_notifications_show_on_the_connector(server: RunningServer,
                                                          version: str) -> None:
    async with connect(version, server.ocpp_url, "X-STATUS") as station:
        for status in ("Available", "Unavailable", "Faulted", "Reserved", "Available"):
            await station.status(2, 1, status)
            assert (await connector(server, "X-STATUS", 2))["status"] == status


# authorization ----------------------------------------------------------------------------------
async def test_authorize_known_unknown_blocked(db_server: RunningServer, version: str) -> None:
    await add_token(db_server, "GOOD")
    await add_token(db_server, "BAD", status="Blocked")
    await add_token(db_server, "OLD", status="Expired")
    await add_token(db_server, "VOID", status="Invalid")
    async with connect(version, db_server.ocpp_url, "X-AUTH") as station:
        got = {token: await station.authorize(token)
               for token in ("GOOD", "BAD", "OLD", "VOID", "NOBODY")}
    # CONTRACT.md: an unknown token is Invalid to 1.6 stations and Unknown to 2.x stations.
    unknown = "Invalid" if version == "1.6" else "Unknown"
    assert got == {"GOOD": "Accepted", "BAD": "Blocked", "OLD": "Expired", "VOID": "Invalid",
                   "NOBODY": unknown}


# transactions -----------------------------------------------------------------------------------
async def test_a_full_session_gives_the_same_transaction_record(db_server: RunningServer,
                                                                version: str) -> None:
    await add_token(db_server, "DRIVER")
    async with connect(version, db_server.ocpp_url, "X-TX") as station:
        assert await station.authorize("DRIVER") == "Accepted"
        await station.status(1, 1, "Available")
        ref = await station.start(1, "DRIVER", 1000, T0)
        assert station.last_auth_status == "Accepted"
        [active] = await transactions(db_server, "X-TX")
        assert (active["status"], active["meter_start_wh"], active["meter_stop_wh"],
                active["energy_wh"], active["stopped_at"]) == ("active", 1000, None, None, None)
        await station.meter(ref, 1, 5000, T1)
        await station.stop(ref, 9000, T2, reason="EVDisconnected")
    [txn] = await transactions(db_server, "X-TX")
    assert txn == await get(db_server, f"/transactions/{txn['id']}")
    assert at(txn["started_at"]) == at(T0) and at(txn["stopped_at"]) == at(T2)
    assert txn["started_at"].endswith("Z") and txn["stopped_at"].endswith("Z")
    shape = {k: txn[k] for k in (
        "station_transaction_id", "station_id", "evse_id", "connector_id", "id_token", "status",
        "meter_start_wh", "meter_stop_wh", "energy_wh", "stop_reason")}
    assert shape == {
        "station_transaction_id": str(ref), "station_id": "X-TX", "evse_id": 1,
        "connector_id": 1, "id_token": "DRIVER", "status": "completed", "meter_start_wh": 1000,
        "meter_stop_wh": 9000, "energy_wh": 8000, "stop_reason": "EVDisconnected"}
    assert (await get(db_server, "/transactions", station_id="X-TX", status="completed")
            )["total"] == 1
    assert (await get(db_server, "/transactions", station_id="X-TX", status="active")
            )["total"] == 0
    # The periodic reading is there in both versions (2.x also keeps the Begin and End ones).
    readings = await get(db_server, f"/transactions/{txn['id']}/meter-values")
    periodic = [(r["value"], r["unit"], r["measurand"], at(r["timestamp"]))
                for r in readings if r["context"] == "Sample.Periodic"]
    assert periodic == [(5000, "Wh", ENERGY, at(T1))]
    assert {r["value"] for r in readings} <= {1000, 5000, 9000}
    assert [at(r["timestamp"]) for r in readings] == sorted(at(r["timestamp"]) for r in readings)


@pytest.mark.parametrize(("reason", "stored"), [
    (None, "Local"),  # 1.6 §6.49 / 2.0.1 TransactionType: an absent reason means Local
    ("Local", "Local"),
    ("EVDisconnected", "EVDisconnected"),
    ("Remote", "Remote"),
    ("PowerLoss", "PowerLoss"),
])
async def test_stop_reason_is_recorded_alike(server: RunningServer, version: str,
                                             reason: str | None, stored: str) -> None:
    async with connect(version, server.ocpp_url, "X-REASON") as station:
        ref = await station.start(1, "ANYONE", 0, T0)
        await station.stop(ref, 10, T1, reason=reason)
    [txn] = await transactions(server, "X-REASON")
    assert (txn["status"], txn["stop_reason"], txn["energy_wh"]) == ("completed", stored, 10)


async def test_two_sessions_on_two_evses(db_server: RunningServer, version: str) -> None:
    async with connect(version, db_server.ocpp_url, "X-TWO") as station:
        first = await station.start(1, "A", 100, T0)
        second = await station.start(2, "B", 200, T0)
        assert first != second
        await station.meter(first, 1, 150, T1)
        await station.meter(second, 2, 260, T1)
        await station.stop(second, 300, T2)
        by_ref = {t["station_transaction_id"]: t for t in await transactions(db_server, "X-TWO")}
        assert (by_ref[str(first)]["status"], by_ref[str(second)]["status"]) == (
            "active", "completed")
        await station.stop(first, 400, T2)
    by_ref = {t["station_transaction_id"]: t for t in await transactions(db_server, "X-TWO")}
    assert {ref: (t["evse_id"], t["id_token"], t["energy_wh"]) for ref, t in by_ref.items()} == {
        str(first): (1, "A", 300), str(second): (2, "B", 100)}


# remote control ---------------------------------------------------------------------------------
async def test_remote_start_and_stop_through_the_admin_api(db_server: RunningServer,
                                                           version: str) -> None:
    await add_token(db_server, "APP-USER")
    async with connect(version, db_server.ocpp_url, "X-REMOTE") as station:
        response = await command(db_server, "X-REMOTE", "remote-start",
                                 {"id_token": "APP-USER", "evse_id": 1})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        asked = station.remote_start_seen()
        assert (asked.id_token, asked.evse_id) == ("APP-USER", 1)
        ref = await station.start(1, asked.id_token, 2000, T0, remote=asked)
        [txn] = await transactions(db_server, "X-REMOTE")
        assert (txn["status"], txn["id_token"], txn["evse_id"]) == ("active", "APP-USER", 1)
        if asked.remote_start_id is not None:  # 2.x correlates by remoteStartId (F01-F02)
            assert txn["remote_start_id"] == asked.remote_start_id

        response = await command(db_server, "X-REMOTE", "remote-stop",
                                 {"transaction_id": txn["id"]})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert station.remote_stop_seen() == ref
        await station.stop(ref, 2500, T1, reason="Remote")
    [txn] = await transactions(db_server, "X-REMOTE")
    assert (txn["status"], txn["energy_wh"], txn["stop_reason"]) == ("completed", 500, "Remote")
    # A completed transaction cannot be stopped again; nothing is sent.
    async with connect(version, db_server.ocpp_url, "X-REMOTE", boot=False) as station:
        response = await command(db_server, "X-REMOTE", "remote-stop",
                                 {"transaction_id": txn["id"]})
        assert response.status_code == 409, response.text
        assert station.calls(station.action_for("remote-stop")) == []


async def test_remote_start_of_a_blocked_token_is_refused(server: RunningServer,
                                                          version: str) -> None:
    await add_token(server, "BLOCKED", status="Blocked")
    async with connect(version, server.ocpp_url, "X-REMOTE-NO") as station:
        response = await command(server, "X-REMOTE-NO", "remote-start",
                                 {"id_token": "BLOCKED", "evse_id": 1})
        assert response.status_code == 409, response.text
        assert "id_token" in response.json()["detail"]
        assert station.calls(station.action_for("remote-start")) == []


# reservations -----------------------------------------------------------------------------------
async def test_reservations(db_server: RunningServer, version: str) -> None:
    await add_token(db_server, "RES-DRIVER")
    body = {"evse_id": 1, "id_token": "RES-DRIVER", "expires_at": LATER}
    async with connect(version, db_server.ocpp_url, "X-RES") as station:
        # Reserved, then used by the transaction that names it.
        response = await command(db_server, "X-RES", "reserve-now", body)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        used = station.reservation_id_seen()
        listed = (await reservations(db_server, "X-RES"))[used]
        assert (listed["status"], listed["evse_id"], listed["id_token"]) == (
            "Accepted", 1, "RES-DRIVER")
        assert at(listed["expires_at"]) == at(LATER)
        ref = await station.start(1, "RES-DRIVER", 0, T0, reservation_id=used)
        assert (await reservations(db_server, "X-RES"))[used]["status"] == "Used"
        [txn] = await transactions(db_server, "X-RES")
        assert (txn["reservation_id"], txn["station_transaction_id"]) == (used, str(ref))

        # Reserved, then cancelled.
        response = await command(db_server, "X-RES", "reserve-now", {**body, "evse_id": 2})
        assert response.status_code == 200, response.text
        cancelled = station.reservation_id_seen()
        assert cancelled != used
        response = await command(db_server, "X-RES", "cancel-reservation",
                                 {"reservation_id": cancelled})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert station.calls("CancelReservation") == [{"reservationId": cancelled}]

        # Refused by the station.
        station.answer("ReserveNow", {"status": "Occupied"})
        response = await command(db_server, "X-RES", "reserve-now", {**body, "evse_id": 3})
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "Occupied", "response": {"status": "Occupied"}}
        refused = station.reservation_id_seen()
    statuses = {rid: r["status"] for rid, r in (await reservations(db_server, "X-RES")).items()}
    assert statuses == {used: "Used", cancelled: "Cancelled", refused: "Rejected"}


# commands ---------------------------------------------------------------------------------------
def sent(version: str, v16: dict[str, Any], v2x: dict[str, Any]) -> dict[str, Any]:
    return v16 if version == "1.6" else v2x


COMMANDS = [
    pytest.param("reset", {"type": "soft"}, "Accepted",
                 {"type": "Soft"}, {"type": "OnIdle"}, id="reset-soft"),
    pytest.param("reset", {"type": "hard"}, "Accepted",
                 {"type": "Hard"}, {"type": "Immediate"}, id="reset-hard"),
    pytest.param("unlock", {"evse_id": 1, "connector_id": 1}, "Unlocked",
                 {"connectorId": 1}, {"evseId": 1, "connectorId": 1}, id="unlock"),
    pytest.param("change-availability", {"evse_id": 1, "operative": False}, "Accepted",
                 {"connectorId": 1, "type": "Inoperative"},
                 {"operationalStatus": "Inoperative", "evse": {"id": 1}},
                 id="change-availability-evse"),
    pytest.param("change-availability", {"operative": True}, "Accepted",
                 {"connectorId": 0, "type": "Operative"}, {"operationalStatus": "Operative"},
                 id="change-availability-station"),
    pytest.param("trigger", {"message": "Heartbeat"}, "Accepted",
                 {"requestedMessage": "Heartbeat"}, {"requestedMessage": "Heartbeat"},
                 id="trigger-heartbeat"),
    pytest.param("trigger", {"message": "MeterValues", "evse_id": 1}, "Accepted",
                 {"requestedMessage": "MeterValues", "connectorId": 1},
                 {"requestedMessage": "MeterValues", "evse": {"id": 1}}, id="trigger-meter"),
    pytest.param("data-transfer", {"vendor_id": "com.example", "message_id": "ping",
                                   "data": "hello"}, "Accepted",
                 {"vendorId": "com.example", "messageId": "ping", "data": "hello"},
                 {"vendorId": "com.example", "messageId": "ping", "data": "hello"},
                 id="data-transfer"),
]


@pytest.mark.parametrize(("name", "body", "status", "v16", "v2x"), COMMANDS)
async def test_command_works_for_every_version(
    server: RunningServer, version: str, name: str, body: dict[str, Any], status: str,
    v16: dict[str, Any], v2x: dict[str, Any],
) -> None:
    async with connect(version, server.ocpp_url, "X-CMD") as station:
        response = await command(server, "X-CMD", name, body)
        assert response.status_code == 200, response.text
        action = station.action_for(name)
        assert station.calls(action) == [sent(version, v16, v2x)]
        assert response.json()["status"] == status
        assert response.json()["response"]["status"] == status
    # The message log has the call out and the answer in, with one message id.
    log = await get(server, "/stations/X-CMD/messages", limit=2)
    [answer, call] = log["items"]
    assert (call["direction"], call["message_type"], call["action"]) == ("out", "CALL", action)
    assert (answer["direction"], answer["message_type"], answer["action"]) == (
        "in", "CALLRESULT", action)
    assert answer["message_id"] == call["message_id"]
    assert call["payload"] == sent(version, v16, v2x)
    assert answer["payload"] == response.json()["response"]


async def test_get_configuration_works_for_every_version(server: RunningServer,
                                                         version: str) -> None:
    async with connect(version, server.ocpp_url, "X-CONF") as station:
        key = station.heartbeat_interval_key
        station.answer_configuration("300")
        response = await command(server, "X-CONF", "get-configuration", {"keys": [key]})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert station.configuration_in(response.json()["response"]) == {key: "300"}
        assert station.calls(station.action_for("get-configuration")) == [sent(
            version, {"key": ["HeartbeatInterval"]},
            {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                  "variable": {"name": "HeartbeatInterval"}}]})]


async def test_commands_to_a_station_that_is_not_connected_are_409(
    server: RunningServer, version: str,
) -> None:
    async with connect(version, server.ocpp_url, "X-GONE"):
        pass
    # The server learns of the closed WebSocket on its own: wait until the station shows as
    # disconnected (no claim on how soon), then a command finds nobody to send to.
    for _ in range(500):
        if not (await get(server, "/stations/X-GONE"))["connected"]:
            break
        await asyncio.sleep(0.02)
    response = await command(server, "X-GONE", "reset", {"type": "soft"})
    assert response.status_code == 409, response.text


# message log ------------------------------------------------------------------------------------
async def test_message_log_records_station_calls_and_answers(server: RunningServer,
                                                             version: str) -> None:
    await add_token(server, "LOGGED")
    async with connect(version, server.ocpp_url, "X-LOG") as station:
        await station.heartbeat()
        await station.authorize("LOGGED")
        ref = await station.start(1, "LOGGED", 0, T0)
        await station.stop(ref, 1, T1)
    items = (await get(server, "/stations/X-LOG/messages", limit=100))["items"]
    assert all(m["message_type"] in ("CALL", "CALLRESULT") for m in items)
    calls_in = [m for m in reversed(items) if (m["direction"], m["message_type"]) == ("in", "CALL")]
    answers_out = {m["message_id"]: m for m in items
                   if (m["direction"], m["message_type"]) == ("out", "CALLRESULT")}
    transaction_actions = (["StartTransaction", "StopTransaction"] if version == "1.6"
                           else ["TransactionEvent", "TransactionEvent"])
    assert [m["action"] for m in calls_in] == [
        "BootNotification", "Heartbeat", "Authorize", *transaction_actions]
    assert len(answers_out) == len(calls_in) == len(items) // 2
    for call in calls_in:
        answer = answers_out[call["message_id"]]
        assert answer["action"] == call["action"]
        assert at(answer["timestamp"]) >= at(call["timestamp"])
        assert items.index(answer) < items.index(call)  # newest first
    authorize = next(m for m in calls_in if m["action"] == "Authorize")
    assert "LOGGED" in str(authorize["payload"])
    heartbeat = next(m for m in calls_in if m["action"] == "Heartbeat")
    assert answers_out[heartbeat["message_id"]]["payload"]["currentTime"].endswith("Z")


# version-specific commands ----------------------------------------------------------------------
async def test_get_variables_is_422_on_1_6(server: RunningServer, version: str) -> None:
    async with connect(version, server.ocpp_url, "X-LACKS") as station:
        station.answer_configuration("300")
        # get-variables takes the structured 2.x form (CONTRACT.md): OCPP 1.6 has no
        # GetVariables, so the command is refused before anything is sent.
        response = await command(server, "X-LACKS", "get-variables", {"variables": [
            {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]})
        if version == "1.6":
            assert response.status_code == 422, response.text
            assert station.calls("GetVariables") == []
        else:
            assert response.status_code == 200, response.text
