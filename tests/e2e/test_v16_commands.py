"""Version-neutral commands and raw OCPP calls to a connected OCPP 1.6 station, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call, call_result

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station16 import TestStation16, connect16
from volthub.domain.model import ChargingProfileRecord, Reservation

CP = "CP1"


@pytest.fixture
async def station(server: RunningServer) -> AsyncIterator[TestStation16]:
    async with connect16(server.ocpp_url, CP) as st:
        yield st


@pytest.fixture
async def slow_server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    """A server that waits only half a second for a station's answer."""
    async with run_server(test_settings(sqlite_url, call_timeout_s=0.5)) as running:
        yield running


async def command(server: RunningServer, name: str, body: dict[str, Any] | None = None,
                  station_id: str = CP) -> httpx.Response:
    return await server.api.post(f"/stations/{station_id}/commands/{name}",
                                 json=body if body is not None else {})


async def station_view(server: RunningServer, station_id: str = CP) -> dict[str, Any]:
    resp = await server.api.get(f"/stations/{station_id}")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def reservation(server: RunningServer, reservation_id: int) -> Reservation:
    storage = server.container.services.storage
    found = await storage.read(lambda r: r.get_reservation(reservation_id))
    assert found is not None
    return found


async def charging_profiles(server: RunningServer) -> list[ChargingProfileRecord]:
    storage = server.container.services.storage
    return await storage.read(lambda r: r.list_charging_profiles(CP))


async def wait_for(predicate: Callable[[], Awaitable[bool]], within_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.02)


async def add_token(server: RunningServer, id_token: str, **fields: Any) -> None:
    resp = await server.api.post("/id-tokens", json={"id_token": id_token, **fields})
    assert resp.status_code == 201, resp.text


# --- one row per command: body, station answer, expected 1.6 call, expected status ----------
CERT_HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "a1b2", "issuerKeyHash": "c3d4",
             "serialNumber": "0f1e"}
COMPOSITE_ANSWER = {
    "status": "Accepted", "connectorId": 1, "scheduleStart": "2026-01-01T00:00:00.000Z",
    "chargingSchedule": {"chargingRateUnit": "W",
                         "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]},
}

SIMPLE_COMMANDS: list[Any] = [
    pytest.param("reset", {"type": "soft"}, None, "Reset", {"type": "Soft"}, "Accepted",
                 id="reset-soft"),
    pytest.param("reset", {"type": "hard"}, {"status": "Rejected"}, "Reset", {"type": "Hard"},
                 "Rejected", id="reset-hard-rejected"),
    pytest.param("unlock", {"evse_id": 2, "connector_id": 1}, {"status": "UnlockFailed"},
                 "UnlockConnector", {"connectorId": 2}, "UnlockFailed", id="unlock"),
    pytest.param("change-availability", {"evse_id": 1, "operative": False},
                 {"status": "Scheduled"}, "ChangeAvailability",
                 {"connectorId": 1, "type": "Inoperative"}, "Scheduled",
                 id="change-availability-evse"),
    pytest.param("change-availability", {"operative": True}, None, "ChangeAvailability",
                 {"connectorId": 0, "type": "Operative"}, "Accepted",
                 id="change-availability-station"),
    pytest.param("trigger", {"message": "StatusNotification", "evse_id": 1}, None,
                 "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1},
                 "Accepted", id="trigger"),
    pytest.param("trigger", {"message": "Heartbeat"}, {"status": "NotImplemented"},
                 "TriggerMessage", {"requestedMessage": "Heartbeat"}, "NotImplemented",
                 id="trigger-not-implemented"),
    pytest.param("trigger", {"message": "SignChargePointCertificate"}, None,
                 "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"},
                 "Accepted", id="trigger-extended"),
    pytest.param("trigger", {"message": "SignedFirmwareStatusNotification"}, None,
                 "ExtendedTriggerMessage", {"requestedMessage": "FirmwareStatusNotification"},
                 "Accepted", id="trigger-extended-signed-firmware-status"),
    pytest.param("clear-cache", {}, {"status": "Rejected"}, "ClearCache", {}, "Rejected",
                 id="clear-cache"),
    pytest.param("data-transfer", {"vendor_id": "com.example", "message_id": "ping",
                                   "data": '{"n": 1}'},
                 {"status": "Accepted", "data": "pong"}, "DataTransfer",
                 {"vendorId": "com.example", "messageId": "ping", "data": '{"n": 1}'},
                 "Accepted", id="data-transfer"),
    pytest.param("data-transfer", {"vendor_id": "com.example"}, {"status": "UnknownVendorId"},
                 "DataTransfer", {"vendorId": "com.example"}, "UnknownVendorId",
                 id="data-transfer-unknown-vendor"),
    pytest.param("update-firmware", {"location": "https://fw.example/1.2.bin",
                                     "retrieve_at": "2026-03-01T02:00:00Z", "retries": 3,
                                     "retry_interval_s": 60},
                 {}, "UpdateFirmware",
                 {"location": "https://fw.example/1.2.bin",
                  "retrieveDate": "2026-03-01T02:00:00.000Z", "retries": 3, "retryInterval": 60},
                 "Accepted", id="update-firmware"),
    pytest.param("update-firmware", {"location": "https://fw.example/1.3.bin",
                                     "retrieve_at": "2026-03-01T02:00:00+01:00",
                                     "install_at": "2026-03-01T03:00:00Z",
                                     "signing_certificate": "-----BEGIN CERTIFICATE-----",
                                     "signature": "c2lnbmF0dXJl", "request_id": 7},
                 {"status": "InvalidCertificate"}, "SignedUpdateFirmware",
                 {"requestId": 7, "firmware": {
                     "location": "https://fw.example/1.3.bin",
                     "retrieveDateTime": "2026-03-01T01:00:00.000Z",
                     "installDateTime": "2026-03-01T03:00:00.000Z",
                     "signingCertificate": "-----BEGIN CERTIFICATE-----",
                     "signature": "c2lnbmF0dXJl"}},
                 "InvalidCertificate", id="update-firmware-signed"),
    pytest.param("get-diagnostics", {"location": "ftp://diag.example/up",
                                     "start_time": "2026-01-01T00:00:00Z",
                                     "stop_time": "2026-01-02T00:00:00Z", "retries": 2,
                                     "retry_interval_s": 30},
                 {"fileName": "diag-1.zip"}, "GetDiagnostics",
                 {"location": "ftp://diag.example/up", "retries": 2, "retryInterval": 30,
                  "startTime": "2026-01-01T00:00:00.000Z",
                  "stopTime": "2026-01-02T00:00:00.000Z"},
                 "Accepted", id="get-diagnostics"),
    pytest.param("get-diagnostics", {"location": "ftp://diag.example/up"}, {}, "GetDiagnostics",
                 {"location": "ftp://diag.example/up"}, "NoFile", id="get-diagnostics-no-file"),
    pytest.param("get-log", {"log_type": "SecurityLog", "location": "https://logs.example/up",
                             "request_id": 5, "oldest_at": "2026-01-01T00:00:00Z",
                             "retries": 1},
                 None, "GetLog",
                 {"logType": "SecurityLog", "requestId": 5, "retries": 1,
                  "log": {"remoteLocation": "https://logs.example/up",
                          "oldestTimestamp": "2026-01-01T00:00:00.000Z"}},
                 "Accepted", id="get-log"),
    pytest.param("get-composite-schedule", {"evse_id": 1, "duration_s": 3600,
                                            "charging_rate_unit": "W"},
                 COMPOSITE_ANSWER, "GetCompositeSchedule",
                 {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"}, "Accepted",
                 id="get-composite-schedule"),
    pytest.param("get-local-list-version", {}, {"listVersion": 7}, "GetLocalListVersion", {},
                 "Accepted", id="get-local-list-version"),
    pytest.param("install-certificate", {"certificate_type": "CentralSystemRootCertificate",
                                         "certificate": "-----BEGIN CERTIFICATE-----\nMIIB"},
                 {"status": "Rejected"}, "InstallCertificate",
                 {"certificateType": "CentralSystemRootCertificate",
                  "certificate": "-----BEGIN CERTIFICATE-----\nMIIB"},
                 "Rejected", id="install-certificate"),
    pytest.param("get-installed-certificate-ids",
                 {"certificate_type": "ManufacturerRootCertificate"},
                 {"status": "Accepted", "certificateHashData": [CERT_HASH]},
                 "GetInstalledCertificateIds", {"certificateType": "ManufacturerRootCertificate"},
                 "Accepted", id="get-installed-certificate-ids"),
    pytest.param("delete-certificate", {"certificate": {
                     "hash_algorithm": "SHA256", "issuer_name_hash": "a1b2",
                     "issuer_key_hash": "c3d4", "serial_number": "0f1e"}},
                 {"status": "NotFound"}, "DeleteCertificate", {"certificateHashData": CERT_HASH},
                 "NotFound", id="delete-certificate"),
    pytest.param("certificate-signed", {"certificate_chain": "-----BEGIN CERTIFICATE-----\nX"},
                 None, "CertificateSigned",
                 {"certificateChain": "-----BEGIN CERTIFICATE-----\nX"}, "Accepted",
                 id="certificate-signed"),
]

DEFAULT_ANSWERS = {"UnlockConnector": {"status": "Unlocked"}, "GetLog": {"status": "Accepted",
                                                                         "filename": "log.zip"}}


@pytest.mark.parametrize(("name", "body", "answer", "action", "payload", "status"),
                         SIMPLE_COMMANDS)
async def test_command_sends_the_1_6_call_and_returns_the_station_answer(
    server: RunningServer, station: TestStation16, name: str, body: dict[str, Any],
    answer: dict[str, Any] | None, action: str, payload: dict[str, Any], status: str,
) -> None:
    if answer is not None:
        station.answers[action] = answer
    resp = await command(server, name, body)
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [(action, payload)]
    expected_response = answer if answer is not None else DEFAULT_ANSWERS.get(
        action, {"status": "Accepted"})
    body = resp.json()
    assert {k: body[k] for k in ("status", "response")} == {"status": status,
                                                            "response": expected_response}


# --- remote start / stop ---------------------------------------------------------------------
async def test_remote_start_sends_id_tag_and_connector(
    server: RunningServer, station: TestStation16
) -> None:
    await add_token(server, "TAG1")
    resp = await command(server, "remote-start", {"id_token": "TAG1", "evse_id": 2})
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [("RemoteStartTransaction", {"idTag": "TAG1", "connectorId": 2})]
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}


async def test_remote_start_with_charging_profile_sends_tx_profile(
    server: RunningServer, station: TestStation16
) -> None:
    await add_token(server, "TAG1")
    station.answers["RemoteStartTransaction"] = {"status": "Rejected"}
    profile = {"id": 3, "stack_level": 0, "purpose": "TxProfile", "kind": "Relative",
               "schedule": {"charging_rate_unit": "A",
                            "periods": [{"start_period_s": 0, "limit": 16}]}}
    resp = await command(server, "remote-start", {"id_token": "TAG1", "charging_profile": profile})
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [("RemoteStartTransaction", {
        "idTag": "TAG1",
        "chargingProfile": {
            "chargingProfileId": 3, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": "A",
                                 "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]},
        },
    })]
    assert resp.json() == {"status": "Rejected", "response": {"status": "Rejected"}}


@pytest.mark.parametrize("token_fields", [
    pytest.param({"status": "Blocked"}, id="blocked"),
    pytest.param({"status": "Invalid"}, id="invalid"),
    pytest.param({"expires_at": "2020-01-01T00:00:00Z"}, id="expired"),
    pytest.param(None, id="unknown"),
])
async def test_remote_start_with_unusable_token_is_409_without_sending(
    server: RunningServer, station: TestStation16, token_fields: dict[str, Any] | None
) -> None:
    if token_fields is not None:
        await add_token(server, "TAG9", **token_fields)
    resp = await command(server, "remote-start", {"id_token": "TAG9", "evse_id": 1})
    assert resp.status_code == 409, resp.text
    assert "id_token" in resp.json()["detail"]
    assert station.raw_received == []


async def _start_transaction(server: RunningServer, station: TestStation16,
                             station_id: str = CP) -> tuple[int, int]:
    """Start a transaction from the station: (our transaction id, the station's id)."""
    start = await station.call(call.StartTransaction(
        connector_id=1, id_tag="TAG1", meter_start=0, timestamp="2026-01-01T10:00:00Z"))
    txns = (await server.api.get("/transactions", params={"station_id": station_id,
                                                          "status": "active"})).json()
    assert txns["total"] == 1
    return int(txns["items"][0]["id"]), int(start.transaction_id)


async def test_remote_stop_sends_the_station_transaction_id(
    server: RunningServer, station: TestStation16
) -> None:
    await add_token(server, "TAG1")
    ours, theirs = await _start_transaction(server, station)
    resp = await command(server, "remote-stop", {"transaction_id": ours})
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [("RemoteStopTransaction", {"transactionId": theirs})]
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}


async def test_remote_stop_of_completed_transaction_is_409_without_sending(
    server: RunningServer, station: TestStation16
) -> None:
    await add_token(server, "TAG1")
    ours, theirs = await _start_transaction(server, station)
    await station.call(call.StopTransaction(meter_stop=100, timestamp="2026-01-01T11:00:00Z",
                                            transaction_id=theirs))
    resp = await command(server, "remote-stop", {"transaction_id": ours})
    assert resp.status_code == 409, resp.text
    assert "transaction_id" in resp.json()["detail"]
    assert station.raw_received == []


async def test_remote_stop_of_unknown_transaction_is_404_without_sending(
    server: RunningServer, station: TestStation16
) -> None:
    resp = await command(server, "remote-stop", {"transaction_id": 424242})
    assert resp.status_code == 404, resp.text
    assert "transaction_id" in resp.json()["detail"]
    assert station.raw_received == []


async def test_remote_stop_of_another_stations_transaction_is_404_without_sending(
    server: RunningServer, station: TestStation16
) -> None:
    await add_token(server, "TAG1")
    async with connect16(server.ocpp_url, "CP2") as other:
        ours, _ = await _start_transaction(server, other, "CP2")
        resp = await command(server, "remote-stop", {"transaction_id": ours})
        assert resp.status_code == 404, resp.text
        assert other.raw_received == []
    assert station.raw_received == []


# --- configuration ---------------------------------------------------------------------------
async def test_get_configuration_stores_the_result_on_the_station(
    server: RunningServer, station: TestStation16
) -> None:
    answer = {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "8"},
        {"key": "SupportedFeatureProfiles", "readonly": True},
    ]}
    station.answers["GetConfiguration"] = answer
    resp = await command(server, "get-configuration")
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [("GetConfiguration", {})]
    assert {k: resp.json()[k] for k in ("status", "response")} == {"status": "Accepted",
                                                                   "response": answer}
    assert (await station_view(server))["configuration"] == {
        "HeartbeatInterval": {"value": "300", "readonly": False},
        "ChargeProfileMaxStackLevel": {"value": "8", "readonly": True},
        "SupportedFeatureProfiles": {"value": None, "readonly": True},
    }


async def test_get_configuration_of_some_keys_updates_only_those(
    server: RunningServer, station: TestStation16
) -> None:
    station.answers["GetConfiguration"] = {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
    ]}
    assert (await command(server, "get-configuration")).status_code == 200
    answer = {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                    "value": "900"}], "unknownKey": ["NoSuchKey"]}
    station.answers["GetConfiguration"] = answer
    resp = await command(server, "get-configuration", {"keys": ["HeartbeatInterval", "NoSuchKey"]})
    assert resp.status_code == 200, resp.text
    assert station.raw_received[-1] == ("GetConfiguration",
                                        {"key": ["HeartbeatInterval", "NoSuchKey"]})
    assert {k: resp.json()[k] for k in ("status", "response")} == {"status": "Accepted",
                                                                   "response": answer}
    assert (await station_view(server))["configuration"] == {
        "HeartbeatInterval": {"value": "900", "readonly": False},
        "MeterValueSampleInterval": {"value": "60", "readonly": False},
    }


async def test_full_get_configuration_replaces_the_stored_configuration(
    server: RunningServer, station: TestStation16
) -> None:
    station.answers["GetConfiguration"] = {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "OldKey", "readonly": False, "value": "x"},
    ]}
    assert (await command(server, "get-configuration")).status_code == 200
    station.answers["GetConfiguration"] = {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "120"}]}
    assert (await command(server, "get-configuration")).status_code == 200
    assert (await station_view(server))["configuration"] == {
        "HeartbeatInterval": {"value": "120", "readonly": False}}


@pytest.mark.parametrize(("answer", "stored"), [
    pytest.param("Accepted", "60", id="accepted"),
    pytest.param("RebootRequired", "60", id="reboot-required"),
    pytest.param("Rejected", "300", id="rejected"),
    pytest.param("NotSupported", "300", id="not-supported"),
])
async def test_set_configuration_updates_the_stored_value_only_when_accepted(
    server: RunningServer, station: TestStation16, answer: str, stored: str
) -> None:
    station.answers["GetConfiguration"] = {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}
    assert (await command(server, "get-configuration")).status_code == 200
    station.answers["ChangeConfiguration"] = {"status": answer}
    resp = await command(server, "set-configuration", {"key": "HeartbeatInterval", "value": "60"})
    assert resp.status_code == 200, resp.text
    assert station.raw_received[-1] == ("ChangeConfiguration",
                                        {"key": "HeartbeatInterval", "value": "60"})
    assert resp.json() == {"status": answer, "response": {"status": answer}}
    assert (await station_view(server))["configuration"] == {
        "HeartbeatInterval": {"value": stored, "readonly": False}}


async def test_set_configuration_of_a_new_key_adds_it(
    server: RunningServer, station: TestStation16
) -> None:
    assert (await command(server, "get-configuration")).status_code == 200
    resp = await command(server, "set-configuration", {"key": "LocalPreAuthorize",
                                                       "value": "true"})
    assert resp.status_code == 200, resp.text
    config = (await station_view(server))["configuration"]
    assert config["LocalPreAuthorize"] == {"value": "true", "readonly": False}
    assert config["HeartbeatInterval"] == {"value": "300", "readonly": False}


# --- reservations ----------------------------------------------------------------------------
async def test_reserve_now_stores_an_accepted_reservation_sent_as_reservation_id(
    server: RunningServer, station: TestStation16
) -> None:
    resp = await command(server, "reserve-now", {
        "evse_id": 1, "id_token": "TAG1", "expires_at": "2030-01-01T12:00:00Z",
        "parent_id_token": "GROUP1"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}
    [(action, payload)] = station.raw_received
    assert action == "ReserveNow"
    rid = payload["reservationId"]
    assert payload == {"connectorId": 1, "expiryDate": "2030-01-01T12:00:00.000Z",
                       "idTag": "TAG1", "parentIdTag": "GROUP1", "reservationId": rid}
    stored = await reservation(server, rid)
    assert (stored.status, stored.station_id, stored.evse_id, stored.id_token,
            stored.parent_id_token) == ("Accepted", CP, 1, "TAG1", "GROUP1")


async def test_reserve_now_refused_by_station_is_stored_rejected(
    server: RunningServer, station: TestStation16
) -> None:
    body = {"evse_id": 1, "id_token": "TAG1", "expires_at": "2030-01-01T12:00:00Z"}
    assert (await command(server, "reserve-now", body)).status_code == 200
    station.answers["ReserveNow"] = {"status": "Occupied"}
    resp = await command(server, "reserve-now", body)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "Occupied", "response": {"status": "Occupied"}}
    first, second = (p["reservationId"] for _, p in station.raw_received)
    assert first != second
    assert "parentIdTag" not in station.raw_received[1][1]
    assert (await reservation(server, first)).status == "Accepted"
    assert (await reservation(server, second)).status == "Rejected"


async def test_cancel_reservation_cancels_the_stored_reservation(
    server: RunningServer, station: TestStation16
) -> None:
    await command(server, "reserve-now", {"evse_id": 1, "id_token": "TAG1",
                                          "expires_at": "2030-01-01T12:00:00Z"})
    rid = station.raw_received[0][1]["reservationId"]
    resp = await command(server, "cancel-reservation", {"reservation_id": rid})
    assert resp.status_code == 200, resp.text
    assert station.raw_received[1] == ("CancelReservation", {"reservationId": rid})
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}
    assert (await reservation(server, rid)).status == "Cancelled"


async def test_cancel_reservation_refused_by_station_keeps_the_reservation(
    server: RunningServer, station: TestStation16
) -> None:
    await command(server, "reserve-now", {"evse_id": 1, "id_token": "TAG1",
                                          "expires_at": "2030-01-01T12:00:00Z"})
    rid = station.raw_received[0][1]["reservationId"]
    station.answers["CancelReservation"] = {"status": "Rejected"}
    resp = await command(server, "cancel-reservation", {"reservation_id": rid})
    assert resp.json() == {"status": "Rejected", "response": {"status": "Rejected"}}
    assert (await reservation(server, rid)).status == "Accepted"


async def test_cancel_unknown_reservation_is_404_without_sending(
    server: RunningServer, station: TestStation16
) -> None:
    resp = await command(server, "cancel-reservation", {"reservation_id": 98765})
    assert resp.status_code == 404, resp.text
    assert "reservation_id" in resp.json()["detail"]
    assert station.raw_received == []


# --- local authorization list ----------------------------------------------------------------
def _by_id_tag(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: str(e["idTag"]))


async def _local_list_tokens(server: RunningServer) -> None:
    await add_token(server, "TAG1", expires_at="2030-06-01T00:00:00Z", group_id="GROUP1")
    await add_token(server, "GROUP1")
    await add_token(server, "TAG2", status="Blocked")
    await add_token(server, "TAG3", expires_at="2020-01-01T00:00:00Z")


async def test_send_local_list_full_sends_every_token_and_bumps_the_version(
    server: RunningServer, station: TestStation16
) -> None:
    await _local_list_tokens(server)
    resp = await command(server, "send-local-list", {"update_type": "full"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}
    [(action, payload)] = station.raw_received
    assert action == "SendLocalList"
    assert payload["listVersion"] == 1
    assert payload["updateType"] == "Full"
    assert _by_id_tag(payload["localAuthorizationList"]) == [
        {"idTag": "GROUP1", "idTagInfo": {"status": "Accepted"}},
        {"idTag": "TAG1", "idTagInfo": {"status": "Accepted",
                                        "expiryDate": "2030-06-01T00:00:00.000Z",
                                        "parentIdTag": "GROUP1"}},
        {"idTag": "TAG2", "idTagInfo": {"status": "Blocked"}},
        {"idTag": "TAG3", "idTagInfo": {"status": "Expired",
                                        "expiryDate": "2020-01-01T00:00:00.000Z"}},
    ]
    assert (await station_view(server))["local_list_version"] == 1
    assert (await command(server, "send-local-list")).status_code == 200
    assert station.raw_received[1][1]["listVersion"] == 2
    assert station.raw_received[1][1]["updateType"] == "Full"
    assert (await station_view(server))["local_list_version"] == 2


async def test_send_local_list_full_includes_tokens_beyond_one_page(
    server: RunningServer, station: TestStation16
) -> None:
    for n in range(105):
        await add_token(server, f"BULK{n:03d}")
    assert (await command(server, "send-local-list")).status_code == 200
    entries = station.raw_received[0][1]["localAuthorizationList"]
    assert sorted(e["idTag"] for e in entries) == [f"BULK{n:03d}" for n in range(105)]


async def test_send_local_list_refused_by_station_keeps_the_version(
    server: RunningServer, station: TestStation16
) -> None:
    await add_token(server, "TAG1")
    station.answers["SendLocalList"] = {"status": "VersionMismatch"}
    resp = await command(server, "send-local-list")
    assert resp.json() == {"status": "VersionMismatch", "response": {"status": "VersionMismatch"}}
    assert (await station_view(server))["local_list_version"] == 0
    station.answers["SendLocalList"] = {"status": "Accepted"}
    assert (await command(server, "send-local-list")).status_code == 200
    assert [p["listVersion"] for _, p in station.raw_received] == [1, 1]
    assert (await station_view(server))["local_list_version"] == 1


async def test_send_local_list_differential_sends_only_changes_and_removals(
    server: RunningServer, station: TestStation16
) -> None:
    await _local_list_tokens(server)
    assert (await command(server, "send-local-list", {"update_type": "full"})).status_code == 200
    assert (await server.api.patch("/id-tokens/TAG2", json={"status": "Accepted"})
            ).status_code == 200
    assert (await server.api.delete("/id-tokens/TAG3")).status_code == 204
    await add_token(server, "TAG4", group_id="GROUP1")

    resp = await command(server, "send-local-list", {"update_type": "differential"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}
    action, payload = station.raw_received[1]
    assert action == "SendLocalList"
    assert payload["listVersion"] == 2
    assert payload["updateType"] == "Differential"
    assert _by_id_tag(payload["localAuthorizationList"]) == [
        {"idTag": "TAG2", "idTagInfo": {"status": "Accepted"}},
        {"idTag": "TAG3"},
        {"idTag": "TAG4", "idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP1"}},
    ]
    assert (await station_view(server))["local_list_version"] == 2

    # Nothing changed since: the next differential update carries no entry at all.
    assert (await command(server, "send-local-list", {"update_type": "differential"})
            ).status_code == 200
    assert station.raw_received[2][1] == {"listVersion": 3, "updateType": "Differential",
                                          "localAuthorizationList": []}


# --- charging profiles -----------------------------------------------------------------------
PROFILE = {
    "id": 5, "stack_level": 1, "purpose": "TxDefaultProfile", "kind": "Absolute",
    "valid_from": "2026-01-01T00:00:00Z", "valid_to": "2027-01-01T00:00:00Z",
    "schedule": {"charging_rate_unit": "A", "duration_s": 7200,
                 "start_schedule": "2026-01-01T00:00:00Z", "min_charging_rate": 6,
                 "periods": [{"start_period_s": 0, "limit": 16, "number_phases": 3},
                             {"start_period_s": 3600, "limit": 8.5}]},
}
PROFILE_16 = {
    "chargingProfileId": 5, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute", "validFrom": "2026-01-01T00:00:00.000Z",
    "validTo": "2027-01-01T00:00:00.000Z",
    "chargingSchedule": {
        "duration": 7200, "startSchedule": "2026-01-01T00:00:00.000Z", "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                                   {"startPeriod": 3600, "limit": 8.5}],
        "minChargingRate": 6.0,
    },
}
MAX_PROFILE = {"id": 6, "stack_level": 0, "purpose": "ChargePointMaxProfile", "kind": "Recurring",
               "recurrency_kind": "Daily",
               "schedule": {"charging_rate_unit": "W",
                            "periods": [{"start_period_s": 0, "limit": 22000}]}}


async def test_set_charging_profile_sends_the_profile_and_stores_it(
    server: RunningServer, station: TestStation16
) -> None:
    resp = await command(server, "set-charging-profile", {"evse_id": 1, "profile": PROFILE})
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [("SetChargingProfile",
                                     {"connectorId": 1, "csChargingProfiles": PROFILE_16})]
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}
    [stored] = await charging_profiles(server)
    assert (stored.profile_id, stored.evse_id, stored.stack_level, stored.purpose) == (
        5, 1, 1, "TxDefaultProfile")
    assert stored.profile["schedule"]["periods"][1]["limit"] == 8.5


async def test_set_charging_profile_with_same_id_replaces_the_stored_one(
    server: RunningServer, station: TestStation16
) -> None:
    await command(server, "set-charging-profile", {"evse_id": 1, "profile": PROFILE})
    await command(server, "set-charging-profile",
                  {"evse_id": 2, "profile": {**PROFILE, "stack_level": 4}})
    [stored] = await charging_profiles(server)
    assert (stored.profile_id, stored.evse_id, stored.stack_level) == (5, 2, 4)


async def test_set_charging_profile_refused_by_station_is_not_stored(
    server: RunningServer, station: TestStation16
) -> None:
    station.answers["SetChargingProfile"] = {"status": "Rejected"}
    resp = await command(server, "set-charging-profile", {"evse_id": 0, "profile": MAX_PROFILE})
    assert resp.json() == {"status": "Rejected", "response": {"status": "Rejected"}}
    assert station.raw_received[0][1]["csChargingProfiles"]["recurrencyKind"] == "Daily"
    assert await charging_profiles(server) == []


async def test_clear_charging_profile_by_id_removes_the_stored_profile(
    server: RunningServer, station: TestStation16
) -> None:
    await command(server, "set-charging-profile", {"evse_id": 1, "profile": PROFILE})
    await command(server, "set-charging-profile", {"evse_id": 0, "profile": MAX_PROFILE})
    resp = await command(server, "clear-charging-profile", {"id": 5})
    assert resp.status_code == 200, resp.text
    assert station.raw_received[-1] == ("ClearChargingProfile", {"id": 5})
    assert resp.json() == {"status": "Accepted", "response": {"status": "Accepted"}}
    assert [p.profile_id for p in await charging_profiles(server)] == [6]


async def test_clear_charging_profile_by_criteria_removes_only_matching_profiles(
    server: RunningServer, station: TestStation16
) -> None:
    await command(server, "set-charging-profile", {"evse_id": 1, "profile": PROFILE})
    await command(server, "set-charging-profile", {"evse_id": 0, "profile": MAX_PROFILE})
    resp = await command(server, "clear-charging-profile",
                         {"evse_id": 1, "purpose": "TxDefaultProfile", "stack_level": 1})
    assert resp.status_code == 200, resp.text
    assert station.raw_received[-1] == ("ClearChargingProfile", {
        "connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1})
    assert [p.profile_id for p in await charging_profiles(server)] == [6]


async def test_clear_charging_profile_unknown_to_station_keeps_stored_profiles(
    server: RunningServer, station: TestStation16
) -> None:
    await command(server, "set-charging-profile", {"evse_id": 1, "profile": PROFILE})
    station.answers["ClearChargingProfile"] = {"status": "Unknown"}
    resp = await command(server, "clear-charging-profile", {"id": 5})
    assert resp.json() == {"status": "Unknown", "response": {"status": "Unknown"}}
    assert [p.profile_id for p in await charging_profiles(server)] == [5]


# --- refusals before sending -----------------------------------------------------------------
async def test_unknown_station_is_404(server: RunningServer) -> None:
    resp = await command(server, "reset", {"type": "soft"}, station_id="NOPE")
    assert resp.status_code == 404, resp.text
    assert "NOPE" in resp.json()["detail"]


async def test_unknown_command_name_is_404(server: RunningServer, station: TestStation16) -> None:
    resp = await command(server, "self-destruct", {})
    assert resp.status_code == 404, resp.text
    assert "self-destruct" in resp.json()["detail"]
    assert station.raw_received == []


async def test_station_never_connected_is_409(server: RunningServer) -> None:
    assert (await server.api.post("/stations", json={"id": "CP9"})).status_code == 201
    resp = await command(server, "reset", {"type": "soft"}, station_id="CP9")
    assert resp.status_code == 409, resp.text
    assert "not connected" in resp.json()["detail"]


async def test_station_that_disconnected_is_409(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP8"):
        pass

    async def disconnected() -> bool:
        return (await station_view(server, "CP8"))["connected"] is False

    await wait_for(disconnected)
    resp = await command(server, "clear-cache", station_id="CP8")
    assert resp.status_code == 409, resp.text


@pytest.mark.parametrize(("name", "body", "field"), [
    pytest.param("reset", {"type": "medium"}, "type", id="reset-type"),
    pytest.param("reset", {}, "type", id="reset-missing-type"),
    pytest.param("reset", {"type": "soft", "force": True}, "force", id="reset-unknown-field"),
    pytest.param("unlock", {"evse_id": 0}, "evse_id", id="unlock-evse-0"),
    pytest.param("set-configuration", {"key": "K" * 51, "value": "1"}, "key", id="config-key"),
    pytest.param("reserve-now", {"evse_id": 1, "id_token": "T", "expires_at": "tomorrow"},
                 "expires_at", id="reserve-expiry"),
    pytest.param("send-local-list", {"update_type": "partial"}, "update_type",
                 id="local-list-type"),
    pytest.param("set-charging-profile",
                 {"evse_id": 1, "profile": {**PROFILE, "schedule": {
                     "charging_rate_unit": "A", "periods": []}}},
                 "profile.schedule.periods", id="profile-periods"),
])
async def test_invalid_body_is_422_naming_the_field(
    server: RunningServer, station: TestStation16, name: str, body: dict[str, Any], field: str
) -> None:
    resp = await command(server, name, body)
    assert resp.status_code == 422, resp.text
    assert field in resp.json()["detail"]
    assert station.raw_received == []


async def test_invalid_body_is_422_before_the_station_is_looked_up(server: RunningServer) -> None:
    assert (await server.api.post("/stations", json={"id": "CP9"})).status_code == 201
    for station_id in ("NOPE", "CP9"):
        resp = await command(server, "reset", {"type": "medium"}, station_id=station_id)
        assert resp.status_code == 422, resp.text
        assert "type" in resp.json()["detail"]


async def test_trigger_of_a_message_1_6_cannot_trigger_is_422_without_sending(
    server: RunningServer, station: TestStation16
) -> None:
    resp = await command(server, "trigger", {"message": "Authorize"})
    assert resp.status_code == 422, resp.text
    assert "Authorize" in resp.json()["detail"]
    assert station.raw_received == []


async def test_incomplete_signed_firmware_update_is_422_without_sending(
    server: RunningServer, station: TestStation16
) -> None:
    resp = await command(server, "update-firmware", {
        "location": "https://fw.example/1.3.bin", "retrieve_at": "2026-03-01T02:00:00Z",
        "signature": "c2lnbmF0dXJl"})
    assert resp.status_code == 422, resp.text
    assert "request_id" in resp.json()["detail"]
    assert station.raw_received == []


@pytest.mark.parametrize(("name", "body", "field"), [
    pytest.param("remote-start", {"id_token": "T" * 25}, "idTag", id="id-tag-over-20"),
    pytest.param("install-certificate", {"certificate_type": "V2GRootCertificate",
                                         "certificate": "PEM"}, "certificateType",
                 id="certificate-type"),
])
async def test_command_whose_1_6_payload_is_invalid_is_422_without_sending(
    server: RunningServer, station: TestStation16, name: str, body: dict[str, Any], field: str
) -> None:
    await add_token(server, "T" * 25)
    resp = await command(server, name, body)
    assert resp.status_code == 422, resp.text
    assert field in resp.json()["detail"]
    assert station.raw_received == []


# --- the station's side goes wrong -----------------------------------------------------------
async def test_station_that_does_not_answer_in_time_is_504(slow_server: RunningServer) -> None:
    async with connect16(slow_server.ocpp_url, CP) as station:
        station.delays["Reset"] = 1.5
        resp = await command(slow_server, "reset", {"type": "soft"})
        assert resp.status_code == 504, resp.text
        assert "Reset" in resp.json()["detail"]
        assert station.raw_received == [("Reset", {"type": "Soft"})]


async def test_late_answer_is_not_taken_for_the_next_calls_answer(
    slow_server: RunningServer,
) -> None:
    async with connect16(slow_server.ocpp_url, CP) as station:
        release = asyncio.Event()

        async def held_reset(**kwargs: Any) -> Any:
            await release.wait()
            return call_result.Reset(status="Accepted")

        station.route_map["Reset"]["_on_action"] = held_reset
        station.answers["ClearCache"] = {"status": "Rejected"}
        assert (await command(slow_server, "reset", {"type": "hard"})).status_code == 504
        clear = asyncio.create_task(command(slow_server, "clear-cache"))

        async def clear_cache_sent() -> bool:
            log = (await slow_server.api.get(f"/stations/{CP}/messages",
                                             params={"limit": 5})).json()["items"]
            return any(m["action"] == "ClearCache" and m["direction"] == "out" for m in log)

        await wait_for(clear_cache_sent)
        release.set()  # the stale Reset answer now arrives while ClearCache is outstanding
        resp = await clear
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"status": "Rejected", "response": {"status": "Rejected"}}


async def test_reservation_is_rejected_when_the_station_does_not_answer(
    slow_server: RunningServer,
) -> None:
    async with connect16(slow_server.ocpp_url, CP) as station:
        station.delays["ReserveNow"] = 1.5
        resp = await command(slow_server, "reserve-now", {
            "evse_id": 1, "id_token": "TAG1", "expires_at": "2030-01-01T12:00:00Z"})
        assert resp.status_code == 504, resp.text
        rid = station.raw_received[0][1]["reservationId"]
        assert (await reservation(slow_server, rid)).status == "Rejected"


async def test_station_answering_with_callerror_is_502(
    server: RunningServer, station: TestStation16
) -> None:
    station.errors["Reset"] = NotSupportedError(description="no resets here")
    resp = await command(server, "reset", {"type": "soft"})
    assert resp.status_code == 502, resp.text
    detail = resp.json()["detail"]
    assert "NotSupported" in detail
    assert "Reset" in detail


async def test_reservation_is_rejected_when_the_station_answers_callerror(
    server: RunningServer, station: TestStation16
) -> None:
    station.errors["ReserveNow"] = NotSupportedError(description="no reservations")
    resp = await command(server, "reserve-now", {"evse_id": 1, "id_token": "TAG1",
                                                 "expires_at": "2030-01-01T12:00:00Z"})
    assert resp.status_code == 502, resp.text
    rid = station.raw_received[0][1]["reservationId"]
    assert (await reservation(server, rid)).status == "Rejected"


async def test_concurrent_commands_are_sent_one_at_a_time_and_all_answered(
    server: RunningServer, station: TestStation16
) -> None:
    station.concurrent = True  # a second call sent before the first is answered would overlap
    station.delays = {action: 0.05 for action in (
        "Reset", "ClearCache", "GetLocalListVersion", "DataTransfer", "UnlockConnector",
        "ChangeAvailability")}
    station.answers["GetLocalListVersion"] = {"listVersion": 3}
    requests = [
        ("reset", {"type": "soft"}, "Accepted"),
        ("clear-cache", {}, "Accepted"),
        ("get-local-list-version", {}, "Accepted"),
        ("data-transfer", {"vendor_id": "v"}, "Accepted"),
        ("unlock", {"evse_id": 1}, "Unlocked"),
        ("change-availability", {"operative": True}, "Accepted"),
    ]
    responses = await asyncio.gather(*(command(server, n, b) for n, b, _ in requests))
    assert [r.status_code for r in responses] == [200] * len(requests)
    assert [r.json()["status"] for r in responses] == [s for _, _, s in requests]
    assert len(station.raw_received) == len(requests)
    assert station.max_in_flight == 1


# --- raw OCPP route --------------------------------------------------------------------------
async def test_raw_call_passes_the_payload_verbatim_and_returns_the_answer(
    server: RunningServer, station: TestStation16
) -> None:
    payload = {"vendorId": "com.example", "messageId": "m1", "data": "x=1"}
    station.answers["DataTransfer"] = {"status": "Accepted", "data": "y=2"}
    resp = await server.api.post(f"/stations/{CP}/ocpp/DataTransfer", json=payload)
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [("DataTransfer", payload)]
    assert resp.json() == {"status": "Accepted", "data": "y=2"}


async def test_raw_call_returns_a_structured_answer_unchanged(
    server: RunningServer, station: TestStation16
) -> None:
    answer = {"configurationKey": [{"key": "A", "readonly": True, "value": "1"}],
              "unknownKey": ["B"]}
    station.answers["GetConfiguration"] = answer
    resp = await server.api.post(f"/stations/{CP}/ocpp/GetConfiguration", json={"key": ["A", "B"]})
    assert resp.status_code == 200, resp.text
    assert station.raw_received == [("GetConfiguration", {"key": ["A", "B"]})]
    assert resp.json() == answer


@pytest.mark.parametrize(("action", "payload"), [
    pytest.param("Reset", {"type": "Medium"}, id="invalid-payload"),
    pytest.param("Reset", {}, id="missing-field"),
    pytest.param("Heartbeat", {}, id="station-to-csms-action"),
    pytest.param("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"},
                 id="station-to-csms-boot"),
    pytest.param("SelfDestruct", {}, id="unknown-action"),
])
async def test_raw_call_is_422_for_invalid_payload_or_wrong_direction(
    server: RunningServer, station: TestStation16, action: str, payload: dict[str, Any]
) -> None:
    resp = await server.api.post(f"/stations/{CP}/ocpp/{action}", json=payload)
    assert resp.status_code == 422, resp.text
    assert action in resp.json()["detail"]
    assert station.raw_received == []


async def test_raw_call_to_unknown_or_disconnected_station(server: RunningServer) -> None:
    resp = await server.api.post("/stations/NOPE/ocpp/Reset", json={"type": "Soft"})
    assert resp.status_code == 404, resp.text
    assert (await server.api.post("/stations", json={"id": "CP9"})).status_code == 201
    resp = await server.api.post("/stations/CP9/ocpp/Reset", json={"type": "Soft"})
    assert resp.status_code == 409, resp.text
