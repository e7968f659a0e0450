"""Pure translations of version-neutral commands into OCPP 1.6 calls, and of answers back."""

from __future__ import annotations

from typing import Any

from volthub.domain import commands as c
from volthub.domain.enums import AuthStatus
from volthub.domain.errors import Unsupported
from volthub.domain.model import Authorization, JsonObject
from volthub.ocpp.context import drop_none, format_time
from volthub.ocpp.v16.inbound import id_tag_info
from volthub.services.ports import CommandOutcome, PreparedCommand

TRIGGER_MESSAGES = {
    "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
    "Heartbeat", "MeterValues", "StatusNotification",
}
# Security whitepaper §2.2: what ExtendedTriggerMessage adds to TriggerMessage.
EXTENDED_TRIGGER_MESSAGES = {
    "LogStatusNotification", "SignChargePointCertificate", "SignedFirmwareStatusNotification",
}
# Whitepaper §6.14: ExtendedTriggerMessage names SignedFirmwareStatusNotification.req
# "FirmwareStatusNotification" (its MessageTriggerEnumType has no other name for it).
EXTENDED_REQUESTED_MESSAGE = {"SignedFirmwareStatusNotification": "FirmwareStatusNotification"}


V16_PURPOSES = {"ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"}


def charging_profile(profile: c.ChargingProfile, transaction_ref: str | None = None) -> JsonObject:
    if profile.purpose not in V16_PURPOSES or profile.kind == "Dynamic":
        raise Unsupported(f"profile purpose {profile.purpose} / kind {profile.kind} does not "
                          "exist in OCPP 1.6")
    if any(p.is_v2x() for p in profile.schedule.periods):
        raise Unsupported("discharge and setpoint limits are OCPP 2.1 only")
    schedule = profile.schedule
    periods = [
        drop_none({"startPeriod": p.start_period_s, "limit": round(p.limit, 1),
                   "numberPhases": p.number_phases})
        for p in schedule.periods
    ]
    txn = transaction_ref if transaction_ref is not None else profile.transaction_id
    return drop_none({
        "chargingProfileId": profile.id,
        "transactionId": int(txn) if txn is not None else None,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": profile.purpose,
        "chargingProfileKind": profile.kind,
        "recurrencyKind": profile.recurrency_kind,
        "validFrom": format_time(profile.valid_from) if profile.valid_from else None,
        "validTo": format_time(profile.valid_to) if profile.valid_to else None,
        "chargingSchedule": drop_none({
            "duration": schedule.duration_s,
            "startSchedule": format_time(schedule.start_schedule) if schedule.start_schedule
            else None,
            "chargingRateUnit": schedule.charging_rate_unit,
            "chargingSchedulePeriod": periods,
            "minChargingRate": schedule.min_charging_rate,
        }),
    })


def _local_list(prepared: PreparedCommand) -> JsonObject:
    update = prepared.local_list
    assert update is not None
    entries: list[JsonObject] = [
        {"idTag": e.id_token,
         "idTagInfo": id_tag_info(Authorization(AuthStatus(e.status), e.expires_at, e.group_id))}
        for e in update.entries
    ]
    # OCPP 1.6 §5.15: in a differential update an entry without idTagInfo is removed.
    entries.extend({"idTag": key} for key in update.removed)
    return {
        "listVersion": update.version,
        "updateType": "Full" if update.update_type == "full" else "Differential",
        "localAuthorizationList": entries,
    }


def to_call(prepared: PreparedCommand) -> tuple[str, JsonObject]:
    """(action, payload) of the 1.6 call for a prepared command; Unsupported if 1.6 lacks it."""
    cmd = prepared.command
    match cmd:
        case c.RemoteStart():
            return "RemoteStartTransaction", drop_none({
                "idTag": cmd.id_token,
                "connectorId": cmd.evse_id,
                "chargingProfile": charging_profile(cmd.charging_profile)
                if cmd.charging_profile else None,
            })
        case c.RemoteStop():
            return "RemoteStopTransaction", {"transactionId": int(prepared.transaction_reference
                                                                  or 0)}
        case c.Reset() if cmd.evse_id is not None:
            raise Unsupported("OCPP 1.6 resets the whole station only (no evse_id)")
        case c.Reset():
            return "Reset", {"type": "Soft" if cmd.type in ("soft", "on_idle") else "Hard"}
        case c.Unlock():
            return "UnlockConnector", {"connectorId": cmd.evse_id}
        case c.ChangeAvailability():
            return "ChangeAvailability", {
                "connectorId": cmd.evse_id or 0,
                "type": "Operative" if cmd.operative else "Inoperative",
            }
        case c.Trigger() if cmd.message in TRIGGER_MESSAGES:
            return "TriggerMessage", drop_none({"requestedMessage": cmd.message,
                                                "connectorId": cmd.evse_id})
        case c.Trigger() if cmd.message in EXTENDED_TRIGGER_MESSAGES:
            return "ExtendedTriggerMessage", drop_none({
                "requestedMessage": EXTENDED_REQUESTED_MESSAGE.get(cmd.message, cmd.message),
                "connectorId": cmd.evse_id,
            })
        case c.Trigger():
            raise Unsupported(f"message {cmd.message!r} cannot be triggered on OCPP 1.6")
        case c.GetConfiguration():
            return "GetConfiguration", drop_none({"key": cmd.keys})
        case c.SetConfiguration():
            return "ChangeConfiguration", {"key": cmd.key, "value": cmd.value}
        case c.ClearCache():
            return "ClearCache", {}
        case c.DataTransfer():
            return "DataTransfer", drop_none({"vendorId": cmd.vendor_id,
                                              "messageId": cmd.message_id, "data": cmd.data})
        case c.UpdateFirmware() if cmd.signature or cmd.signing_certificate:
            if not (cmd.signature and cmd.signing_certificate and cmd.request_id is not None):
                raise Unsupported("a signed update needs signature, signing_certificate and "
                                  "request_id")
            return "SignedUpdateFirmware", drop_none({
                "requestId": cmd.request_id,
                "retries": cmd.retries,
                "retryInterval": cmd.retry_interval_s,
                "firmware": drop_none({
                    "location": cmd.location,
                    "retrieveDateTime": format_time(cmd.retrieve_at),
                    "installDateTime": format_time(cmd.install_at) if cmd.install_at else None,
                    "signingCertificate": cmd.signing_certificate,
                    "signature": cmd.signature,
                }),
            })
        case c.UpdateFirmware():
            return "UpdateFirmware", drop_none({
                "location": cmd.location,
                "retrieveDate": format_time(cmd.retrieve_at),
                "retries": cmd.retries,
                "retryInterval": cmd.retry_interval_s,
            })
        case c.GetDiagnostics():
            return "GetDiagnostics", drop_none({
                "location": cmd.location,
                "retries": cmd.retries,
                "retryInterval": cmd.retry_interval_s,
                "startTime": format_time(cmd.start_time) if cmd.start_time else None,
                "stopTime": format_time(cmd.stop_time) if cmd.stop_time else None,
            })
        case c.GetLog():
            return "GetLog", drop_none({
                "logType": cmd.log_type,
                "requestId": cmd.request_id if cmd.request_id is not None else 1,
                "retries": cmd.retries,
                "retryInterval": cmd.retry_interval_s,
                "log": drop_none({
                    "remoteLocation": cmd.location,
                    "oldestTimestamp": format_time(cmd.oldest_at) if cmd.oldest_at else None,
                    "latestTimestamp": format_time(cmd.latest_at) if cmd.latest_at else None,
                }),
            })
        case c.SetChargingProfile():
            return "SetChargingProfile", {"connectorId": cmd.evse_id,
                                          "csChargingProfiles": charging_profile(cmd.profile)}
        case c.ClearChargingProfile():
            return "ClearChargingProfile", drop_none({
                "id": cmd.id, "connectorId": cmd.evse_id,
                "chargingProfilePurpose": cmd.purpose, "stackLevel": cmd.stack_level,
            })
        case c.GetCompositeSchedule():
            return "GetCompositeSchedule", drop_none({
                "connectorId": cmd.evse_id, "duration": cmd.duration_s,
                "chargingRateUnit": cmd.charging_rate_unit,
            })
        case c.ReserveNow():
            return "ReserveNow", drop_none({
                "connectorId": cmd.evse_id,
                "expiryDate": format_time(cmd.expires_at),
                "idTag": cmd.id_token,
                "parentIdTag": cmd.parent_id_token,
                "reservationId": prepared.reservation_id,
            })
        case c.CancelReservation():
            return "CancelReservation", {"reservationId": cmd.reservation_id}
        case c.SendLocalList():
            return "SendLocalList", _local_list(prepared)
        case c.GetLocalListVersion():
            return "GetLocalListVersion", {}
        case c.InstallCertificate():
            return "InstallCertificate", {"certificateType": cmd.certificate_type,
                                          "certificate": cmd.certificate}
        case c.GetInstalledCertificateIds():
            types = cmd.certificate_types or []
            wanted = cmd.certificate_type or (types[0] if types else None)
            if wanted is None or len(types) > 1:
                raise Unsupported("OCPP 1.6 asks for exactly one certificate_type")
            return "GetInstalledCertificateIds", {"certificateType": wanted}
        case c.DeleteCertificate():
            h = cmd.certificate
            return "DeleteCertificate", {"certificateHashData": {
                "hashAlgorithm": h.hash_algorithm, "issuerNameHash": h.issuer_name_hash,
                "issuerKeyHash": h.issuer_key_hash, "serialNumber": h.serial_number,
            }}
        case c.CertificateSigned():
            return "CertificateSigned", {"certificateChain": cmd.certificate_chain}
    raise Unsupported(f"command {cmd.name!r} is not available on OCPP 1.6")


def from_result(prepared: PreparedCommand, payload: JsonObject) -> CommandOutcome:
    """The station's status word and neutral data extracted from a 1.6 answer."""
    data: dict[str, Any] = {}
    status = payload.get("status")
    if isinstance(prepared.command, c.GetConfiguration):
        data["configuration"] = {
            item["key"]: {"value": item.get("value"), "readonly": item["readonly"]}
            for item in payload.get("configurationKey", [])
        }
        data["unknown_keys"] = payload.get("unknownKey", [])
        status = "Accepted"
    elif isinstance(prepared.command, c.GetLocalListVersion):
        data["list_version"] = payload.get("listVersion")
        status = "Accepted"
    elif isinstance(prepared.command, c.GetDiagnostics):
        data["file_name"] = payload.get("fileName")
        status = "Accepted" if payload.get("fileName") else "NoFile"
    elif isinstance(prepared.command, c.UpdateFirmware) and status is None:
        status = "Accepted"  # 1.6 UpdateFirmware.conf is empty
    return CommandOutcome(status=status, response=payload, data=data)


def triggered_action(action: str, requested: str) -> str:
    """The action a 1.6 station sends for a (Extended)TriggerMessage's requestedMessage."""
    if requested == "SignChargePointCertificate":
        return "SignCertificate"
    if action == "ExtendedTriggerMessage" and requested == "FirmwareStatusNotification":
        return "SignedFirmwareStatusNotification"  # whitepaper §6.14
    return requested
