"""Unit tests of volthub.ocpp.v16.outbound: neutral command -> 1.6 call, 1.6 answer -> outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from volthub.domain import commands as c
from volthub.domain.enums import AuthStatus
from volthub.domain.errors import Unsupported
from volthub.domain.model import LocalListEntry
from volthub.ocpp import schemas
from volthub.ocpp.v16 import outbound
from volthub.services.ports import LocalListUpdate, PreparedCommand


def valid_call(action: str, payload: dict[str, Any]) -> None:
    validate = schemas.validator("1.6", action, response=False)
    assert validate is not None, f"no 1.6 request schema for {action}"
    validate(payload)


def valid_answer(action: str, payload: dict[str, Any]) -> None:
    validate = schemas.validator("1.6", action, response=True)
    assert validate is not None, f"no 1.6 response schema for {action}"
    validate(payload)


def to_call(name: str, body: dict[str, Any], **prepared: Any) -> tuple[str, dict[str, Any]]:
    """The 1.6 call for a command body as the API would parse it, checked against the schema."""
    action, payload = outbound.to_call(PreparedCommand(c.parse_command(name, body), **prepared))
    valid_call(action, payload)
    return action, payload


CERT_HASH = {"hashAlgorithm": "SHA384", "issuerNameHash": "aa", "issuerKeyHash": "bb",
             "serialNumber": "01"}

CALLS: list[Any] = [
    pytest.param("remote-start", {"id_token": "TAG1"}, {}, "RemoteStartTransaction",
                 {"idTag": "TAG1"}, id="remote-start"),
    pytest.param("remote-start", {"id_token": "TAG1", "evse_id": 2}, {},
                 "RemoteStartTransaction", {"idTag": "TAG1", "connectorId": 2},
                 id="remote-start-evse"),
    pytest.param("remote-stop", {"transaction_id": 17}, {"transaction_reference": "4711"},
                 "RemoteStopTransaction", {"transactionId": 4711}, id="remote-stop"),
    pytest.param("reset", {"type": "soft"}, {}, "Reset", {"type": "Soft"}, id="reset-soft"),
    pytest.param("reset", {"type": "hard"}, {}, "Reset", {"type": "Hard"}, id="reset-hard"),
    pytest.param("unlock", {"evse_id": 3}, {}, "UnlockConnector", {"connectorId": 3},
                 id="unlock"),
    pytest.param("change-availability", {"operative": False}, {}, "ChangeAvailability",
                 {"connectorId": 0, "type": "Inoperative"}, id="availability-station"),
    pytest.param("change-availability", {"evse_id": 2, "operative": True}, {},
                 "ChangeAvailability", {"connectorId": 2, "type": "Operative"},
                 id="availability-evse"),
    pytest.param("trigger", {"message": "MeterValues", "evse_id": 1}, {}, "TriggerMessage",
                 {"requestedMessage": "MeterValues", "connectorId": 1}, id="trigger"),
    pytest.param("trigger", {"message": "BootNotification"}, {}, "TriggerMessage",
                 {"requestedMessage": "BootNotification"}, id="trigger-station"),
    pytest.param("trigger", {"message": "LogStatusNotification"}, {}, "ExtendedTriggerMessage",
                 {"requestedMessage": "LogStatusNotification"}, id="trigger-extended"),
    pytest.param("trigger", {"message": "SignedFirmwareStatusNotification", "evse_id": 0}, {},
                 "ExtendedTriggerMessage",
                 {"requestedMessage": "FirmwareStatusNotification", "connectorId": 0},
                 id="trigger-extended-connector"),
    pytest.param("get-configuration", {}, {}, "GetConfiguration", {}, id="get-config-all"),
    pytest.param("get-configuration", {"keys": ["A", "B"]}, {}, "GetConfiguration",
                 {"key": ["A", "B"]}, id="get-config-keys"),
    pytest.param("set-configuration", {"key": "HeartbeatInterval", "value": "60"}, {},
                 "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"},
                 id="set-config"),
    pytest.param("clear-cache", {}, {}, "ClearCache", {}, id="clear-cache"),
    pytest.param("data-transfer", {"vendor_id": "com.example"}, {}, "DataTransfer",
                 {"vendorId": "com.example"}, id="data-transfer"),
    pytest.param("data-transfer", {"vendor_id": "v", "message_id": "m", "data": "d"}, {},
                 "DataTransfer", {"vendorId": "v", "messageId": "m", "data": "d"},
                 id="data-transfer-full"),
    pytest.param("update-firmware", {"location": "https://fw/1.bin",
                                     "retrieve_at": "2026-02-01T10:00:00.123456+02:00"}, {},
                 "UpdateFirmware", {"location": "https://fw/1.bin",
                                    "retrieveDate": "2026-02-01T08:00:00.123Z"},
                 id="update-firmware"),
    pytest.param("update-firmware", {"location": "https://fw/1.bin",
                                     "retrieve_at": "2026-02-01T10:00:00Z", "retries": 0,
                                     "retry_interval_s": 30}, {}, "UpdateFirmware",
                 {"location": "https://fw/1.bin", "retrieveDate": "2026-02-01T10:00:00.000Z",
                  "retries": 0, "retryInterval": 30}, id="update-firmware-retries"),
    pytest.param("update-firmware", {"location": "https://fw/2.bin",
                                     "retrieve_at": "2026-02-01T10:00:00Z",
                                     "signing_certificate": "PEM", "signature": "SIG",
                                     "request_id": 0, "retries": 2}, {},
                 "SignedUpdateFirmware",
                 {"requestId": 0, "retries": 2, "firmware": {
                     "location": "https://fw/2.bin", "retrieveDateTime": "2026-02-01T10:00:00.000Z",
                     "signingCertificate": "PEM", "signature": "SIG"}},
                 id="update-firmware-signed"),
    pytest.param("get-diagnostics", {"location": "ftp://d/"}, {}, "GetDiagnostics",
                 {"location": "ftp://d/"}, id="get-diagnostics"),
    pytest.param("get-diagnostics", {"location": "ftp://d/", "start_time": "2026-01-01T00:00:00Z",
                                     "stop_time": "2026-01-01T06:00:00Z", "retries": 1,
                                     "retry_interval_s": 5}, {}, "GetDiagnostics",
                 {"location": "ftp://d/", "startTime": "2026-01-01T00:00:00.000Z",
                  "stopTime": "2026-01-01T06:00:00.000Z", "retries": 1, "retryInterval": 5},
                 id="get-diagnostics-window"),
    pytest.param("get-log", {"log_type": "DiagnosticsLog", "location": "https://l/"}, {},
                 "GetLog", {"logType": "DiagnosticsLog", "requestId": 1,
                            "log": {"remoteLocation": "https://l/"}}, id="get-log"),
    pytest.param("get-log", {"log_type": "SecurityLog", "location": "https://l/",
                             "request_id": 9, "oldest_at": "2026-01-01T00:00:00Z",
                             "latest_at": "2026-01-02T00:00:00Z", "retries": 3,
                             "retry_interval_s": 10}, {},
                 "GetLog", {"logType": "SecurityLog", "requestId": 9, "retries": 3,
                            "retryInterval": 10,
                            "log": {"remoteLocation": "https://l/",
                                    "oldestTimestamp": "2026-01-01T00:00:00.000Z",
                                    "latestTimestamp": "2026-01-02T00:00:00.000Z"}},
                 id="get-log-window"),
    pytest.param("clear-charging-profile", {}, {}, "ClearChargingProfile", {},
                 id="clear-profile-all"),
    pytest.param("clear-charging-profile", {"id": 4, "evse_id": 1, "purpose": "TxProfile",
                                            "stack_level": 2}, {}, "ClearChargingProfile",
                 {"id": 4, "connectorId": 1, "chargingProfilePurpose": "TxProfile",
                  "stackLevel": 2}, id="clear-profile-criteria"),
    pytest.param("get-composite-schedule", {"evse_id": 0, "duration_s": 600}, {},
                 "GetCompositeSchedule", {"connectorId": 0, "duration": 600},
                 id="composite"),
    pytest.param("get-composite-schedule", {"evse_id": 1, "duration_s": 600,
                                            "charging_rate_unit": "A"}, {},
                 "GetCompositeSchedule", {"connectorId": 1, "duration": 600,
                                          "chargingRateUnit": "A"}, id="composite-unit"),
    pytest.param("reserve-now", {"evse_id": 0, "id_token": "TAG1",
                                 "expires_at": "2026-05-05T12:00:00Z"}, {"reservation_id": 12},
                 "ReserveNow", {"connectorId": 0, "expiryDate": "2026-05-05T12:00:00.000Z",
                                "idTag": "TAG1", "reservationId": 12}, id="reserve-now"),
    pytest.param("reserve-now", {"evse_id": 2, "id_token": "TAG1", "parent_id_token": "G",
                                 "expires_at": "2026-05-05T12:00:00Z"}, {"reservation_id": 13},
                 "ReserveNow", {"connectorId": 2, "expiryDate": "2026-05-05T12:00:00.000Z",
                                "idTag": "TAG1", "parentIdTag": "G", "reservationId": 13},
                 id="reserve-now-parent"),
    pytest.param("cancel-reservation", {"reservation_id": 12}, {}, "CancelReservation",
                 {"reservationId": 12}, id="cancel-reservation"),
    pytest.param("get-local-list-version", {}, {}, "GetLocalListVersion", {},
                 id="local-list-version"),
    pytest.param("install-certificate", {"certificate_type": "ManufacturerRootCertificate",
                                         "certificate": "PEM"}, {}, "InstallCertificate",
                 {"certificateType": "ManufacturerRootCertificate", "certificate": "PEM"},
                 id="install-certificate"),
    pytest.param("get-installed-certificate-ids",
                 {"certificate_type": "CentralSystemRootCertificate"}, {},
                 "GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"},
                 id="installed-certificate-ids"),
    pytest.param("delete-certificate", {"certificate": {
                     "hash_algorithm": "SHA384", "issuer_name_hash": "aa", "issuer_key_hash": "bb",
                     "serial_number": "01"}}, {}, "DeleteCertificate",
                 {"certificateHashData": CERT_HASH}, id="delete-certificate"),
    pytest.param("certificate-signed", {"certificate_chain": "CHAIN"}, {}, "CertificateSigned",
                 {"certificateChain": "CHAIN"}, id="certificate-signed"),
]


@pytest.mark.parametrize(("name", "body", "prepared", "action", "payload"), CALLS)
def test_to_call_maps_each_command_to_its_1_6_call(
    name: str, body: dict[str, Any], prepared: dict[str, Any], action: str,
    payload: dict[str, Any],
) -> None:
    assert to_call(name, body, **prepared) == (action, payload)


# Commands that exist only on OCPP 2.x: the 1.6 adapter refuses them (tested below).
V2X_ONLY = {
    "get-variables", "set-variables", "get-base-report", "get-report", "set-network-profile",
    "get-transaction-status", "get-charging-profiles", "set-monitoring-base",
    "set-monitoring-level", "set-variable-monitoring", "clear-variable-monitoring",
    "get-monitoring-report", "customer-information", "set-display-message",
    "get-display-messages", "clear-display-message", "publish-firmware", "unpublish-firmware",
    "cost-updated", "notify-allowed-energy-transfer", "set-der-control",
}


def test_every_command_has_a_1_6_mapping() -> None:
    covered = {p.values[0] for p in CALLS} | {"set-charging-profile", "send-local-list"}
    assert covered | V2X_ONLY == set(c.COMMANDS)
    assert not covered & V2X_ONLY


def test_2x_only_commands_are_refused_on_1_6() -> None:
    bodies: dict[str, dict[str, Any]] = {
        "get-base-report": {}, "set-monitoring-level": {"severity": 3},
        "clear-display-message": {"id": 1}, "unpublish-firmware": {"checksum": "abc"},
        "get-variables": {"variables": [{"component": "A", "variable": "B"}]},
    }
    for name, body in bodies.items():
        with pytest.raises(Unsupported):
            to_call(name, body)


# --- charging profiles -----------------------------------------------------------------------
def profile(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 8, "stack_level": 2, "purpose": "TxProfile", "kind": "Absolute",
        "schedule": {"charging_rate_unit": "W", "periods": [{"start_period_s": 0,
                                                             "limit": 7400}]},
    }
    return {**base, **changes}


def test_charging_profile_maps_every_field() -> None:
    action, payload = to_call("set-charging-profile", {"evse_id": 1, "profile": profile(
        kind="Recurring", recurrency_kind="Weekly", transaction_id=55,
        valid_from="2026-01-01T00:00:00+01:00", valid_to="2026-12-31T23:00:00Z",
        schedule={"charging_rate_unit": "A", "duration_s": 86400,
                  "start_schedule": "2026-01-05T00:00:00Z", "min_charging_rate": 6.5,
                  "periods": [{"start_period_s": 0, "limit": 32, "number_phases": 3},
                              {"start_period_s": 28800, "limit": 10.5, "number_phases": 1}]})})
    assert action == "SetChargingProfile"
    assert payload == {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 8, "transactionId": 55, "stackLevel": 2,
        "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Recurring",
        "recurrencyKind": "Weekly", "validFrom": "2025-12-31T23:00:00.000Z",
        "validTo": "2026-12-31T23:00:00.000Z",
        "chargingSchedule": {
            "duration": 86400, "startSchedule": "2026-01-05T00:00:00.000Z",
            "chargingRateUnit": "A", "minChargingRate": 6.5,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 32.0, "numberPhases": 3},
                {"startPeriod": 28800, "limit": 10.5, "numberPhases": 1}],
        },
    }}


def test_charging_profile_leaves_out_absent_optional_fields() -> None:
    _, payload = to_call("set-charging-profile", {"evse_id": 0, "profile": profile(
        purpose="ChargePointMaxProfile")})
    assert payload == {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 8, "stackLevel": 2, "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"chargingRateUnit": "W",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]},
    }}


def test_charging_profile_limit_is_rounded_to_one_decimal() -> None:
    _, payload = to_call("set-charging-profile", {"evse_id": 1, "profile": profile(
        schedule={"charging_rate_unit": "A", "periods": [{"start_period_s": 0, "limit": 15.96}]})})
    periods = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods == [{"startPeriod": 0, "limit": 16.0}]


def test_charging_profile_transaction_reference_overrides_profile_transaction_id() -> None:
    cmd = c.ChargingProfile.model_validate(profile(transaction_id=1))
    mapped = outbound.charging_profile(cmd, transaction_ref="901")
    assert mapped["transactionId"] == 901


def test_remote_start_carries_a_tx_profile() -> None:
    action, payload = to_call("remote-start", {"id_token": "TAG1", "evse_id": 1,
                                               "charging_profile": profile()})
    assert action == "RemoteStartTransaction"
    assert payload == {"idTag": "TAG1", "connectorId": 1, "chargingProfile": {
        "chargingProfileId": 8, "stackLevel": 2, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"chargingRateUnit": "W",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]},
    }}


# --- local list ------------------------------------------------------------------------------
EXPIRY = datetime(2030, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))


def test_local_list_full_form_carries_id_tag_info_for_every_entry() -> None:
    update = LocalListUpdate(3, "full", [
        LocalListEntry("A", AuthStatus.ACCEPTED, EXPIRY, "G"),
        LocalListEntry("B", AuthStatus.BLOCKED),
        LocalListEntry("C", AuthStatus.EXPIRED, datetime(2020, 1, 1, tzinfo=UTC)),
        LocalListEntry("D", AuthStatus.INVALID),
    ])
    action, payload = to_call("send-local-list", {"update_type": "full"}, local_list=update)
    assert action == "SendLocalList"
    assert payload == {"listVersion": 3, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "A", "idTagInfo": {"status": "Accepted", "expiryDate": "2030-06-01T00:00:00.000Z",
                                     "parentIdTag": "G"}},
        {"idTag": "B", "idTagInfo": {"status": "Blocked"}},
        {"idTag": "C", "idTagInfo": {"status": "Expired",
                                     "expiryDate": "2020-01-01T00:00:00.000Z"}},
        {"idTag": "D", "idTagInfo": {"status": "Invalid"}},
    ]}


def test_local_list_differential_form_removes_entries_by_leaving_out_id_tag_info() -> None:
    update = LocalListUpdate(8, "differential", [LocalListEntry("A", AuthStatus.BLOCKED)],
                             removed=["X", "Y"])
    action, payload = to_call("send-local-list", {"update_type": "differential"},
                              local_list=update)
    assert action == "SendLocalList"
    assert payload == {"listVersion": 8, "updateType": "Differential", "localAuthorizationList": [
        {"idTag": "A", "idTagInfo": {"status": "Blocked"}}, {"idTag": "X"}, {"idTag": "Y"}]}


def test_local_list_empty_full_update_clears_the_list() -> None:
    _, payload = to_call("send-local-list", {}, local_list=LocalListUpdate(2, "full", []))
    assert payload == {"listVersion": 2, "updateType": "Full", "localAuthorizationList": []}


def test_local_list_entry_of_unknown_status_is_sent_invalid() -> None:
    update = LocalListUpdate(1, "full", [LocalListEntry("A", AuthStatus.UNKNOWN)])
    _, payload = to_call("send-local-list", {}, local_list=update)
    assert payload["localAuthorizationList"] == [{"idTag": "A", "idTagInfo": {"status": "Invalid"}}]


# --- what 1.6 cannot do ----------------------------------------------------------------------
@pytest.mark.parametrize("message", ["Authorize", "StartTransaction", "TransactionEvent",
                                     "SignV2GCertificate"])
def test_trigger_of_a_message_1_6_cannot_trigger_is_unsupported(message: str) -> None:
    with pytest.raises(Unsupported, match=message):
        outbound.to_call(PreparedCommand(c.Trigger(message=message)))


@pytest.mark.parametrize("missing", ["signature", "signing_certificate", "request_id"])
def test_signed_firmware_update_needs_signature_certificate_and_request_id(missing: str) -> None:
    body = {"location": "https://fw/2.bin", "retrieve_at": "2026-02-01T10:00:00Z",
            "signing_certificate": "PEM", "signature": "SIG", "request_id": 1}
    del body[missing]
    with pytest.raises(Unsupported, match="signed update"):
        outbound.to_call(PreparedCommand(c.UpdateFirmware.model_validate(body)))


def test_command_unknown_to_1_6_is_unsupported() -> None:
    class Levitate(c.Command):
        pass

    with pytest.raises(Unsupported, match=r"OCPP 1\.6"):
        outbound.to_call(PreparedCommand(Levitate(name="levitate")))


# --- answers ---------------------------------------------------------------------------------
ANSWERS: list[Any] = [
    pytest.param("reset", {"type": "soft"}, "Reset", {"status": "Rejected"}, "Rejected", {},
                 id="reset"),
    pytest.param("unlock", {"evse_id": 1}, "UnlockConnector", {"status": "NotSupported"},
                 "NotSupported", {}, id="unlock"),
    pytest.param("set-configuration", {"key": "K", "value": "V"}, "ChangeConfiguration",
                 {"status": "RebootRequired"}, "RebootRequired", {}, id="change-configuration"),
    pytest.param("get-configuration", {"keys": ["A", "B", "Z"]}, "GetConfiguration",
                 {"configurationKey": [{"key": "A", "readonly": True, "value": "1"},
                                       {"key": "B", "readonly": False}],
                  "unknownKey": ["Z"]},
                 "Accepted", {"configuration": {"A": {"value": "1", "readonly": True},
                                                "B": {"value": None, "readonly": False}},
                              "unknown_keys": ["Z"]}, id="get-configuration"),
    pytest.param("get-configuration", {}, "GetConfiguration", {}, "Accepted",
                 {"configuration": {}, "unknown_keys": []}, id="get-configuration-empty"),
    pytest.param("get-local-list-version", {}, "GetLocalListVersion", {"listVersion": -1},
                 "Accepted", {"list_version": -1}, id="local-list-version"),
    pytest.param("get-diagnostics", {"location": "ftp://d/"}, "GetDiagnostics",
                 {"fileName": "d.zip"}, "Accepted", {"file_name": "d.zip"}, id="diagnostics"),
    pytest.param("get-diagnostics", {"location": "ftp://d/"}, "GetDiagnostics", {}, "NoFile",
                 {"file_name": None}, id="diagnostics-no-file"),
    pytest.param("update-firmware", {"location": "https://fw/1.bin",
                                     "retrieve_at": "2026-02-01T10:00:00Z"},
                 "UpdateFirmware", {}, "Accepted", {}, id="update-firmware"),
    pytest.param("update-firmware", {"location": "https://fw/1.bin",
                                     "retrieve_at": "2026-02-01T10:00:00Z", "signature": "S",
                                     "signing_certificate": "C", "request_id": 1},
                 "SignedUpdateFirmware", {"status": "RevokedCertificate"}, "RevokedCertificate",
                 {}, id="signed-update-firmware"),
    pytest.param("data-transfer", {"vendor_id": "v"}, "DataTransfer",
                 {"status": "Accepted", "data": "x"}, "Accepted", {}, id="data-transfer"),
    pytest.param("get-composite-schedule", {"evse_id": 1, "duration_s": 60},
                 "GetCompositeSchedule", {"status": "Rejected"}, "Rejected", {},
                 id="composite"),
    pytest.param("get-log", {"log_type": "SecurityLog", "location": "https://l/"}, "GetLog",
                 {"status": "AcceptedCanceled", "filename": "l.zip"}, "AcceptedCanceled", {},
                 id="get-log"),
]


@pytest.mark.parametrize(("name", "body", "action", "answer", "status", "data"), ANSWERS)
def test_from_result_extracts_status_and_data(
    name: str, body: dict[str, Any], action: str, answer: dict[str, Any], status: str,
    data: dict[str, Any],
) -> None:
    valid_answer(action, answer)
    prepared = PreparedCommand(c.parse_command(name, body))
    assert outbound.to_call(prepared)[0] == action
    outcome = outbound.from_result(prepared, answer)
    assert outcome.status == status
    assert outcome.response == answer
    assert outcome.data == data
