"""OCPI chargingprofiles (CPO Receiver) on sessions of real OCPP stations: PUT sets the session's
TxProfile, GET fetches the composite schedule, DELETE clears; results go to response_url."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from ocpp.v16 import call

from tests.e2e.test_ocpi_cpo_commands import (
    FROM_EMSP,
    T0,
    accepted,
    add_station,
    our_transaction_id,
    plugged16,
    result_at,
    roaming_cpo,
    start_body,
)
from tests.support.ocpi import Pair, ocpi_call
from tests.support.ocpi_peer import StandInPeer
from tests.support.station2x import TestStation2x, connect2x
from tests.support.station16 import TestStation16, connect16

PROFILE_ID_BASE = 1_000_000_000  # OCPP chargingProfileId of OCPI's profile: base + session id
PROFILE = {"charging_rate_unit": "A", "min_charging_rate": 6.0,
           "charging_profile_period": [{"start_period": 0, "limit": 16.0},
                                       {"start_period": 1800, "limit": 8.1}]}


async def profiles(pair: Pair, method: str, session_id: str, **kwargs: Any) -> httpx.Response:
    return await ocpi_call(pair.cpo, method, f"/cpo/2.2.1/chargingprofiles/{session_id}",
                           await pair.token_emsp_uses(), headers=FROM_EMSP, **kwargs)


async def response_of(pair: Pair, method: str, session_id: str, **kwargs: Any) -> str:
    """ChargingProfileResponse.result of a request (status 1000, timeout given)."""
    answer = await profiles(pair, method, session_id, **kwargs)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status_code"] == 1000, body
    assert body["data"]["timeout"] >= pair.cpo.settings.call_timeout_s
    result: str = body["data"]["result"]
    return result


async def emsp_session_16(pair: Pair, peer: StandInPeer, station: TestStation16,
                          station_id: str) -> tuple[str, int]:
    """A session the eMSP started (START_SESSION + StartTransaction): (OCPI id, station's)."""
    await add_station(pair.cpo, station_id)
    await plugged16(station)
    await accepted(pair, "START_SESSION", start_body(peer, "start", evse_uid=f"{station_id}-1"))
    await result_at(peer, "/results/start")
    started = await station.call(call.StartTransaction(
        connector_id=1, id_tag="APP-1", meter_start=0, timestamp=T0))
    ours = await our_transaction_id(pair.cpo, station_id, started.transaction_id)
    return str(ours), int(started.transaction_id)


async def test_put_get_delete_on_a_16_session(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-PRF") as station:
        session_id, station_txn = await emsp_session_16(pair, peer, station, "CP-PRF")
        # PUT: the session's TxProfile, relative to the start of charging (no start_date_time).
        assert await response_of(pair, "PUT", session_id, json={
            "charging_profile": PROFILE, "response_url": f"{peer.url}/cp/set"}) == "ACCEPTED"
        assert (await result_at(peer, "/cp/set")).body == {"result": "ACCEPTED"}
        [sent] = [kw for a, kw in station.received if a == "SetChargingProfile"]
        assert sent["connector_id"] == 1
        profile = sent["cs_charging_profiles"]
        assert profile["charging_profile_id"] == PROFILE_ID_BASE + int(session_id)
        assert profile["transaction_id"] == station_txn
        assert profile["charging_profile_purpose"] == "TxProfile"
        assert profile["charging_profile_kind"] == "Relative"
        schedule = profile["charging_schedule"]
        assert schedule["charging_rate_unit"] == "A"
        assert float(schedule["min_charging_rate"]) == 6.0
        assert [(p["start_period"], float(p["limit"]))
                for p in schedule["charging_schedule_period"]] == [(0, 16.0), (1800, 8.1)]
        # A second PUT with a start time: an absolute profile with the same id (it replaces).
        assert await response_of(pair, "PUT", session_id, json={
            "charging_profile": {**PROFILE, "start_date_time": "2026-03-02T09:00:00Z",
                                 "duration": 3600},
            "response_url": f"{peer.url}/cp/set2"}) == "ACCEPTED"
        await result_at(peer, "/cp/set2")
        second = [kw for a, kw in station.received if a == "SetChargingProfile"][1]
        replaced = second["cs_charging_profiles"]
        assert replaced["charging_profile_id"] == profile["charging_profile_id"]
        assert replaced["charging_profile_kind"] == "Absolute"
        assert replaced["charging_schedule"]["start_schedule"].startswith("2026-03-02T09:00:00")
        assert replaced["charging_schedule"]["duration"] == 3600

        # GET: the station's composite schedule as the ActiveChargingProfile.
        station.answers["GetCompositeSchedule"] = {
            "status": "Accepted", "connectorId": 1, "scheduleStart": T0,
            "chargingSchedule": {"duration": 900, "chargingRateUnit": "A",
                                 "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0},
                                                            {"startPeriod": 600, "limit": 10}]}}
        assert await response_of(pair, "GET", session_id, params={
            "duration": 900, "response_url": f"{peer.url}/cp/get"}) == "ACCEPTED"
        active = (await result_at(peer, "/cp/get")).body
        assert active == {"result": "ACCEPTED", "profile": {
            "start_date_time": T0,
            "charging_profile": {
                "start_date_time": T0, "duration": 900, "charging_rate_unit": "A",
                "charging_profile_period": [{"start_period": 0, "limit": 16.0},
                                            {"start_period": 600, "limit": 10.0}]}}}
        [asked] = [kw for a, kw in station.received if a == "GetCompositeSchedule"]
        assert (asked["connector_id"], asked["duration"]) == (1, 900)
        station.answers["GetCompositeSchedule"] = {"status": "Rejected"}
        await response_of(pair, "GET", session_id, params={
            "duration": 60, "response_url": f"{peer.url}/cp/get-rejected"})
        assert (await result_at(peer, "/cp/get-rejected")).body == {"result": "REJECTED"}
        station.answers["GetCompositeSchedule"] = {"status": "Accepted"}
        await response_of(pair, "GET", session_id, params={
            "duration": 60, "response_url": f"{peer.url}/cp/get-none"})
        assert (await result_at(peer, "/cp/get-none")).body == {"result": "UNKNOWN"}

        # DELETE: the profile set through OCPI is cleared by its id.
        assert await response_of(pair, "DELETE", session_id, params={
            "response_url": f"{peer.url}/cp/clear"}) == "ACCEPTED"
        assert (await result_at(peer, "/cp/clear")).body == {"result": "ACCEPTED"}
        [clear] = [kw for a, kw in station.received if a == "ClearChargingProfile"]
        assert clear["id"] == PROFILE_ID_BASE + int(session_id)
        station.answers["ClearChargingProfile"] = {"status": "Unknown"}
        await response_of(pair, "DELETE", session_id, params={
            "response_url": f"{peer.url}/cp/clear2"})
        assert (await result_at(peer, "/cp/clear2")).body == {"result": "UNKNOWN"}
        # A station refusing the profile.
        station.answers["SetChargingProfile"] = {"status": "Rejected"}
        await response_of(pair, "PUT", session_id, json={
            "charging_profile": PROFILE, "response_url": f"{peer.url}/cp/refused"})
        assert (await result_at(peer, "/cp/refused")).body == {"result": "REJECTED"}


async def test_requests_that_cannot_reach_a_session(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-PRX") as station:
        session_id, station_txn = await emsp_session_16(pair, peer, station, "CP-PRX")
        put = {"charging_profile": PROFILE, "response_url": f"{peer.url}/cp/x"}
        for unknown in ("424242", "no-such-session"):
            assert await response_of(pair, "PUT", unknown, json=put) == "UNKNOWN_SESSION"
            assert await response_of(pair, "GET", unknown, params={
                "duration": 60, "response_url": f"{peer.url}/cp/x"}) == "UNKNOWN_SESSION"
            assert await response_of(pair, "DELETE", unknown, params={
                "response_url": f"{peer.url}/cp/x"}) == "UNKNOWN_SESSION"
        # Parameters and bodies that do not validate: 2001.
        for method, kwargs in (
                ("GET", {"params": {"response_url": f"{peer.url}/cp/x"}}),  # no duration
                ("GET", {"params": {"duration": 0, "response_url": f"{peer.url}/cp/x"}}),
                ("DELETE", {}),  # no response_url
                ("PUT", {"json": {"response_url": f"{peer.url}/cp/x"}}),
                ("PUT", {"json": {**put, "charging_profile": {**PROFILE,
                                                              "charging_rate_unit": "kW"}}}),
                ("PUT", {"json": {**put, "charging_profile": {"charging_rate_unit": "W"}}})):
            answer = await profiles(pair, method, session_id, **kwargs)
            assert answer.json()["status_code"] == 2001, (method, kwargs, answer.text)
        # Sessions that are not the eMSP's (a local driver's) are refused.
        await pair.cpo.api.post("/id-tokens", json={"id_token": "LOCAL-2"})
        local = await station.call(call.StartTransaction(
            connector_id=2, id_tag="LOCAL-2", meter_start=0, timestamp=T0))
        local_id = await our_transaction_id(pair.cpo, "CP-PRX", local.transaction_id)
        assert await response_of(pair, "PUT", str(local_id), json=put) == "REJECTED"
        # An ended session takes no profile.
        await station.call(call.StopTransaction(meter_stop=10, timestamp=T0,
                                                transaction_id=station_txn))
        assert await response_of(pair, "PUT", session_id, json=put) == "REJECTED"
        assert not [a for a, _ in station.received if a == "SetChargingProfile"]
        assert not [r for r in peer.received if r.path == "/cp/x"]


async def test_put_on_a_2x_session(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect2x(pair.cpo.ocpp_url, "CS-PRF", "2.0.1") as station:
        session_id = await emsp_session_2x(pair, peer, station, "CS-PRF")
        assert await response_of(pair, "PUT", session_id, json={
            "charging_profile": {"charging_rate_unit": "W",
                                 "charging_profile_period": [{"start_period": 0,
                                                              "limit": 7400}]},
            "response_url": f"{peer.url}/cp/v2"}) == "ACCEPTED"
        assert (await result_at(peer, "/cp/v2")).body == {"result": "ACCEPTED"}
        sent = await station.wait_for("SetChargingProfile")
        assert sent["evseId"] == 1
        profile = sent["chargingProfile"]
        assert profile["id"] == PROFILE_ID_BASE + int(session_id)
        assert profile["chargingProfilePurpose"] == "TxProfile"
        assert profile["transactionId"] == "TX-PRF"
        [schedule] = profile["chargingSchedule"]
        assert schedule["chargingRateUnit"] == "W"
        assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 7400.0}]


async def emsp_session_2x(pair: Pair, peer: StandInPeer, station: TestStation2x,
                          station_id: str) -> str:
    await add_station(pair.cpo, station_id)
    await station.send("StatusNotification", {
        "timestamp": T0, "connectorStatus": "Available", "evseId": 1, "connectorId": 1})
    await accepted(pair, "START_SESSION", start_body(peer, "start2", evse_uid=f"{station_id}-1"))
    await result_at(peer, "/results/start2")
    await station.send("TransactionEvent", {
        "eventType": "Started", "timestamp": T0, "triggerReason": "RemoteStart", "seqNo": 0,
        "transactionInfo": {"transactionId": "TX-PRF"}, "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "APP-1", "type": "Central"}})
    items = (await pair.cpo.api.get("/transactions", params={"station_id": station_id})).json()
    rows = items["items"] if isinstance(items, dict) else items
    [txn] = [t for t in rows if t["station_transaction_id"] == "TX-PRF"]
    return str(txn["id"])
