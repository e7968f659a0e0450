"""OCPP 1.6 transaction rules: idempotent start and stop, ownership per station, energy.

These run on both databases: the rules rest on what the database finds again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from ocpp.exceptions import SecurityError
from ocpp.v16 import call

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station16 import connect16

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T11:00:00Z"
T2 = "2026-01-01T12:00:00Z"


@pytest.fixture
async def db_server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(database_url)) as running:
        yield running


async def _transactions(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get("/transactions", params={"station_id": station_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


async def _transaction(server: RunningServer, txn_id: int) -> dict[str, Any]:
    response = await server.api.get(f"/transactions/{txn_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _readings(server: RunningServer, txn_id: int) -> list[dict[str, Any]]:
    response = await server.api.get(f"/transactions/{txn_id}/meter-values")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def _security_events(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/security-events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _start(connector_id: int = 1, meter_start: int = 1000, timestamp: str = T0,
           id_tag: str = "DRIVER") -> call.StartTransaction:
    return call.StartTransaction(connector_id=connector_id, id_tag=id_tag,
                                 meter_start=meter_start, timestamp=timestamp)


# StartTransaction -----------------------------------------------------------------------------
async def test_repeated_start_transaction_returns_the_same_id_and_one_record(
    db_server: RunningServer,
) -> None:
    await db_server.api.post("/id-tokens", json={"id_token": "DRIVER"})
    async with connect16(db_server.ocpp_url, "CP-RS") as station:
        first = await station.call(_start(), suppress=False)
        again = await station.call(_start(), suppress=False)
    # The retry may come on a new connection (the answer was lost with the old one).
    async with connect16(db_server.ocpp_url, "CP-RS", boot=False) as station:
        third = await station.call(_start(), suppress=False)
    assert first.transaction_id == again.transaction_id == third.transaction_id
    assert again.id_tag_info == first.id_tag_info == {"status": "Accepted"}
    [txn] = await _transactions(db_server, "CP-RS")
    assert txn["id"] == first.transaction_id
    assert txn["meter_start_wh"] == 1000


@pytest.mark.parametrize("changed", [
    {"connector_id": 2}, {"meter_start": 1001}, {"timestamp": T1}, {"id_tag": "OTHER"},
])
async def test_start_transaction_differing_in_one_field_is_a_new_transaction(
    db_server: RunningServer, changed: dict[str, Any],
) -> None:
    async with connect16(db_server.ocpp_url, "CP-RS2") as station:
        first = await station.call(_start(), suppress=False)
        second = await station.call(_start(**changed), suppress=False)
    assert first.transaction_id != second.transaction_id
    assert len(await _transactions(db_server, "CP-RS2")) == 2


async def test_same_start_from_another_station_is_its_own_transaction(
    db_server: RunningServer,
) -> None:
    async with connect16(db_server.ocpp_url, "CP-A1") as a, \
            connect16(db_server.ocpp_url, "CP-B1") as b:
        start_a = await a.call(_start(), suppress=False)
        start_b = await b.call(_start(), suppress=False)
    assert start_a.transaction_id != start_b.transaction_id
    assert [t["id"] for t in await _transactions(db_server, "CP-A1")] == [start_a.transaction_id]
    assert [t["id"] for t in await _transactions(db_server, "CP-B1")] == [start_b.transaction_id]


# StopTransaction ------------------------------------------------------------------------------
async def test_repeated_stop_transaction_is_answered_and_changes_nothing(
    db_server: RunningServer,
) -> None:
    await db_server.api.post("/id-tokens", json={"id_token": "DRIVER"})
    async with connect16(db_server.ocpp_url, "CP-RSTOP") as station:
        start = await station.call(_start(meter_start=1000), suppress=False)
        stop = call.StopTransaction(
            meter_stop=5000, timestamp=T1, transaction_id=start.transaction_id,
            reason="Local", id_tag="DRIVER",
            transaction_data=[{"timestamp": T1, "sampledValue": [{"value": "5000"}]}])
        first = await station.call(stop, suppress=False)
        repeated = await station.call(stop, suppress=False)
        # A late, different stop for the same transaction (say, after a reboot) is answered too.
        late = await station.call(call.StopTransaction(
            meter_stop=9999, timestamp=T2, transaction_id=start.transaction_id,
            reason="Reboot",
            transaction_data=[{"timestamp": T2, "sampledValue": [{"value": "9999"}]}]),
            suppress=False)
    assert first.id_tag_info == repeated.id_tag_info == {"status": "Accepted"}
    assert late is not None
    [txn] = await _transactions(db_server, "CP-RSTOP")
    assert txn["status"] == "completed"
    assert (txn["meter_stop_wh"], txn["energy_wh"], txn["stop_reason"]) == (5000, 4000, "Local")
    assert txn["stopped_at"].startswith("2026-01-01T11:00:00")
    assert [r["raw_value"] for r in await _readings(db_server, start.transaction_id)] == ["5000"]


async def test_late_stop_after_a_new_transaction_leaves_the_new_one_active(
    db_server: RunningServer,
) -> None:
    async with connect16(db_server.ocpp_url, "CP-LATE") as station:
        old = await station.call(_start(meter_start=0), suppress=False)
        stop_old = call.StopTransaction(meter_stop=100, timestamp=T1,
                                        transaction_id=old.transaction_id)
        await station.call(stop_old, suppress=False)
        new = await station.call(_start(meter_start=100, timestamp=T2), suppress=False)
        assert await station.call(stop_old, suppress=False) is not None
    txns = {t["id"]: t for t in await _transactions(db_server, "CP-LATE")}
    assert set(txns) == {old.transaction_id, new.transaction_id}
    assert txns[new.transaction_id]["status"] == "active"
    assert txns[new.transaction_id]["meter_stop_wh"] is None
    assert (txns[old.transaction_id]["status"], txns[old.transaction_id]["energy_wh"]) == (
        "completed", 100)


async def test_stop_for_an_unknown_transaction_is_answered_and_creates_nothing(
    db_server: RunningServer,
) -> None:
    async with connect16(db_server.ocpp_url, "CP-UNK") as station:
        answer = await station.call(call.StopTransaction(
            meter_stop=100, timestamp=T1, transaction_id=424242), suppress=False)
    assert answer is not None
    assert await _transactions(db_server, "CP-UNK") == []
    assert await _security_events(db_server, "CP-UNK") == []


@pytest.mark.parametrize(("meter_start", "meter_stop"), [
    (0, 7500), (1000, 8500), (123_456_789, 123_500_000), (5000, 5000),
])
async def test_energy_is_meter_stop_minus_meter_start(
    db_server: RunningServer, meter_start: int, meter_stop: int,
) -> None:
    async with connect16(db_server.ocpp_url, "CP-NRG") as station:
        start = await station.call(_start(meter_start=meter_start), suppress=False)
        # Readings in between do not change the rule.
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id, meter_value=[
                {"timestamp": T1, "sampledValue": [{"value": str(meter_start + 1)}]}]),
            suppress=False)
        await station.call(call.StopTransaction(
            meter_stop=meter_stop, timestamp=T2, transaction_id=start.transaction_id),
            suppress=False)
    txn = await _transaction(db_server, start.transaction_id)
    assert (txn["meter_start_wh"], txn["meter_stop_wh"]) == (meter_start, meter_stop)
    assert txn["energy_wh"] == meter_stop - meter_start


# Ownership ------------------------------------------------------------------------------------
async def test_stop_transaction_of_another_station_is_a_security_error(
    db_server: RunningServer,
) -> None:
    async with connect16(db_server.ocpp_url, "CP-OWNER") as owner, \
            connect16(db_server.ocpp_url, "CP-THIEF") as thief:
        start = await owner.call(_start(meter_start=100), suppress=False)
        with pytest.raises(SecurityError):
            await thief.call(call.StopTransaction(
                meter_stop=900, timestamp=T1, transaction_id=start.transaction_id,
                reason="Local"), suppress=False)
        # The offending station's connection still works, and so does the owner's.
        assert await thief.call(call.Heartbeat(), suppress=False) is not None
        txn = await _transaction(db_server, start.transaction_id)
        assert txn["station_id"] == "CP-OWNER"
        assert txn["status"] == "active"
        assert (txn["meter_stop_wh"], txn["energy_wh"], txn["stopped_at"]) == (None, None, None)
        await owner.call(call.StopTransaction(
            meter_stop=400, timestamp=T1, transaction_id=start.transaction_id), suppress=False)
    assert (await _transaction(db_server, start.transaction_id))["energy_wh"] == 300
    events = await _security_events(db_server, "CP-THIEF")
    assert [e["type"] for e in events] == ["TransactionOwnershipViolation"]
    assert str(start.transaction_id) in events[0]["tech_info"]
    assert events[0]["source"] == "csms"
    assert await _security_events(db_server, "CP-OWNER") == []
    assert await _transactions(db_server, "CP-THIEF") == []


async def test_meter_values_for_another_stations_transaction_is_a_security_error(
    db_server: RunningServer,
) -> None:
    async with connect16(db_server.ocpp_url, "CP-OWNER2") as owner, \
            connect16(db_server.ocpp_url, "CP-THIEF2") as thief:
        start = await owner.call(_start(meter_start=100), suppress=False)
        await owner.call(call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id, meter_value=[
                {"timestamp": T1, "sampledValue": [{"value": "150"}]}]), suppress=False)
        with pytest.raises(SecurityError):
            await thief.call(call.MeterValues(
                connector_id=1, transaction_id=start.transaction_id, meter_value=[
                    {"timestamp": T1, "sampledValue": [{"value": "99999"}]}]),
                suppress=False)
        assert await thief.call(call.Heartbeat(), suppress=False) is not None
    assert [r["raw_value"] for r in await _readings(db_server, start.transaction_id)] == ["150"]
    assert (await _transaction(db_server, start.transaction_id))["status"] == "active"
    events = await _security_events(db_server, "CP-THIEF2")
    assert [e["type"] for e in events] == ["TransactionOwnershipViolation"]
    assert "MeterValues" in events[0]["tech_info"]
    log = (await db_server.api.get("/stations/CP-THIEF2/messages", params={"limit": 4})).json()
    error = next(m for m in log["items"] if m["message_type"] == "CALLERROR")
    assert (error["direction"], error["action"]) == ("out", "MeterValues")
    assert error["payload"]["errorCode"] == "SecurityError"
