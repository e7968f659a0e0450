"""OCPP 2.0.1 and 2.1 smart charging (K), cost (I) and meter values (J) against a real server.

Each test runs for 2.0.1 and 2.1. Part 6 of OCPP 2.0.1 has CSMS test cases for block J only
(TC_J_xx_CSMS); blocks K and I are "intentionally blank" there, so those tests are named after
their use case (K01 SetChargingProfile, K15 NotifyEVChargingNeeds, I02 CostUpdated, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from ocpp.v16 import call as call16
from sqlalchemy import select

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station2x import VERSIONS, TestStation2x, connect2x
from tests.support.station16 import connect16
from volthub.storage.interface import Repositories
from volthub.storage.sql import tables

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T10:15:00Z"
T2 = "2026-01-01T10:30:00Z"


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(sqlite_url)) as running:
        yield running


# --- helpers --------------------------------------------------------------------------------
async def command(server: RunningServer, station_id: str, name: str,
                  body: dict[str, Any]) -> httpx.Response:
    return await server.api.post(f"/stations/{station_id}/commands/{name}", json=body)


async def nth_call(station: TestStation2x, action: str, n: int) -> dict[str, Any]:
    """The n-th (0-based) call of `action` the CSMS sent, waiting until it has arrived."""
    arrived = station.events.setdefault(action, asyncio.Event())  # set on every call
    async with asyncio.timeout(10):
        while len(station.got(action)) <= n:
            arrived.clear()
            await arrived.wait()
    return station.got(action)[n]


async def eventually(probe: Callable[[], Awaitable[list[Any]]], size: int) -> list[Any]:
    """What `probe` answers once it has `size` items (the CSMS records some things after
    the station's answer, in the background)."""
    for _ in range(500):
        items = await probe()
        if len(items) >= size:
            return items
        await asyncio.sleep(0.02)
    raise AssertionError(f"still {len(items)} items, not {size}")


async def start_transaction(station: TestStation2x, reference: str, evse_id: int = 1,
                            **extra: Any) -> dict[str, Any]:
    return await station.send("TransactionEvent", {
        "eventType": "Started", "timestamp": T0, "triggerReason": "CablePluggedIn",
        "seqNo": 0, "transactionInfo": {"transactionId": reference},
        "evse": {"id": evse_id, "connectorId": 1}, **extra})


async def transaction_id(server: RunningServer, station_id: str, reference: str) -> int:
    response = await server.api.get("/transactions", params={"station_id": station_id})
    assert response.status_code == 200, response.text
    [txn] = [t for t in response.json()["items"] if t["station_transaction_id"] == reference]
    value: int = txn["id"]
    return value


async def stored_profiles(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/charging-profiles")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def reports(server: RunningServer, station_id: str, action: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/reports",
                                    params={"action": action})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def meter_rows(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    """Every stored reading of a station, in or outside transactions, as table rows."""
    mv = tables.meter_values

    async def op(repos: Repositories) -> list[dict[str, Any]]:
        await repos.flush_staged()  # type: ignore[attr-defined]
        rows = await repos.conn.execute(  # type: ignore[attr-defined]
            select(mv).where(mv.c.station_id == station_id).order_by(mv.c.id))
        return [dict(r._mapping) for r in rows]

    return await server.container.services.storage.read(op)


MAX_PROFILE = {  # a station-wide 16 A cap
    "id": 10, "stack_level": 0, "purpose": "ChargePointMaxProfile", "kind": "Absolute",
    "schedule": {"charging_rate_unit": "A", "start_schedule": "2026-01-01T00:00:00Z",
                 "periods": [{"start_period_s": 0, "limit": 16}]},
}
TX_DEFAULT = {
    "id": 11, "stack_level": 1, "purpose": "TxDefaultProfile", "kind": "Recurring",
    "recurrency_kind": "Daily",
    "schedule": {"charging_rate_unit": "W", "duration_s": 86400,
                 "start_schedule": "2026-01-01T00:00:00Z",
                 "periods": [{"start_period_s": 0, "limit": 11000},
                             {"start_period_s": 28800, "limit": 7400, "number_phases": 3}]},
}
SCHEDULE_201 = {"id": 1, "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]}


# --- K01 SetChargingProfile --------------------------------------------------------------------
async def test_k01_station_max_profile_is_sent_as_charging_station_max_profile(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K01", version) as station:
        response = await command(server, "CS-K01", "set-charging-profile",
                                 {"evse_id": 0, "profile": MAX_PROFILE})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["response"]) == ("Accepted", {"status": "Accepted"})
        sent = await station.wait_for("SetChargingProfile")
    assert sent == {"evseId": 0, "chargingProfile": {
        "id": 10, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Absolute",
        # 2.x: chargingSchedule is a list of schedules, each with its own id.
        "chargingSchedule": [{"id": 10, "startSchedule": "2026-01-01T00:00:00.000Z",
                              "chargingRateUnit": "A",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}],
    }}
    [stored] = await stored_profiles(server, "CS-K01")
    assert (stored["profile_id"], stored["evse_id"], stored["purpose"], stored["stack_level"],
            stored["transaction_id"]) == (10, 0, "ChargePointMaxProfile", 0, None)


async def test_k01_tx_profile_names_the_stations_transaction_and_matches_the_16_record(
    server: RunningServer, version: str,
) -> None:
    profile = {"id": 20, "stack_level": 2, "purpose": "TxProfile", "kind": "Relative",
               "schedule": {"charging_rate_unit": "A", "min_charging_rate": 6,
                            "periods": [{"start_period_s": 0, "limit": 13.5}]}}
    async with connect2x(server.ocpp_url, "CS-K01-TX", version) as station:
        await start_transaction(station, "TX-K01-ABC")
        ours = await transaction_id(server, "CS-K01-TX", "TX-K01-ABC")
        response = await command(server, "CS-K01-TX", "set-charging-profile",
                                 {"evse_id": 1, "profile": {**profile, "transaction_id": ours}})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("SetChargingProfile")
    assert sent["evseId"] == 1
    assert sent["chargingProfile"]["transactionId"] == "TX-K01-ABC"  # the station's, a string
    assert sent["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"
    assert sent["chargingProfile"]["chargingSchedule"] == [{
        "id": 20, "chargingRateUnit": "A", "minChargingRate": 6.0,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 13.5}]}]

    # The same command to a 1.6 station leaves the same version-neutral record.
    async with connect16(server.ocpp_url, "CP16-K01") as station16:
        start = await station16.call(call16.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=T0), suppress=False)
        response = await command(server, "CP16-K01", "set-charging-profile",
                                 {"evse_id": 1, "profile": {
                                     **profile, "transaction_id": start.transaction_id}})
        assert response.status_code == 200, response.text
    [record2x] = await stored_profiles(server, "CS-K01-TX")
    [record16] = await stored_profiles(server, "CP16-K01")
    assert record2x["transaction_id"] == ours
    assert record16["transaction_id"] == start.transaction_id
    for record in (record2x, record16):
        record["transaction_id"] = record["profile"]["transaction_id"] = "<the transaction>"
    assert record2x == record16
    assert record2x["profile"]["schedule"]["periods"][0]["limit"] == 13.5


async def test_k01_max_and_default_profiles_match_the_16_records(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K01-SAME", version):
        for body in ({"evse_id": 0, "profile": MAX_PROFILE},
                     {"evse_id": 1, "profile": TX_DEFAULT}):
            response = await command(server, "CS-K01-SAME", "set-charging-profile", body)
            assert response.status_code == 200, response.text
    async with connect16(server.ocpp_url, "CP16-K01-SAME"):
        for body in ({"evse_id": 0, "profile": MAX_PROFILE},
                     {"evse_id": 1, "profile": TX_DEFAULT}):
            response = await command(server, "CP16-K01-SAME", "set-charging-profile", body)
            assert response.status_code == 200, response.text
    records2x = await stored_profiles(server, "CS-K01-SAME")
    records16 = await stored_profiles(server, "CP16-K01-SAME")
    assert [r["profile_id"] for r in records2x] == [10, 11]
    assert records2x == records16


async def test_k01_profile_the_station_rejects_is_not_stored(server: RunningServer,
                                                             version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-K01-REJ", version) as station:
        station.answers["SetChargingProfile"] = {"status": "Rejected"}
        response = await command(server, "CS-K01-REJ", "set-charging-profile",
                                 {"evse_id": 0, "profile": MAX_PROFILE})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Rejected"
    assert await stored_profiles(server, "CS-K01-REJ") == []


async def test_k01_tx_profile_for_an_unknown_transaction_is_404_and_not_sent(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K01-404", version) as station:
        profile = {**MAX_PROFILE, "purpose": "TxProfile", "transaction_id": 999999}
        response = await command(server, "CS-K01-404", "set-charging-profile",
                                 {"evse_id": 1, "profile": profile})
        assert response.status_code == 404, response.text
        assert "transaction_id" in response.json()["detail"]
        assert station.got("SetChargingProfile") == []


# --- K10 ClearChargingProfile ------------------------------------------------------------------
async def test_k10_clear_charging_profile_by_id(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-K10-ID", version) as station:
        for body in ({"evse_id": 0, "profile": MAX_PROFILE},
                     {"evse_id": 1, "profile": TX_DEFAULT}):
            assert (await command(server, "CS-K10-ID", "set-charging-profile", body)
                    ).status_code == 200
        response = await command(server, "CS-K10-ID", "clear-charging-profile", {"id": 11})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert await station.wait_for("ClearChargingProfile") == {"chargingProfileId": 11}
    assert [p["profile_id"] for p in await stored_profiles(server, "CS-K10-ID")] == [10]


async def test_k10_clear_charging_profile_by_criteria(server: RunningServer,
                                                      version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-K10-CRIT", version) as station:
        for body in ({"evse_id": 0, "profile": MAX_PROFILE},
                     {"evse_id": 1, "profile": TX_DEFAULT}):
            assert (await command(server, "CS-K10-CRIT", "set-charging-profile", body)
                    ).status_code == 200
        response = await command(server, "CS-K10-CRIT", "clear-charging-profile",
                                 {"evse_id": 0, "purpose": "ChargePointMaxProfile",
                                  "stack_level": 0})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("ClearChargingProfile")
    assert sent == {"chargingProfileCriteria": {
        "evseId": 0, "chargingProfilePurpose": "ChargingStationMaxProfile", "stackLevel": 0}}
    assert [p["profile_id"] for p in await stored_profiles(server, "CS-K10-CRIT")] == [11]


async def test_k10_clear_the_station_does_not_know_keeps_stored_profiles(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K10-UNK", version) as station:
        assert (await command(server, "CS-K10-UNK", "set-charging-profile",
                              {"evse_id": 0, "profile": MAX_PROFILE})).status_code == 200
        station.answers["ClearChargingProfile"] = {"status": "Unknown"}
        response = await command(server, "CS-K10-UNK", "clear-charging-profile", {"id": 10})
        assert response.json()["status"] == "Unknown"
    assert [p["profile_id"] for p in await stored_profiles(server, "CS-K10-UNK")] == [10]


# --- K09 GetChargingProfiles -------------------------------------------------------------------
def _reported_profile() -> dict[str, Any]:
    return {"id": 10, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{**SCHEDULE_201, "startSchedule": "2026-01-01T00:00:00Z"}]}


async def test_k09_get_charging_profiles_report_is_stored_under_the_request_id(
    server: RunningServer, version: str,
) -> None:
    from volthub.domain import commands as c

    async with connect2x(server.ocpp_url, "CS-K09", version) as station:
        outcome = await server.container.services.commands.execute(
            "CS-K09", c.GetChargingProfiles(evse_id=0, purpose="ChargingStationMaxProfile"))
        sent = await station.wait_for("GetChargingProfiles")
        request_id = outcome.data["request_id"]
        assert outcome.status == "Accepted"
        assert sent == {"requestId": request_id, "evseId": 0, "chargingProfile": {
            "chargingProfilePurpose": "ChargingStationMaxProfile"}}
        report = {"requestId": request_id, "chargingLimitSource": "CSO", "evseId": 0,
                  "chargingProfile": [_reported_profile()], "tbc": False}
        assert await station.send("ReportChargingProfiles", report) == {}
    [stored] = await reports(server, "CS-K09", "ReportChargingProfiles")
    assert stored["request_id"] == request_id
    assert stored["evse_id"] == 0
    assert stored["payload"] == report


async def test_k09_get_charging_profiles_through_the_api_with_a_request_id(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K09-API", version) as station:
        response = await command(server, "CS-K09-API", "get-charging-profiles",
                                 {"request_id": 4711, "profile_ids": [10, 11]})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
        assert response.json()["data"]["request_id"] == 4711
        sent = await station.wait_for("GetChargingProfiles")
        assert sent == {"requestId": 4711, "chargingProfile": {"chargingProfileId": [10, 11]}}
        for part, tbc in ((0, True), (1, False)):
            await station.send("ReportChargingProfiles", {
                "requestId": 4711, "chargingLimitSource": "CSO", "evseId": part,
                "chargingProfile": [_reported_profile()], "tbc": tbc})
    stored = await reports(server, "CS-K09-API", "ReportChargingProfiles")
    assert sorted((r["request_id"], r["evse_id"], r["payload"]["tbc"]) for r in stored) == [
        (4711, 0, True), (4711, 1, False)]


# --- K08 GetCompositeSchedule ------------------------------------------------------------------
async def test_k08_get_composite_schedule(server: RunningServer, version: str) -> None:
    schedule = {"evseId": 1, "duration": 3600, "scheduleStart": "2026-01-01T10:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0},
                                           {"startPeriod": 1800, "limit": 7400.0}]}
    async with connect2x(server.ocpp_url, "CS-K08", version) as station:
        station.answers["GetCompositeSchedule"] = {"status": "Accepted", "schedule": schedule}
        response = await command(server, "CS-K08", "get-composite-schedule",
                                 {"evse_id": 1, "duration_s": 3600, "charging_rate_unit": "W"})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("GetCompositeSchedule")
    assert sent == {"evseId": 1, "duration": 3600, "chargingRateUnit": "W"}
    body = response.json()
    assert (body["status"], body["response"]) == (
        "Accepted", {"status": "Accepted", "schedule": schedule})


# --- K11-K13 / K15-K17 station notifications ---------------------------------------------------
async def test_k12_notify_charging_limit_is_stored(server: RunningServer, version: str) -> None:
    payload = {"evseId": 1, "chargingLimit": {"chargingLimitSource": "EMS",
                                              "isGridCritical": True},
               "chargingSchedule": [SCHEDULE_201]}
    async with connect2x(server.ocpp_url, "CS-K12", version) as station:
        assert await station.send("NotifyChargingLimit", payload) == {}
    [stored] = await reports(server, "CS-K12", "NotifyChargingLimit")
    assert stored["evse_id"] == 1
    assert stored["payload"] == payload


async def test_k13_cleared_charging_limit_is_stored(server: RunningServer, version: str) -> None:
    payload = {"chargingLimitSource": "SO", "evseId": 2}
    async with connect2x(server.ocpp_url, "CS-K13", version) as station:
        assert await station.send("ClearedChargingLimit", payload) == {}
    [stored] = await reports(server, "CS-K13", "ClearedChargingLimit")
    assert (stored["evse_id"], stored["payload"]) == (2, payload)


async def test_k15_notify_ev_charging_schedule_is_accepted_and_stored(
    server: RunningServer, version: str,
) -> None:
    payload = {"timeBase": T0, "evseId": 1, "chargingSchedule": SCHEDULE_201}
    async with connect2x(server.ocpp_url, "CS-K15-SCHED", version) as station:
        answer = await station.send("NotifyEVChargingSchedule", payload)
    assert answer == {"status": "Accepted"}
    [stored] = await reports(server, "CS-K15-SCHED", "NotifyEVChargingSchedule")
    assert (stored["evse_id"], stored["payload"]) == (1, payload)


# --- K15-K17 NotifyEVChargingNeeds -------------------------------------------------------------
def _ac_need(max_current: int) -> dict[str, Any]:
    return {"requestedEnergyTransfer": "AC_three_phase", "acChargingParameters": {
        "energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": max_current,
        "evMaxVoltage": 400}}


async def test_k15_ac_charging_needs_get_a_tx_profile_within_the_station_max_profile(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K15-AC", version) as station:
        await start_transaction(station, "TX-NEEDS-AC")
        ours = await transaction_id(server, "CS-K15-AC", "TX-NEEDS-AC")
        assert (await command(server, "CS-K15-AC", "set-charging-profile",
                              {"evse_id": 0, "profile": MAX_PROFILE})).status_code == 200
        answer = await station.send("NotifyEVChargingNeeds",
                                    {"evseId": 1, "chargingNeeds": _ac_need(32)})
        # K15.FR.xx: Processing = a SetChargingProfileRequest follows.
        assert answer["status"] == "Processing"
        sent = await nth_call(station, "SetChargingProfile", 1)  # the 0th was the max profile
        # Once the station accepted it, the profile is kept bound to our transaction.
        profiles = await eventually(lambda: stored_profiles(server, "CS-K15-AC"), 2)
    assert sent["evseId"] == 1
    profile = sent["chargingProfile"]
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["transactionId"] == "TX-NEEDS-AC"
    [schedule] = profile["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A"
    # The EV could take 32 A; the station-wide cap is 16 A.
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16.0}]
    [stored] = await reports(server, "CS-K15-AC", "NotifyEVChargingNeeds")
    assert stored["evse_id"] == 1
    assert stored["payload"]["chargingNeeds"] == _ac_need(32)
    [needs_profile] = [p for p in profiles if p["profile_id"] != 10]
    assert needs_profile["profile_id"] == profile["id"]
    assert (needs_profile["evse_id"], needs_profile["purpose"]) == (1, "TxProfile")
    assert needs_profile["transaction_id"] == ours


async def test_k15_ac_need_below_the_cap_is_served_in_full(server: RunningServer,
                                                           version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-K15-AC10", version) as station:
        await start_transaction(station, "TX-NEEDS-AC10")
        assert (await command(server, "CS-K15-AC10", "set-charging-profile",
                              {"evse_id": 0, "profile": MAX_PROFILE})).status_code == 200
        answer = await station.send("NotifyEVChargingNeeds",
                                    {"evseId": 1, "chargingNeeds": _ac_need(10)})
        assert answer["status"] == "Processing"
        sent = await nth_call(station, "SetChargingProfile", 1)
    [schedule] = sent["chargingProfile"]["chargingSchedule"]
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 10.0


def _dc_need(energy_wh: float, departure: datetime) -> dict[str, Any]:
    return {"requestedEnergyTransfer": "DC",
            "departureTime": departure.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dcChargingParameters": {"evMaxCurrent": 125, "evMaxVoltage": 400,
                                     "evMaxPower": 50000, "energyAmount": energy_wh}}


async def test_k15_dc_needs_get_the_power_that_serves_the_energy_by_departure(
    server: RunningServer, version: str,
) -> None:
    departure = datetime.now(UTC) + timedelta(hours=4)
    async with connect2x(server.ocpp_url, "CS-K15-DC", version) as station:
        await start_transaction(station, "TX-NEEDS-DC", evse_id=2)
        answer = await station.send("NotifyEVChargingNeeds", {
            "evseId": 2, "chargingNeeds": _dc_need(20000, departure)})
        assert answer["status"] == "Processing"
        sent = await station.wait_for("SetChargingProfile")
    assert sent["evseId"] == 2
    profile = sent["chargingProfile"]
    assert (profile["chargingProfilePurpose"], profile["transactionId"]) == (
        "TxProfile", "TX-NEEDS-DC")
    [schedule] = profile["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    # 20 kWh in (about) 4 h: about 5 kW, far below the EV's 50 kW.
    assert schedule["chargingSchedulePeriod"][0]["limit"] == pytest.approx(5000, rel=0.01)
    assert schedule["duration"] == pytest.approx(4 * 3600, abs=60)


async def test_k15_dc_needs_are_capped_by_the_evs_max_power(server: RunningServer,
                                                            version: str) -> None:
    departure = datetime.now(UTC) + timedelta(hours=1)
    async with connect2x(server.ocpp_url, "CS-K15-DCMAX", version) as station:
        await start_transaction(station, "TX-NEEDS-DCMAX")
        # 150 kWh in one hour would need 150 kW; the EV takes 50 kW at most.
        answer = await station.send("NotifyEVChargingNeeds", {
            "evseId": 1, "chargingNeeds": _dc_need(150000, departure)})
        assert answer["status"] == "Processing"
        sent = await station.wait_for("SetChargingProfile")
    [schedule] = sent["chargingProfile"]["chargingSchedule"]
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 50000.0}]


async def test_k17_charging_needs_without_a_transaction_are_rejected(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K17", version) as station:
        # A transaction on another EVSE does not count.
        await start_transaction(station, "TX-OTHER-EVSE", evse_id=2)
        answer = await station.send("NotifyEVChargingNeeds",
                                    {"evseId": 1, "chargingNeeds": _ac_need(32)})
        assert answer == {"status": "Rejected"}
        await station.send("Heartbeat", {})
        assert station.got("SetChargingProfile") == []
    # The need itself is kept all the same.
    [stored] = await reports(server, "CS-K17", "NotifyEVChargingNeeds")
    assert stored["evse_id"] == 1


async def test_k17_charging_needs_after_the_transaction_ended_are_rejected(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-K17-END", version) as station:
        await start_transaction(station, "TX-ENDED")
        await station.send("TransactionEvent", {
            "eventType": "Ended", "timestamp": T1, "triggerReason": "EVCommunicationLost",
            "seqNo": 1, "transactionInfo": {"transactionId": "TX-ENDED",
                                            "stoppedReason": "EVDisconnected"}})
        answer = await station.send("NotifyEVChargingNeeds",
                                    {"evseId": 1, "chargingNeeds": _ac_need(32)})
        assert answer == {"status": "Rejected"}
        await station.send("Heartbeat", {})
        assert station.got("SetChargingProfile") == []


# --- I Tariff and cost -------------------------------------------------------------------------
class FixedCosts:
    """A CostProvider with one tariff text and one running cost, recording what it was asked."""

    def __init__(self, message: str, cost: Decimal) -> None:
        self.message = message
        self.cost = cost
        self.asked_message: list[tuple[str, int | None, str]] = []
        self.asked_cost: list[int] = []

    async def tariff_message(self, station_id: str, evse_id: int | None,
                             id_token: str) -> str | None:
        self.asked_message.append((station_id, evse_id, id_token))
        return self.message

    async def running_cost(self, transaction_id: int) -> Decimal | None:
        self.asked_cost.append(transaction_id)
        return self.cost


async def test_i01_authorize_accepted_carries_the_tariff_as_personal_message(
    server: RunningServer, version: str,
) -> None:
    costs = FixedCosts("0.39 EUR/kWh, 0.10 EUR/min after 2 h", Decimal("0"))
    server.container.services.costs = costs
    await server.api.post("/id-tokens", json={"id_token": "PRICED"})
    await server.api.post("/id-tokens", json={"id_token": "BLOCKED", "status": "Blocked"})
    async with connect2x(server.ocpp_url, "CS-I01", version) as station:
        accepted = await station.send("Authorize", {"idToken": {"idToken": "PRICED",
                                                                "type": "ISO14443"}})
        blocked = await station.send("Authorize", {"idToken": {"idToken": "BLOCKED",
                                                               "type": "ISO14443"}})
    assert accepted["idTokenInfo"]["status"] == "Accepted"
    assert accepted["idTokenInfo"]["personalMessage"] == {
        "format": "UTF8", "content": "0.39 EUR/kWh, 0.10 EUR/min after 2 h"}
    assert blocked["idTokenInfo"]["status"] == "Blocked"
    assert "personalMessage" not in blocked["idTokenInfo"]  # no tariff for a refused token
    assert costs.asked_message == [("CS-I01", None, "PRICED")]


async def test_i_no_cost_provider_means_no_personal_message_and_no_total_cost(
    server: RunningServer, version: str,
) -> None:
    await server.api.post("/id-tokens", json={"id_token": "PLAIN"})
    async with connect2x(server.ocpp_url, "CS-I-NONE", version) as station:
        accepted = await station.send("Authorize", {"idToken": {"idToken": "PLAIN",
                                                                "type": "ISO14443"}})
        await start_transaction(station, "TX-I-NONE")
        ended = await station.send("TransactionEvent", {
            "eventType": "Ended", "timestamp": T1, "triggerReason": "EVCommunicationLost",
            "seqNo": 1, "transactionInfo": {"transactionId": "TX-I-NONE",
                                            "stoppedReason": "EVDisconnected"}})
    assert "personalMessage" not in accepted["idTokenInfo"]
    assert "totalCost" not in ended


async def test_i03_transaction_ended_answer_carries_the_total_cost(server: RunningServer,
                                                                   version: str) -> None:
    costs = FixedCosts("", Decimal("12.34"))
    server.container.services.costs = costs
    async with connect2x(server.ocpp_url, "CS-I03", version) as station:
        started = await start_transaction(station, "TX-I03")
        updated = await station.send("TransactionEvent", {
            "eventType": "Updated", "timestamp": T1, "triggerReason": "MeterValuePeriodic",
            "seqNo": 1, "transactionInfo": {"transactionId": "TX-I03"}})
        ended = await station.send("TransactionEvent", {
            "eventType": "Ended", "timestamp": T2, "triggerReason": "EVCommunicationLost",
            "seqNo": 2, "transactionInfo": {"transactionId": "TX-I03",
                                            "stoppedReason": "EVDisconnected"}})
    ours = await transaction_id(server, "CS-I03", "TX-I03")
    assert ended["totalCost"] == 12.34
    assert "totalCost" not in started and "totalCost" not in updated  # only when Ended
    assert costs.asked_cost == [ours]


async def test_i02_cost_updated_names_the_stations_transaction(server: RunningServer,
                                                               version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-I02", version) as station:
        await start_transaction(station, "TX-I02-XYZ")
        ours = await transaction_id(server, "CS-I02", "TX-I02-XYZ")
        response = await command(server, "CS-I02", "cost-updated",
                                 {"transaction_id": ours, "total_cost": "3.21"})
        assert response.status_code == 200, response.text
        sent = await station.wait_for("CostUpdated")
    assert sent == {"totalCost": 3.21, "transactionId": "TX-I02-XYZ"}


async def test_i02_cost_updated_for_an_unknown_transaction_is_404(server: RunningServer,
                                                                  version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-I02-404", version) as station:
        response = await command(server, "CS-I02-404", "cost-updated",
                                 {"transaction_id": 424242, "total_cost": "1"})
        assert response.status_code == 404, response.text
        assert station.got("CostUpdated") == []


# --- J Meter values ----------------------------------------------------------------------------
async def test_tc_j_01_clock_aligned_meter_values_without_a_transaction(
    server: RunningServer, version: str,
) -> None:
    async with connect2x(server.ocpp_url, "CS-J01", version) as station:
        for minute, (evse_id, value) in enumerate(((0, 120500), (1, 3400), (0, 121500))):
            answer = await station.send("MeterValues", {"evseId": evse_id, "meterValue": [{
                "timestamp": f"2026-01-01T10:{15 * minute:02d}:00Z",
                "sampledValue": [{"value": value, "context": "Sample.Clock",
                                  "measurand": "Energy.Active.Import.Register",
                                  "unitOfMeasure": {"unit": "Wh"}}]}]})
            assert answer == {}
    rows = await meter_rows(server, "CS-J01")
    assert [(r["evse_id"], r["transaction_id"], r["value"], r["context"], r["unit"])
            for r in rows] == [
        (0, None, 120500, "Sample.Clock", "Wh"),
        (1, None, 3400, "Sample.Clock", "Wh"),
        (0, None, 121500, "Sample.Clock", "Wh"),
    ]


async def test_tc_j_11_signed_meter_values_are_kept_verbatim(server: RunningServer,
                                                            version: str) -> None:
    signed = {"signedMeterData": "T0NNRnx7IkZWIjoiMS4wIn0=", "signingMethod": "ECDSA-secp256r1",
              "encodingMethod": "OCMF", "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"}
    async with connect2x(server.ocpp_url, "CS-J11", version) as station:
        await start_transaction(station, "TX-J11", meterValue=[{"timestamp": T0, "sampledValue": [
            {"value": 1000, "context": "Transaction.Begin", "signedMeterValue": signed}]}])
        await station.send("TransactionEvent", {
            "eventType": "Ended", "timestamp": T2, "triggerReason": "EVCommunicationLost",
            "seqNo": 1, "transactionInfo": {"transactionId": "TX-J11",
                                            "stoppedReason": "EVDisconnected"},
            "meterValue": [{"timestamp": T2, "sampledValue": [
                {"value": 4000, "context": "Transaction.End", "signedMeterValue": signed},
                {"value": 4000, "context": "Transaction.End"}]}]})
    ours = await transaction_id(server, "CS-J11", "TX-J11")
    readings = (await server.api.get(f"/transactions/{ours}/meter-values")).json()
    assert [(r["value"], r["context"], r["format"]) for r in readings] == [
        (1000, "Transaction.Begin", "SignedData"),
        (4000, "Transaction.End", "SignedData"),
        (4000, "Transaction.End", "Raw"),
    ]
    rows = await meter_rows(server, "CS-J11")
    kept = [orjson.loads(r["signed_data"]) for r in rows if r["signed_data"] is not None]
    assert kept == [signed, signed]
    txn = (await server.api.get(f"/transactions/{ours}")).json()
    assert txn["energy_wh"] == 3000


async def test_j01_unit_multiplier_is_normalised_to_wh(server: RunningServer,
                                                       version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-J-MULT", version) as station:
        await station.send("MeterValues", {"evseId": 0, "meterValue": [{
            "timestamp": T0, "sampledValue": [
                {"value": 12.345, "context": "Sample.Clock",
                 "unitOfMeasure": {"unit": "kWh", "multiplier": 0}},
                {"value": 1.5, "context": "Sample.Clock",
                 "unitOfMeasure": {"unit": "kWh", "multiplier": 1}},
                {"value": 42, "context": "Sample.Clock",
                 "unitOfMeasure": {"unit": "Wh", "multiplier": 3}},
                {"value": 7.2, "context": "Sample.Clock", "measurand": "Power.Active.Import",
                 "unitOfMeasure": {"unit": "kW"}},
                {"value": 2500, "context": "Sample.Clock",
                 "unitOfMeasure": {"unit": "Wh", "multiplier": -1}},
            ]}]})
    rows = await meter_rows(server, "CS-J-MULT")
    got = [(r["measurand"], r["unit"], r["value"]) for r in rows]
    assert got == [
        ("Energy.Active.Import.Register", "Wh", pytest.approx(12345)),
        ("Energy.Active.Import.Register", "Wh", pytest.approx(15000)),
        ("Energy.Active.Import.Register", "Wh", pytest.approx(42000)),
        ("Power.Active.Import", "W", pytest.approx(7200)),
        ("Energy.Active.Import.Register", "Wh", pytest.approx(250)),
    ]
    # The value as the station sent it stays beside the normalised one.
    assert [r["raw_value"] for r in rows] == ["12.345", "1.5", "42", "7.2", "2500"]
