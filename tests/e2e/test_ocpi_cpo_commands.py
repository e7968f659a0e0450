"""OCPI commands (CPO Receiver) against real OCPP stations, and hubclientinfo (Receiver).

An eMSP instance registered with the CPO sends the commands with its token; CommandResults go
to a stand-in response_url receiver (mod_commands §Sender interface: any URL the Sender gives).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp.v16 import call

from tests.support.ocpi import Pair, cpo_and_emsp, ocpi_call
from tests.support.ocpi_peer import Received, StandInPeer
from tests.support.server import RunningServer
from tests.support.station2x import connect2x
from tests.support.station16 import TestStation16, connect16

FROM_EMSP = {"OCPI-from-country-code": "DE", "OCPI-from-party-id": "MSP",
             "OCPI-to-country-code": "NL", "OCPI-to-party-id": "CPO"}
T0 = "2026-03-02T08:00:00Z"
LOCATION = "LOC-1"


def ocpi_token(uid: str = "APP-1", whitelist: str = "NEVER", party: str = "MSP"
               ) -> dict[str, Any]:
    """An eMSP's app token (NEVER: only the START_SESSION's authorization lets it charge)."""
    return {"country_code": "DE", "party_id": party, "uid": uid, "type": "APP_USER",
            "contract_id": f"DE-{party}-C{uid}", "issuer": "MSP Inc.", "valid": True,
            "whitelist": whitelist, "last_updated": "2026-01-01T00:00:00Z"}


@asynccontextmanager
async def roaming_cpo(tmp_path: Path, cpo_db: str | None = None,
                      **cpo_overrides: Any) -> AsyncIterator[tuple[Pair, StandInPeer]]:
    """A CPO with location LOC-1, an eMSP registered with it, and a response_url receiver."""
    peer = StandInPeer()
    await peer.start()
    try:
        async with cpo_and_emsp(cpo_db or f"sqlite:///{tmp_path}/cpo.db",
                                f"sqlite:///{tmp_path}/emsp.db", **cpo_overrides) as pair:
            location = {"id": LOCATION, "name": "Depot", "address": "Main St 1",
                        "city": "Amsterdam", "country": "NLD", "latitude": 52.37,
                        "longitude": 4.89, "time_zone": "Europe/Amsterdam"}
            assert (await pair.cpo.api.post("/locations", json=location)).status_code == 201
            yield pair, peer
    finally:
        await peer.stop()


async def add_station(server: RunningServer, station_id: str) -> None:
    """Put the station at LOC-1 (it registered itself when it connected)."""
    r = await server.api.patch(f"/stations/{station_id}", json={"location_id": LOCATION})
    if r.status_code == 404:
        r = await server.api.post("/stations", json={"id": station_id, "location_id": LOCATION})
    assert r.status_code in (200, 201), r.text


async def plugged16(station: TestStation16, connector_id: int = 1) -> None:
    """A 1.6 connector reported, so that its EVSE exists (mod_locations: EVSEs have one)."""
    await station.call(call.StatusNotification(connector_id=connector_id, error_code="NoError",
                                               status="Available", timestamp=T0))


async def send_command(pair: Pair, name: str, body: dict[str, Any]) -> httpx.Response:
    return await ocpi_call(pair.cpo, "POST", f"/cpo/2.2.1/commands/{name}",
                           await pair.token_emsp_uses(), headers=FROM_EMSP, json=body)


async def accepted(pair: Pair, name: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await send_command(pair, name, body)
    assert answer.status_code == 200, answer.text
    envelope = answer.json()
    assert envelope["status_code"] == 1000, envelope
    assert envelope["data"]["result"] == "ACCEPTED", envelope
    data: dict[str, Any] = envelope["data"]
    return data


async def result_at(peer: StandInPeer, path: str, wait_s: float = 20) -> Received:
    """The POST the CPO made to response_url `path` (waiting for it)."""
    for _ in range(int(wait_s / 0.05)):
        found = [r for r in peer.received if r.path == path]
        if found:
            assert len(found) == 1, found
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing was POSTed to {path}; got {peer.received}")


async def wait_until(predicate: Any, wait_s: float = 10) -> None:
    for _ in range(int(wait_s / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def start_body(peer: StandInPeer, ref: str, **extra: Any) -> dict[str, Any]:
    return {"response_url": f"{peer.url}/results/{ref}", "token": ocpi_token(),
            "location_id": LOCATION, **extra}


async def test_start_session_on_a_16_station_reaches_the_station_and_the_token_charges(
    database_url: str, tmp_path: Path,
) -> None:
    async with roaming_cpo(tmp_path, database_url) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-S16") as station:
        await add_station(pair.cpo, "CP-S16")
        await plugged16(station)
        data = await accepted(pair, "START_SESSION", start_body(
            peer, "s1", evse_uid="CP-S16-1", connector_id="1", authorization_reference="AUTH-1"))
        # CommandResponse.timeout: at least as long as we wait for the station.
        assert data["timeout"] >= pair.cpo.settings.call_timeout_s
        result = await result_at(peer, "/results/s1")
        assert result.method == "POST"
        assert result.body == {"result": "ACCEPTED"}
        # Routed back to the requesting party, with the token the CPO uses towards the eMSP.
        assert (result.headers["ocpi-to-country-code"], result.headers["ocpi-to-party-id"]) \
            == ("DE", "MSP")
        assert (result.headers["ocpi-from-country-code"],
                result.headers["ocpi-from-party-id"]) == ("NL", "CPO")
        [sent] = [kw for a, kw in station.received if a == "RemoteStartTransaction"]
        assert sent["id_tag"] == "APP-1" and sent["connector_id"] == 1
        # The station starts with the token: accepted thanks to the START_SESSION's grant
        # (whitelist NEVER alone would need a real-time authorization).
        auth = await station.call(call.Authorize(id_tag="APP-1"))
        assert auth.id_tag_info["status"] == "Accepted"
        started = await station.call(call.StartTransaction(
            connector_id=1, id_tag="APP-1", meter_start=0, timestamp=T0))
        assert started.id_tag_info["status"] == "Accepted"
    storage = pair.cpo.container.services.storage
    grant = await storage.read(lambda r: r.latest_roaming_authorization("APP-1"))
    assert grant is not None and grant.allowed == "ALLOWED"
    assert (grant.authorization_reference, grant.location_id, grant.evse_uid) \
        == ("AUTH-1", LOCATION, "CP-S16-1")
    assert grant.extra["command"] == "START_SESSION"
    [token] = await storage.read(lambda r: r.find_roaming_objects("tokens", "APP-1"))
    assert (token.country_code, token.party_id) == ("DE", "MSP")
    assert token.data["contract_id"] == "DE-MSP-CAPP-1"


async def test_start_session_without_evse_lets_the_station_choose(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-ANY") as station:
        await add_station(pair.cpo, "CP-ANY")
        await plugged16(station)
        await accepted(pair, "START_SESSION", start_body(peer, "any"))
        assert (await result_at(peer, "/results/any")).body == {"result": "ACCEPTED"}
        [sent] = [kw for a, kw in station.received if a == "RemoteStartTransaction"]
        assert sent["id_tag"] == "APP-1" and sent.get("connector_id") is None


async def test_start_session_refusals_are_answered_at_once(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-REF") as station:
        await add_station(pair.cpo, "CP-REF")
        await plugged16(station)
        # status_codes 2003: "Command: START_SESSION with unknown location".
        answer = await send_command(pair, "START_SESSION", {
            **start_body(peer, "r1"), "location_id": "NOWHERE"})
        assert answer.status_code == 200
        assert answer.json()["status_code"] == 2003
        assert answer.json()["data"]["result"] == "REJECTED"
        # An EVSE that is not at the location, and a connector the EVSE does not have.
        for extra in ({"evse_uid": "CP-REF-7"}, {"evse_uid": "OTHER-1"},
                      {"evse_uid": "CP-REF-1", "connector_id": "3"}):
            answer = await send_command(pair, "START_SESSION", start_body(peer, "r2", **extra))
            assert answer.json()["status_code"] == 1000
            assert answer.json()["data"]["result"] == "REJECTED", extra
            assert answer.json()["data"]["message"][0]["text"]
        # A token of another eMSP (mod_commands §StartSession: only the eMSP's own tokens).
        answer = await send_command(pair, "START_SESSION", {
            **start_body(peer, "r3"), "token": ocpi_token(party="XYZ")})
        assert answer.json()["data"]["result"] == "REJECTED"
        # A body that does not validate: 2001; an unknown command: HTTP 404.
        answer = await send_command(pair, "START_SESSION", {"location_id": LOCATION})
        assert answer.status_code == 200 and answer.json()["status_code"] == 2001
        assert "response_url" in answer.json()["status_message"]
        answer = await send_command(pair, "START_SESSION", {
            **start_body(peer, "r4"), "connector_id": "1"})  # connector without EVSE
        assert answer.json()["status_code"] == 2001
        answer = await send_command(pair, "SELF_DESTRUCT", start_body(peer, "r5"))
        assert answer.status_code == 404 and answer.json()["status_code"] == 2000
        # Without a valid token the module is closed.
        answer = await ocpi_call(pair.cpo, "POST", "/cpo/2.2.1/commands/START_SESSION", None,
                                 json=start_body(peer, "r6"))
        assert answer.status_code == 401
        await asyncio.sleep(0.3)
    assert not [a for a, _ in station.received if a == "RemoteStartTransaction"]
    assert not peer.received


async def test_an_offline_station_is_rejected_at_once(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer):
        await add_station(pair.cpo, "CP-OFF")
        async with connect16(pair.cpo.ocpp_url, "CP-OFF") as station:
            await plugged16(station)
        await wait_until(lambda: not pair.cpo.container.gateway.is_connected("CP-OFF"))
        answer = await send_command(pair, "START_SESSION", start_body(
            peer, "off", evse_uid="CP-OFF-1"))
        assert answer.json()["status_code"] == 1000
        assert answer.json()["data"]["result"] == "REJECTED"
        assert "offline" in answer.json()["data"]["message"][0]["text"]


async def test_a_station_that_does_not_answer_gives_timeout(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path, call_timeout_s=1.0) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-SLOW") as station:
        await add_station(pair.cpo, "CP-SLOW")
        await plugged16(station)
        station.delays["RemoteStartTransaction"] = 2.0
        await accepted(pair, "START_SESSION", start_body(peer, "slow", evse_uid="CP-SLOW-1"))
        result = await result_at(peer, "/results/slow")
        assert result.body["result"] == "TIMEOUT"
        await asyncio.sleep(1.2)  # let the late answer arrive before the station closes


async def test_station_answers_map_to_command_results(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-MAP") as station:
        await add_station(pair.cpo, "CP-MAP")
        await plugged16(station)
        station.answers["RemoteStartTransaction"] = {"status": "Rejected"}
        await accepted(pair, "START_SESSION", start_body(peer, "rej", evse_uid="CP-MAP-1"))
        assert (await result_at(peer, "/results/rej")).body == {"result": "REJECTED"}
        for status, expected in (("Unlocked", "ACCEPTED"), ("UnlockFailed", "FAILED"),
                                 ("NotSupported", "NOT_SUPPORTED")):
            station.answers["UnlockConnector"] = {"status": status}
            await accepted(pair, "UNLOCK_CONNECTOR", {
                "response_url": f"{peer.url}/results/unlock-{status}",
                "location_id": LOCATION, "evse_uid": "CP-MAP-1", "connector_id": "1"})
            result = await result_at(peer, f"/results/unlock-{status}")
            assert result.body == {"result": expected}
        unlocks = [kw for a, kw in station.received if a == "UnlockConnector"]
        assert [u["connector_id"] for u in unlocks] == [1, 1, 1]
        # UNLOCK_CONNECTOR of an unknown location: 2003 (mod_commands §Flow example).
        answer = await send_command(pair, "UNLOCK_CONNECTOR", {
            "response_url": f"{peer.url}/results/u", "location_id": "NOWHERE",
            "evse_uid": "CP-MAP-1", "connector_id": "1"})
        assert answer.json()["status_code"] == 2003


async def test_stop_session(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-STOP") as station:
        await add_station(pair.cpo, "CP-STOP")
        await plugged16(station)
        answer = await send_command(pair, "STOP_SESSION", {
            "response_url": f"{peer.url}/results/x", "session_id": "999999"})
        assert answer.json()["status_code"] == 1000
        assert answer.json()["data"]["result"] == "UNKNOWN_SESSION"
        answer = await send_command(pair, "STOP_SESSION", {
            "response_url": f"{peer.url}/results/x", "session_id": "not-ours"})
        assert answer.json()["data"]["result"] == "UNKNOWN_SESSION"
        # A session of one of our own drivers is not the eMSP's to stop.
        await pair.cpo.api.post("/id-tokens", json={"id_token": "LOCAL-1"})
        local = await station.call(call.StartTransaction(
            connector_id=1, id_tag="LOCAL-1", meter_start=0, timestamp=T0))
        local_id = await our_transaction_id(pair.cpo, "CP-STOP", local.transaction_id)
        answer = await send_command(pair, "STOP_SESSION", {
            "response_url": f"{peer.url}/results/x", "session_id": str(local_id)})
        assert answer.json()["data"]["result"] == "REJECTED"
        await station.call(call.StopTransaction(meter_stop=10, timestamp=T0,
                                                transaction_id=local.transaction_id))
        # The eMSP's own session: RemoteStopTransaction with the station's transaction id.
        await accepted(pair, "START_SESSION", start_body(peer, "s", evse_uid="CP-STOP-1"))
        await result_at(peer, "/results/s")
        started = await station.call(call.StartTransaction(
            connector_id=1, id_tag="APP-1", meter_start=0, timestamp=T0))
        session_id = await our_transaction_id(pair.cpo, "CP-STOP", started.transaction_id)
        await accepted(pair, "STOP_SESSION", {"response_url": f"{peer.url}/results/stop",
                                              "session_id": str(session_id)})
        assert (await result_at(peer, "/results/stop")).body == {"result": "ACCEPTED"}
        [stop] = [kw for a, kw in station.received if a == "RemoteStopTransaction"]
        assert stop["transaction_id"] == started.transaction_id


async def our_transaction_id(server: RunningServer, station_id: str, station_txn: int) -> int:
    """Our transaction id (the OCPI Session.id) of a station's transaction."""
    items = (await server.api.get("/transactions", params={"station_id": station_id})).json()
    rows = items["items"] if isinstance(items, dict) else items
    [txn] = [t for t in rows if t["station_transaction_id"] == str(station_txn)]
    return int(txn["id"])


async def test_reserve_now_and_cancel_reservation(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-RES") as station:
        await add_station(pair.cpo, "CP-RES")
        await plugged16(station)
        reserve = {"response_url": f"{peer.url}/results/res", "token": ocpi_token("RES-1"),
                   "expiry_date": "2030-01-01T10:00:00Z", "reservation_id": "R-77",
                   "location_id": LOCATION, "evse_uid": "CP-RES-1",
                   "authorization_reference": "AUTH-R"}
        await accepted(pair, "RESERVE_NOW", reserve)
        assert (await result_at(peer, "/results/res")).body == {"result": "ACCEPTED"}
        [sent] = [kw for a, kw in station.received if a == "ReserveNow"]
        assert sent["id_tag"] == "RES-1" and sent["connector_id"] == 1
        # mod_commands §ReserveNow: the eMSP's reservation_id is not sent to the station.
        ours = sent["reservation_id"]
        assert isinstance(ours, int)
        storage = pair.cpo.container.services.storage
        mapping = await storage.read(
            lambda r: r.get_roaming_object("reservations", "DE", "MSP", "R-77"))
        assert mapping is not None and mapping.data["reservation_id"] == ours
        # The token may charge on its reservation.
        auth = await station.call(call.Authorize(id_tag="RES-1"))
        assert auth.id_tag_info["status"] == "Accepted"
        await accepted(pair, "CANCEL_RESERVATION", {
            "response_url": f"{peer.url}/results/cancel", "reservation_id": "r-77"})
        assert (await result_at(peer, "/results/cancel")).body == {"result": "ACCEPTED"}
        [cancel] = [kw for a, kw in station.received if a == "CancelReservation"]
        assert cancel["reservation_id"] == ours
        # Cancelled once: the id is not known any more.
        await accepted(pair, "CANCEL_RESERVATION", {
            "response_url": f"{peer.url}/results/again", "reservation_id": "R-77"})
        result = await result_at(peer, "/results/again")
        assert result.body["result"] == "UNKNOWN_RESERVATION"
        # An occupied EVSE.
        station.answers["ReserveNow"] = {"status": "Occupied"}
        await accepted(pair, "RESERVE_NOW", {**reserve, "reservation_id": "R-78",
                                             "response_url": f"{peer.url}/results/occ"})
        assert (await result_at(peer, "/results/occ")).body == {"result": "EVSE_OCCUPIED"}
        gone = await storage.read(
            lambda r: r.get_roaming_object("reservations", "DE", "MSP", "R-78"))
        assert gone is None


async def test_reserve_now_again_replaces_the_reservation(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect16(pair.cpo.ocpp_url, "CP-REP") as station:
        await add_station(pair.cpo, "CP-REP")
        await plugged16(station)
        reserve = {"token": ocpi_token("RES-2"), "expiry_date": "2030-01-01T10:00:00Z",
                   "reservation_id": "R-1", "location_id": LOCATION, "evse_uid": "CP-REP-1"}
        await accepted(pair, "RESERVE_NOW", {**reserve, "response_url": f"{peer.url}/r/1"})
        await result_at(peer, "/r/1")
        await accepted(pair, "RESERVE_NOW", {**reserve, "response_url": f"{peer.url}/r/2",
                                             "expiry_date": "2030-01-01T12:00:00Z"})
        assert (await result_at(peer, "/r/2")).body == {"result": "ACCEPTED"}
        first, second = [kw["reservation_id"] for a, kw in station.received
                         if a == "ReserveNow"]
        [cancel] = [kw for a, kw in station.received if a == "CancelReservation"]
        assert cancel["reservation_id"] == first != second
        mapping = await pair.cpo.container.services.storage.read(
            lambda r: r.get_roaming_object("reservations", "DE", "MSP", "R-1"))
        assert mapping is not None and mapping.data["reservation_id"] == second


@pytest.mark.parametrize("version", ["2.0.1"])
async def test_start_session_on_a_2x_station(tmp_path: Path, version: str) -> None:
    async with roaming_cpo(tmp_path) as (pair, peer), \
            connect2x(pair.cpo.ocpp_url, "CS-S2X", version) as station:
        await add_station(pair.cpo, "CS-S2X")
        await station.send("StatusNotification", {
            "timestamp": T0, "connectorStatus": "Available", "evseId": 1, "connectorId": 1})
        await accepted(pair, "START_SESSION", start_body(peer, "v2", evse_uid="CS-S2X-1"))
        assert (await result_at(peer, "/results/v2")).body == {"result": "ACCEPTED"}
        sent = await station.wait_for("RequestStartTransaction")
        assert sent["idToken"]["idToken"] == "APP-1" and sent["evseId"] == 1
        started = await station.send("TransactionEvent", {
            "eventType": "Started", "timestamp": T0, "triggerReason": "RemoteStart",
            "seqNo": 0, "transactionInfo": {"transactionId": "TX-OCPI",
                                            "remoteStartId": sent["remoteStartId"]},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "APP-1", "type": "Central"}})
        assert started["idTokenInfo"]["status"] == "Accepted"


async def test_client_info_put_and_get(tmp_path: Path) -> None:
    async with roaming_cpo(tmp_path) as (pair, _):
        token = await pair.token_emsp_uses()
        info = {"party_id": "ALL", "country_code": "NL", "role": "CPO", "status": "PLANNED",
                "last_updated": "2026-01-01T00:00:00Z"}
        path = "/cpo/2.2.1/clientinfo/NL/ALL"
        answer = await ocpi_call(pair.cpo, "GET", path, token)
        assert answer.status_code == 404
        answer = await ocpi_call(pair.cpo, "PUT", path, token, json=info)
        assert answer.status_code == 201 and answer.json()["status_code"] == 1000
        answer = await ocpi_call(pair.cpo, "PUT", path, token, json={
            **info, "status": "CONNECTED", "last_updated": "2026-01-02T00:00:00Z"})
        assert answer.status_code == 200 and answer.json()["status_code"] == 1000
        answer = await ocpi_call(pair.cpo, "GET", "/cpo/2.2.1/clientinfo/nl/all", token)
        assert answer.json()["data"] == {**info, "status": "CONNECTED",
                                         "last_updated": "2026-01-02T00:00:00Z"}
        # The body must be the object of the URL, and a valid ClientInfo.
        answer = await ocpi_call(pair.cpo, "PUT", "/cpo/2.2.1/clientinfo/NL/XYZ", token,
                                 json=info)
        assert answer.json()["status_code"] == 2001
        answer = await ocpi_call(pair.cpo, "PUT", path, token, json={**info, "status": "GONE"})
        assert answer.json()["status_code"] == 2001
        assert (await ocpi_call(pair.cpo, "GET", path, None)).status_code == 401
