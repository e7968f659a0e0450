"""OCPP 2.0.1 and 2.1 authorization, local list, remote control, availability, reservations,
firmware and data transfer against a real server, and commands a version does not have.

Named after the OCA test cases (2.0.1 Part 6, CSMS side) where one exists, else after the use
case (D: local list, H: reservation have no CSMS test cases there); each runs for 2.0.1 and 2.1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.server import RunningServer
from tests.support.station2x import VERSIONS, TestStation2x, connect2x
from tests.support.station16 import connect16

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T10:30:00Z"
SIGNING_CERTIFICATE = ("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFirmwareSigner\n"
                       "-----END CERTIFICATE-----\n")


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


# helpers ---------------------------------------------------------------------------------
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


async def reservations(server: RunningServer, station_id: str) -> dict[int, dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/reservations")
    assert response.status_code == 200, response.text
    return {r["id"]: r for r in response.json()["items"]}


async def reports(server: RunningServer, station_id: str, action: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/reports", params={"action": action})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def transactions(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get("/transactions", params={"station_id": station_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def token(value: str, kind: str = "ISO14443") -> dict[str, str]:
    return {"idToken": value, "type": kind}


def event(event_type: str, seq_no: int, trigger: str, transaction_id: str = "TX-1",
          **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"eventType": event_type, "timestamp": T0, "triggerReason": trigger,
                               "seqNo": seq_no,
                               "transactionInfo": {"transactionId": transaction_id}}
    info = extra.pop("info", None)
    if info:
        payload["transactionInfo"].update(info)
    payload.update(extra)
    return payload


def status(evse_id: int, connector_id: int, state: str) -> dict[str, Any]:
    return {"timestamp": T0, "connectorStatus": state, "evseId": evse_id,
            "connectorId": connector_id}


def instant(text: str) -> datetime:
    """An OCPP or API timestamp, which must be UTC with a Z."""
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def timed(payload: dict[str, Any], *fields: str) -> dict[str, Any]:
    """`payload` with its timestamp `fields` parsed, to compare instants, not notations."""
    return {k: instant(v) if k in fields else v for k, v in payload.items()}


def csr_pem(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TestVendor"),
    ])).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()


async def messages_with(server: RunningServer, station_id: str, action: str
                        ) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/messages", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [m for m in response.json()["items"] if m["action"] == action]


async def start_transaction(station: TestStation2x, transaction_id: str = "TX-1",
                            evse_id: int = 1, id_token: str | None = None,
                            **extra: Any) -> dict[str, Any]:
    if id_token is not None:
        extra["idToken"] = token(id_token)
    return await station.send("TransactionEvent", event(
        "Started", 0, "Authorized" if id_token else "CablePluggedIn", transaction_id,
        evse={"id": evse_id, "connectorId": 1}, **extra))


# C authorization -------------------------------------------------------------------------
async def test_tc_c_08_authorization_cache_expiry(server: RunningServer, version: str) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    await server.api.post("/id-tokens", json={"id_token": "CACHED",
                                              "expires_at": expires.isoformat()})
    await server.api.post("/id-tokens", json={"id_token": "FOREVER"})
    async with connect2x(server.ocpp_url, "CS-CACHE", version) as station:
        cached = await station.send("Authorize", {"idToken": token("CACHED")})
        forever = await station.send("Authorize", {"idToken": token("FOREVER")})
        await start_transaction(station)
        # C12 / TC_C_08: a cached token presented while a transaction is starting.
        updated = await station.send("TransactionEvent", event(
            "Updated", 1, "Authorized", idToken=token("CACHED")))
    # C10: the station may cache the token no longer than its expiry.
    for answer in (cached, updated):
        assert timed(answer["idTokenInfo"], "cacheExpiryDateTime") == {
            "status": "Accepted", "cacheExpiryDateTime": expires}
    assert forever["idTokenInfo"] == {"status": "Accepted"}


async def test_tc_c_06_group_blocked_blocks_member(server: RunningServer, version: str) -> None:
    await server.api.post("/id-tokens", json={"id_token": "FLEET", "type": "Central"})
    await server.api.post("/id-tokens", json={"id_token": "DRIVER-1", "group_id": "FLEET"})
    async with connect2x(server.ocpp_url, "CS-GROUPBLK", version) as station:
        before = await station.send("Authorize", {"idToken": token("DRIVER-1")})
        patched = await server.api.patch("/id-tokens/FLEET", json={"status": "Blocked"})
        assert patched.status_code == 200, patched.text
        after = await station.send("Authorize", {"idToken": token("DRIVER-1")})
        started = await start_transaction(station, id_token="DRIVER-1")
    assert before["idTokenInfo"]["status"] == "Accepted"
    assert after["idTokenInfo"]["status"] == "Blocked"
    assert after["idTokenInfo"]["groupIdToken"] == {"idToken": "FLEET", "type": "Central"}
    assert started["idTokenInfo"]["status"] == "Blocked"
    [txn] = await transactions(server, "CS-GROUPBLK")
    assert txn["id_token"] == "DRIVER-1"


async def test_tc_c_07_expired_token(server: RunningServer, version: str) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    await server.api.post("/id-tokens", json={"id_token": "OLD", "expires_at": past.isoformat()})
    await server.api.post("/id-tokens", json={"id_token": "MARKED", "status": "Expired"})
    await server.api.post("/id-tokens", json={"id_token": "OLD-GROUP",
                                              "expires_at": past.isoformat()})
    await server.api.post("/id-tokens", json={"id_token": "MEMBER", "group_id": "OLD-GROUP"})
    async with connect2x(server.ocpp_url, "CS-EXPIRED", version) as station:
        answers = {name: (await station.send("Authorize", {"idToken": token(name)}))
                   for name in ("OLD", "MARKED", "MEMBER")}
    assert {name: a["idTokenInfo"]["status"] for name, a in answers.items()} == {
        "OLD": "Expired", "MARKED": "Expired", "MEMBER": "Expired"}


async def test_tc_c_39_authorization_by_group_id(server: RunningServer, version: str) -> None:
    await server.api.post("/id-tokens", json={"id_token": "TEAM", "type": "Central"})
    await server.api.post("/id-tokens", json={"id_token": "ALICE", "group_id": "TEAM"})
    await server.api.post("/id-tokens", json={"id_token": "BOB", "group_id": "TEAM"})
    team = {"idToken": "TEAM", "type": "Central"}
    async with connect2x(server.ocpp_url, "CS-GROUP", version) as station:
        first = await station.send("Authorize", {"idToken": token("ALICE")})
        started = await start_transaction(station, id_token="ALICE")
        second = await station.send("Authorize", {"idToken": token("BOB")})
        stop = await station.send("TransactionEvent", event(
            "Updated", 1, "StopAuthorized", idToken=token("BOB")))
        unknown = await station.send("TransactionEvent", event(
            "Updated", 2, "Authorized", idToken=token("NOBODY")))  # TC_C_20
    for answer in (first, started, second, stop):
        assert answer["idTokenInfo"]["status"] == "Accepted"
        assert answer["idTokenInfo"]["groupIdToken"] == team
    assert unknown["idTokenInfo"]["status"] == "Unknown"


# D local authorization list -----------------------------------------------------------------
async def test_d01_d02_send_local_list_full_then_differential(server: RunningServer,
                                                              version: str) -> None:
    expires = datetime(2030, 6, 1, tzinfo=UTC)
    await server.api.post("/id-tokens", json={"id_token": "GROUP", "type": "Central"})
    await server.api.post("/id-tokens", json={"id_token": "ANNA", "group_id": "GROUP",
                                              "expires_at": expires.isoformat()})
    await server.api.post("/id-tokens", json={"id_token": "BEN"})
    await server.api.post("/id-tokens", json={"id_token": "CARL", "status": "Blocked"})
    async with connect2x(server.ocpp_url, "CS-LIST", version) as station:
        full = await command(server, "CS-LIST", "send-local-list", {"update_type": "full"})
        assert full["status"] == "Accepted"
        sent = station.got("SendLocalList")[-1]
        assert (sent["versionNumber"], sent["updateType"]) == (1, "Full")
        entries = {e["idToken"]["idToken"]: e for e in sent["localAuthorizationList"]}
        assert set(entries) == {"GROUP", "ANNA", "BEN", "CARL"}
        assert timed(entries["ANNA"]["idTokenInfo"], "cacheExpiryDateTime") == {
            "status": "Accepted", "cacheExpiryDateTime": expires,
            "groupIdToken": {"idToken": "GROUP", "type": "Central"}}
        assert entries["CARL"]["idTokenInfo"]["status"] == "Blocked"
        assert (await station_view(server, "CS-LIST"))["local_list_version"] == 1

        await server.api.post("/id-tokens", json={"id_token": "DORA"})          # added
        await server.api.patch("/id-tokens/BEN", json={"status": "Blocked"})    # changed
        deleted = await server.api.delete("/id-tokens/CARL")                    # removed
        assert deleted.status_code == 204
        diff = await command(server, "CS-LIST", "send-local-list",
                             {"update_type": "differential"})
        assert diff["status"] == "Accepted"
        sent = station.got("SendLocalList")[-1]
        assert (sent["versionNumber"], sent["updateType"]) == (2, "Differential")
        entries = {e["idToken"]["idToken"]: e for e in sent["localAuthorizationList"]}
        assert set(entries) == {"BEN", "DORA", "CARL"}  # ANNA and GROUP did not change
        assert entries["BEN"]["idTokenInfo"] == {"status": "Blocked"}
        assert entries["DORA"]["idTokenInfo"] == {"status": "Accepted"}
        assert "idTokenInfo" not in entries["CARL"]  # D02: no idTokenInfo = remove it
        assert (await station_view(server, "CS-LIST"))["local_list_version"] == 2

        nothing = await command(server, "CS-LIST", "send-local-list",
                                {"update_type": "differential"})
        assert nothing["status"] == "Accepted"
        sent = station.got("SendLocalList")[-1]
        assert sent == {"versionNumber": 3, "updateType": "Differential"}
    assert (await station_view(server, "CS-LIST"))["local_list_version"] == 3


async def test_d01_refused_local_list_keeps_version(server: RunningServer, version: str) -> None:
    await server.api.post("/id-tokens", json={"id_token": "EVA"})
    async with connect2x(server.ocpp_url, "CS-LISTFAIL", version) as station:
        station.answers["SendLocalList"] = {"status": "VersionMismatch"}
        answer = await command(server, "CS-LISTFAIL", "send-local-list",
                               {"update_type": "differential"})
        assert answer["status"] == "VersionMismatch"
        assert (await station_view(server, "CS-LISTFAIL"))["local_list_version"] == 0
        station.answers["SendLocalList"] = {"status": "Accepted"}
        await command(server, "CS-LISTFAIL", "send-local-list", {"update_type": "full"})
        assert station.got("SendLocalList")[-1]["versionNumber"] == 1  # the refused one again
    assert (await station_view(server, "CS-LISTFAIL"))["local_list_version"] == 1


async def test_d03_get_local_list_version(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-LISTVER", version) as station:
        station.answers["GetLocalListVersion"] = {"versionNumber": 7}
        answer = await command(server, "CS-LISTVER", "get-local-list-version")
        assert answer == {"status": "Accepted", "response": {"versionNumber": 7},
                          "data": {"list_version": 7}}
        assert await station.wait_for("GetLocalListVersion") == {}


# F remote control ---------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["Unlocked", "UnlockFailed"])
async def test_tc_f_06_unlock_connector(server: RunningServer, version: str,
                                        outcome: str) -> None:
    async with connect2x(server.ocpp_url, "CS-UNLOCK", version) as station:
        station.answers["UnlockConnector"] = {"status": outcome}
        answer = await command(server, "CS-UNLOCK", "unlock", {"evse_id": 2, "connector_id": 3})
        assert answer["status"] == outcome
        await command(server, "CS-UNLOCK", "unlock", {"evse_id": 1})
        assert station.got("UnlockConnector") == [{"evseId": 2, "connectorId": 3},
                                                  {"evseId": 1, "connectorId": 1}]
        bad = await server.api.post("/stations/CS-UNLOCK/commands/unlock", json={"evse_id": 0})
        assert bad.status_code == 422
        assert "evse_id" in bad.json()["detail"]


@pytest.mark.parametrize(("evse_id", "expected"), [
    (1, {"requestedMessage": "MeterValues", "evse": {"id": 1}}),   # TC_F_11
    (None, {"requestedMessage": "MeterValues"}),                   # TC_F_12
], ids=["f11-specific-evse", "f12-all-evse"])
async def test_tc_f_11_f_12_trigger_meter_values(server: RunningServer, version: str,
                                                 evse_id: int | None,
                                                 expected: dict[str, Any]) -> None:
    async with connect2x(server.ocpp_url, "CS-TRIGMV", version) as station:
        body: dict[str, Any] = {"message": "MeterValues"}
        if evse_id is not None:
            body["evse_id"] = evse_id
        answer = await command(server, "CS-TRIGMV", "trigger", body)
        assert answer["status"] == "Accepted"
        assert await station.wait_for("TriggerMessage") == expected
        reply = await station.send("MeterValues", {"evseId": evse_id or 0, "meterValue": [{
            "timestamp": T0, "sampledValue": [{
                "value": 1234.5, "context": "Trigger",
                "measurand": "Energy.Active.Import.Register"}]}]})
        assert reply == {}
    [answered] = [m for m in await messages_with(server, "CS-TRIGMV", "MeterValues")
                  if m["direction"] == "out"]
    assert answered["message_type"] == "CALLRESULT"


async def test_tc_f_23_trigger_status_notification(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-TRIGSN", version) as station:
        answer = await command(server, "CS-TRIGSN", "trigger", {
            "message": "StatusNotification", "evse_id": 2, "connector_id": 1})
        assert answer["status"] == "Accepted"
        assert await station.wait_for("TriggerMessage") == {
            "requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}}
        await station.send("StatusNotification", status(2, 1, "Available"))
    [evse] = (await station_view(server, "CS-TRIGSN"))["evses"]
    assert evse["evse_id"] == 2
    assert evse["connectors"][0]["status"] == "Available"


@pytest.mark.parametrize("message", ["SignChargingStationCertificate",
                                     "SignChargePointCertificate"])
async def test_f06_trigger_sign_charging_station_certificate(server: RunningServer, version: str,
                                                             message: str) -> None:
    async with connect2x(server.ocpp_url, "CS-TRIGCERT", version) as station:
        answer = await command(server, "CS-TRIGCERT", "trigger", {"message": message})
        assert answer["status"] == "Accepted"
        # The 1.6 name is the 2.x SignChargingStationCertificate.
        assert await station.wait_for("TriggerMessage") == {
            "requestedMessage": "SignChargingStationCertificate"}
        signed = await station.send("SignCertificate", {
            "csr": csr_pem("CS-TRIGCERT"), "certificateType": "ChargingStationCertificate"})
        assert signed["status"] == "Accepted"


async def test_tc_f_27_trigger_not_implemented_and_unknown(server: RunningServer,
                                                           version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-TRIGNI", version) as station:
        station.answers["TriggerMessage"] = {"status": "NotImplemented"}
        answer = await command(server, "CS-TRIGNI", "trigger",
                               {"message": "FirmwareStatusNotification"})
        assert answer["status"] == "NotImplemented"
        unknown = await server.api.post("/stations/CS-TRIGNI/commands/trigger",
                                        json={"message": "NoSuchMessage"})
        assert unknown.status_code == 422
        assert "TriggerMessage" in unknown.json()["detail"]
        assert len(station.got("TriggerMessage")) == 1


async def test_f04_remote_stop_completed_or_unknown_transaction(server: RunningServer,
                                                                version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-STOP", version) as station:
        await start_transaction(station, "TX-DONE")
        await station.send("TransactionEvent", event(
            "Ended", 1, "EVCommunicationLost", "TX-DONE",
            info={"stoppedReason": "EVDisconnected"}))
        [txn] = await transactions(server, "CS-STOP")
        assert txn["status"] == "completed"
        done = await server.api.post("/stations/CS-STOP/commands/remote-stop",
                                     json={"transaction_id": txn["id"]})
        assert done.status_code == 409
        assert "transaction_id" in done.json()["detail"]
        unknown = await server.api.post("/stations/CS-STOP/commands/remote-stop",
                                        json={"transaction_id": txn["id"] + 1000})
        assert unknown.status_code == 404
        assert "transaction_id" in unknown.json()["detail"]
        assert station.got("RequestStopTransaction") == []
    async with connect2x(server.ocpp_url, "CS-OTHER", version):
        foreign = await server.api.post("/stations/CS-OTHER/commands/remote-stop",
                                        json={"transaction_id": txn["id"]})
        assert foreign.status_code == 404


# G availability -----------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "expected"), [
    ({"operative": False}, {"operationalStatus": "Inoperative"}),                      # G_05
    ({"operative": True, "evse_id": 0}, {"operationalStatus": "Operative"}),           # G_06
    ({"operative": False, "evse_id": 1},
     {"operationalStatus": "Inoperative", "evse": {"id": 1}}),                         # G_03
    ({"operative": True, "evse_id": 1},
     {"operationalStatus": "Operative", "evse": {"id": 1}}),                           # G_04
    ({"operative": False, "evse_id": 1, "connector_id": 2},
     {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 2}}),       # G_07
], ids=["g05-station", "g06-station-evse0", "g03-evse", "g04-evse", "g07-connector"])
async def test_tc_g_03_to_g_07_change_availability(server: RunningServer, version: str,
                                                   body: dict[str, Any],
                                                   expected: dict[str, Any]) -> None:
    async with connect2x(server.ocpp_url, "CS-AVAIL", version) as station:
        answer = await command(server, "CS-AVAIL", "change-availability", body)
        assert answer["status"] == "Accepted"
        assert await station.wait_for("ChangeAvailability") == expected


async def test_tc_g_05_station_inoperative_status_stored(server: RunningServer,
                                                         version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-UNAVAIL", version) as station:
        for evse_id in (1, 2):
            await station.send("StatusNotification", status(evse_id, 1, "Available"))
        station.answers["ChangeAvailability"] = {"status": "Scheduled"}  # TC_G_14
        answer = await command(server, "CS-UNAVAIL", "change-availability", {"operative": False})
        assert answer["status"] == "Scheduled"
        for evse_id in (1, 2):
            await station.send("StatusNotification", status(evse_id, 1, "Unavailable"))
    body = await station_view(server, "CS-UNAVAIL")
    assert {e["evse_id"]: e["connectors"][0]["status"] for e in body["evses"]} == {
        1: "Unavailable", 2: "Unavailable"}


async def test_g_change_availability_connector_needs_evse(server: RunningServer,
                                                          version: str) -> None:
    """A connector alone names no connector in 2.x: refused rather than sent station-wide."""
    async with connect2x(server.ocpp_url, "CS-AVAILBAD", version) as station:
        response = await server.api.post("/stations/CS-AVAILBAD/commands/change-availability",
                                          json={"operative": False, "connector_id": 2})
        assert response.status_code == 422
        assert "evse_id" in response.json()["detail"]
        assert station.got("ChangeAvailability") == []


# H reservations -----------------------------------------------------------------------------
async def test_h01_reserve_now_specific_evse_and_cancel(server: RunningServer,
                                                        version: str) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    await server.api.post("/id-tokens", json={"id_token": "RES-USER", "group_id": "FLEET"})
    async with connect2x(server.ocpp_url, "CS-RES", version) as station:
        answer = await command(server, "CS-RES", "reserve-now", {
            "evse_id": 1, "id_token": "RES-USER", "expires_at": expires.isoformat(),
            "parent_id_token": "FLEET"})
        assert answer["status"] == "Accepted"
        sent = await station.wait_for("ReserveNow")
        reservation_id = sent["id"]
        assert timed(sent, "expiryDateTime") == {"id": reservation_id, "expiryDateTime": expires,
                        "idToken": token("RES-USER"), "evseId": 1,
                        "groupIdToken": {"idToken": "FLEET", "type": "Central"}}
        listed = (await reservations(server, "CS-RES"))[reservation_id]
        assert (listed["status"], listed["evse_id"], listed["id_token"],
                listed["parent_id_token"], instant(listed["expires_at"])) == (
            "Accepted", 1, "RES-USER", "FLEET", expires)

        cancelled = await command(server, "CS-RES", "cancel-reservation",
                                  {"reservation_id": reservation_id})
        assert cancelled["status"] == "Accepted"
        assert station.got("CancelReservation") == [{"reservationId": reservation_id}]
        assert (await reservations(server, "CS-RES"))[reservation_id]["status"] == "Cancelled"
        unknown = await server.api.post("/stations/CS-RES/commands/cancel-reservation",
                                        json={"reservation_id": reservation_id + 1000})
        assert unknown.status_code == 404


async def test_h01_reserve_any_evse_by_connector_type(server: RunningServer,
                                                      version: str) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)
    async with connect2x(server.ocpp_url, "CS-RESANY", version) as station:
        answer = await command(server, "CS-RESANY", "reserve-now", {
            "evse_id": 0, "connector_type": "cCCS2", "id_token": "ANYONE",
            "expires_at": expires.isoformat()})
        assert answer["status"] == "Accepted"
        sent = await station.wait_for("ReserveNow")
        assert "evseId" not in sent and "groupIdToken" not in sent
        assert sent["connectorType"] == "cCCS2"
        assert instant(sent["expiryDateTime"]) == expires
        station.answers["ReserveNow"] = {"status": "Occupied"}
        refused = await command(server, "CS-RESANY", "reserve-now", {
            "evse_id": 2, "id_token": "ANYONE", "expires_at": expires.isoformat()})
        assert refused["status"] == "Occupied"
        second = station.got("ReserveNow")[-1]["id"]
    listed = await reservations(server, "CS-RESANY")
    assert (listed[sent["id"]]["evse_id"], listed[sent["id"]]["status"]) == (0, "Accepted")
    assert listed[second]["status"] == "Rejected"


async def test_h05_reservation_status_update_and_use(server: RunningServer, version: str) -> None:
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await server.api.post("/id-tokens", json={"id_token": "HOLDER"})
    async with connect2x(server.ocpp_url, "CS-RESUPD", version) as station:
        ids = []
        for evse_id in (1, 2, 3):
            await command(server, "CS-RESUPD", "reserve-now", {
                "evse_id": evse_id, "id_token": "HOLDER", "expires_at": expires})
            ids.append(station.got("ReserveNow")[-1]["id"])
        expired, removed, used = ids
        assert await station.send("ReservationStatusUpdate", {
            "reservationId": expired, "reservationUpdateStatus": "Expired"}) == {}
        await station.send("ReservationStatusUpdate", {
            "reservationId": removed, "reservationUpdateStatus": "Removed"})
        await station.send("ReservationStatusUpdate", {  # not ours: answered, ignored
            "reservationId": used + 1000, "reservationUpdateStatus": "Expired"})
        await start_transaction(station, "TX-RES", evse_id=3, id_token="HOLDER",
                                reservationId=used)
    listed = await reservations(server, "CS-RESUPD")
    assert {r: listed[r]["status"] for r in ids} == {
        expired: "Expired", removed: "Cancelled", used: "Used"}
    [txn] = await transactions(server, "CS-RESUPD")
    assert txn["evse_id"] == 3


# L firmware -------------------------------------------------------------------------------
async def test_tc_l_01_secure_firmware_update_installed(server: RunningServer,
                                                        version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-FW", version) as station:
        answer = await command(server, "CS-FW", "update-firmware", {
            "location": "https://fw.example.com/fw-2.0.bin", "retrieve_at": T0,
            "install_at": T1, "retries": 3, "retry_interval_s": 60, "request_id": 77,
            "signing_certificate": SIGNING_CERTIFICATE, "signature": "c2lnbmF0dXJl"})
        assert answer["status"] == "Accepted"
        sent = await station.wait_for("UpdateFirmware")
        assert {k: v for k, v in sent.items() if k != "firmware"} == {
            "requestId": 77, "retries": 3, "retryInterval": 60}
        assert timed(sent["firmware"], "retrieveDateTime", "installDateTime") == {
            "location": "https://fw.example.com/fw-2.0.bin",
            "retrieveDateTime": instant(T0), "installDateTime": instant(T1),
            "signingCertificate": SIGNING_CERTIFICATE, "signature": "c2lnbmF0dXJl"}
        for step in ("Downloading", "Downloaded", "SignatureVerified", "Installing",
                     "InstallRebooting"):
            await station.send("FirmwareStatusNotification", {"status": step, "requestId": 77})
        assert (await station_view(server, "CS-FW"))["firmware_status"] == "InstallRebooting"
    async with connect2x(server.ocpp_url, "CS-FW", version, boot=False) as station:
        booted = await station.boot(reason="FirmwareUpdate")
        assert booted["status"] == "Accepted"
        await station.send("FirmwareStatusNotification", {"status": "Installed", "requestId": 77})
    body = await station_view(server, "CS-FW")
    assert (body["firmware_status"], body["boot_reason"]) == ("Installed", "FirmwareUpdate")
    kept = await reports(server, "CS-FW", "FirmwareStatusNotification")
    assert [r["payload"]["status"] for r in reversed(kept)] == [
        "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting",
        "Installed"]
    assert {r["request_id"] for r in kept} == {77}


async def test_tc_l_05_l_06_firmware_refused_or_invalid_signature(server: RunningServer,
                                                                  version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-FWBAD", version) as station:
        station.answers["UpdateFirmware"] = {"status": "InvalidCertificate"}
        refused = await command(server, "CS-FWBAD", "update-firmware", {
            "location": "https://fw.example.com/fw.bin", "retrieve_at": T0,
            "signing_certificate": SIGNING_CERTIFICATE, "signature": "c2ln"})
        assert refused["status"] == "InvalidCertificate"  # TC_L_05

        station.answers["UpdateFirmware"] = {"status": "Accepted"}
        plain = await command(server, "CS-FWBAD", "update-firmware", {
            "location": "https://fw.example.com/fw.bin", "retrieve_at": T0})
        assert plain["status"] == "Accepted"
        sent = station.got("UpdateFirmware")[-1]
        assert timed(sent["firmware"], "retrieveDateTime") == {
            "location": "https://fw.example.com/fw.bin", "retrieveDateTime": instant(T0)}
        request_id = sent["requestId"]
        assert isinstance(request_id, int)
        for step in ("Downloading", "Downloaded", "InvalidSignature"):  # TC_L_06
            await station.send("FirmwareStatusNotification",
                               {"status": step, "requestId": request_id})
    assert (await station_view(server, "CS-FWBAD"))["firmware_status"] == "InvalidSignature"
    kept = await reports(server, "CS-FWBAD", "FirmwareStatusNotification")
    assert {r["request_id"] for r in kept} == {request_id}


async def test_l03_l04_publish_and_unpublish_firmware(server: RunningServer,
                                                      version: str) -> None:
    checksum = "d41d8cd98f00b204e9800998ecf8427e"
    async with connect2x(server.ocpp_url, "CS-PUB", version) as station:
        answer = await command(server, "CS-PUB", "publish-firmware", {
            "location": "https://fw.example.com/fw.bin", "checksum": checksum,
            "request_id": 9, "retries": 2, "retry_interval_s": 30})
        assert answer["status"] == "Accepted"
        assert await station.wait_for("PublishFirmware") == {
            "location": "https://fw.example.com/fw.bin", "checksum": checksum,
            "requestId": 9, "retries": 2, "retryInterval": 30}
        for step in ("Downloading", "Downloaded", "ChecksumVerified"):
            await station.send("PublishFirmwareStatusNotification",
                               {"status": step, "requestId": 9})
        await station.send("PublishFirmwareStatusNotification", {
            "status": "Published", "requestId": 9,
            "location": ["http://192.168.1.10/fw.bin", "https://lc.local/fw.bin"]})
        assert (await station_view(server, "CS-PUB"))["publish_firmware_status"] == "Published"

        station.answers["UnpublishFirmware"] = {"status": "Unpublished"}
        removed = await command(server, "CS-PUB", "unpublish-firmware", {"checksum": checksum})
        assert removed == {"status": "Unpublished", "response": {"status": "Unpublished"}}
        assert await station.wait_for("UnpublishFirmware") == {"checksum": checksum}
        await station.send("PublishFirmwareStatusNotification", {"status": "Idle"})
    assert (await station_view(server, "CS-PUB"))["publish_firmware_status"] == "Idle"
    kept = await reports(server, "CS-PUB", "PublishFirmwareStatusNotification")
    published = next(r for r in kept if r["payload"]["status"] == "Published")
    assert published["request_id"] == 9
    assert published["payload"]["location"] == ["http://192.168.1.10/fw.bin",
                                                "https://lc.local/fw.bin"]


# P data transfer ----------------------------------------------------------------------------
async def test_tc_p_02_data_transfer_to_csms_unknown_vendor(server: RunningServer,
                                                            version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-DT", version) as station:
        answer = await station.send("DataTransfer", {"vendorId": "com.example.unknown",
                                                     "messageId": "Hello", "data": "x"})
    assert answer["status"] == "UnknownVendorId"


async def test_tc_p_03_custom_data_is_accepted(server: RunningServer, version: str) -> None:
    custom = {"vendorId": "com.example", "cableColour": "orange"}
    async with connect2x(server.ocpp_url, "CS-CUSTOM", version) as station:
        await station.send("StatusNotification", {**status(1, 1, "Available"),
                                                  "customData": custom})
        started = await station.send("TransactionEvent", event(
            "Started", 0, "CablePluggedIn", "TX-CUSTOM", evse={"id": 1, "connectorId": 1},
            customData=custom, info={"customData": custom}))
    assert "idTokenInfo" not in started
    assert (await station_view(server, "CS-CUSTOM"))["evses"][0]["connectors"][0]["status"] == (
        "Available")
    [txn] = await transactions(server, "CS-CUSTOM")
    assert txn["station_transaction_id"] == "TX-CUSTOM"


async def test_p01_data_transfer_command(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-DTCMD", version) as station:
        station.answers["DataTransfer"] = {"status": "Accepted", "data": "pong"}
        answer = await command(server, "CS-DTCMD", "data-transfer", {
            "vendor_id": "com.example", "message_id": "Ping", "data": "hello"})
        assert answer == {"status": "Accepted",
                          "response": {"status": "Accepted", "data": "pong"}}
        station.answers["DataTransfer"] = {"status": "UnknownVendorId"}
        unknown = await command(server, "CS-DTCMD", "data-transfer",
                                {"vendor_id": "org.nobody"})
        assert unknown["status"] == "UnknownVendorId"
        assert station.got("DataTransfer") == [
            {"vendorId": "com.example", "messageId": "Ping", "data": "hello"},
            {"vendorId": "org.nobody"}]
        missing = await server.api.post("/stations/CS-DTCMD/commands/data-transfer", json={})
        assert missing.status_code == 422
        assert "vendor_id" in missing.json()["detail"]


# commands a version does not have -----------------------------------------------------------
async def test_commands_missing_from_ocpp16_are_422(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CS-OLD") as station:
        for name, body in [
            ("publish-firmware", {"location": "https://fw.example.com/fw.bin",
                                  "checksum": "d41d8cd98f00b204e9800998ecf8427e"}),
            ("unpublish-firmware", {"checksum": "d41d8cd98f00b204e9800998ecf8427e"}),
            ("get-base-report", {}),
            ("set-network-profile", {"configuration_slot": 1, "connection_data": {}}),
        ]:
            response = await server.api.post(f"/stations/CS-OLD/commands/{name}", json=body)
            assert response.status_code == 422, name
            assert "1.6" in response.json()["detail"], name
        assert station.raw_received == []


async def test_ocpp21_only_command(server: RunningServer, version: str) -> None:
    async with connect2x(server.ocpp_url, "CS-V2X", version) as station:
        await start_transaction(station, "TX-V2X")
        [txn] = await transactions(server, "CS-V2X")
        response = await server.api.post(
            "/stations/CS-V2X/commands/notify-allowed-energy-transfer",
            json={"transaction_id": txn["id"], "allowed": ["AC_BPT", "AC_single_phase"]})
        if version == "2.0.1":
            assert response.status_code == 422
            assert "2.0.1" in response.json()["detail"]
            assert station.got("NotifyAllowedEnergyTransfer") == []
        else:
            assert response.status_code == 200, response.text
            assert await station.wait_for("NotifyAllowedEnergyTransfer") == {
                "transactionId": "TX-V2X",
                "allowedEnergyTransfer": ["AC_BPT", "AC_single_phase"]}
