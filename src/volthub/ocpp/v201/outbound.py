"""Pure translations of version-neutral commands into OCPP 2.0.1/2.1 calls, and answers back."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from volthub.domain import commands as c
from volthub.domain.enums import AuthStatus
from volthub.domain.errors import InvalidInput, Unsupported
from volthub.domain.model import Authorization, JsonObject
from volthub.ocpp.context import drop_none, format_time
from volthub.ocpp.v201.inbound import id_token_info
from volthub.services.ports import CommandOutcome, PreparedCommand

PURPOSES = {"ChargePointMaxProfile": "ChargingStationMaxProfile"}
PURPOSES_201 = {"ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile",
                "ChargingStationExternalConstraints"}
# What a station sends after a TriggerMessage for each requestedMessage (2.0.1 F06).
TRIGGERED_ACTIONS = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignV2G20Certificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}
# Neutral names a 1.6-minded operator uses, mapped to the 2.x trigger names.
TRIGGER_ALIASES = {"SignChargePointCertificate": "SignChargingStationCertificate",
                   "DiagnosticsStatusNotification": "LogStatusNotification"}


def request_id() -> int:
    """A request id for correlating a later notification (requestId is an integer in 2.x)."""
    return random.randint(1, 2**31 - 1)


def _token(value: str, token_type: str = "ISO14443") -> JsonObject:
    return {"idToken": value, "type": token_type}


def _evse(evse_id: int | None, connector_id: int | None) -> JsonObject | None:
    if not evse_id:
        return None
    return drop_none({"id": evse_id, "connectorId": connector_id})


def _require_evse(evse_id: int | None, connector_id: int | None) -> None:
    """A 2.x connector is numbered within its EVSE: without one it would silently mean the
    whole station."""
    if connector_id is not None and not evse_id:
        raise InvalidInput("connector_id needs evse_id (a connector is numbered within its EVSE)")


def _variable(ref: c.VariableRef) -> JsonObject:
    return {
        "component": drop_none({"name": ref.component, "instance": ref.component_instance,
                                "evse": _evse(ref.evse_id, ref.connector_id)}),
        "variable": drop_none({"name": ref.variable, "instance": ref.variable_instance}),
    }


def charging_profile(profile: c.ChargingProfile, version: str,
                     transaction_ref: str | None) -> JsonObject:
    purpose = PURPOSES.get(profile.purpose, profile.purpose)
    if version == "2.0.1":
        if purpose not in PURPOSES_201 or profile.kind == "Dynamic":
            raise Unsupported(f"profile purpose {purpose} / kind {profile.kind} is OCPP 2.1 only")
        if any(p.is_v2x() for p in profile.schedule.periods):
            raise Unsupported("discharge and setpoint limits are OCPP 2.1 only")
    schedule = profile.schedule
    periods = [
        drop_none({
            "startPeriod": p.start_period_s,
            "limit": round(p.limit, 1),
            "numberPhases": p.number_phases,
            "phaseToUse": p.phase_to_use,
            "dischargeLimit": p.discharge_limit,
            "setpoint": p.setpoint,
            "setpointReactive": p.setpoint_reactive,
            "operationMode": p.operation_mode,
        })
        for p in schedule.periods
    ]
    return drop_none({
        "id": profile.id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": profile.kind,
        "recurrencyKind": profile.recurrency_kind,
        "validFrom": format_time(profile.valid_from) if profile.valid_from else None,
        "validTo": format_time(profile.valid_to) if profile.valid_to else None,
        "transactionId": transaction_ref,
        "chargingSchedule": [drop_none({
            "id": profile.id,
            "startSchedule": format_time(schedule.start_schedule) if schedule.start_schedule
            else None,
            "duration": schedule.duration_s,
            "chargingRateUnit": schedule.charging_rate_unit,
            "chargingSchedulePeriod": periods,
            "minChargingRate": schedule.min_charging_rate,
        })],
    })


def _local_list(prepared: PreparedCommand) -> JsonObject:
    update = prepared.local_list
    assert update is not None
    entries: list[JsonObject] = [
        {"idToken": _token(e.id_token, e.type),
         "idTokenInfo": id_token_info(Authorization(AuthStatus(e.status), e.expires_at,
                                                    e.group_id))}
        for e in update.entries
    ]
    # D01/D02: in a differential update an entry without idTokenInfo is removed.
    entries.extend({"idToken": _token(key)} for key in update.removed)
    return drop_none({
        "versionNumber": update.version,
        "updateType": "Full" if update.update_type == "full" else "Differential",
        "localAuthorizationList": entries or None,
    })


def _hash_data(h: c.CertificateHashData) -> JsonObject:
    return {"hashAlgorithm": h.hash_algorithm, "issuerNameHash": h.issuer_name_hash,
            "issuerKeyHash": h.issuer_key_hash, "serialNumber": h.serial_number}


def make_to_call(version: str) -> Callable[[PreparedCommand], tuple[str, JsonObject]]:
    """The command translator of 2.0.1 or 2.1 (they differ in a few enums and V2X fields)."""

    def to_call(prepared: PreparedCommand) -> tuple[str, JsonObject]:
        return _to_call(prepared, version)

    return to_call


def _to_call(prepared: PreparedCommand, version: str) -> tuple[str, JsonObject]:
    cmd = prepared.command
    ref = prepared.transaction_reference
    rid = prepared.request_id if prepared.request_id is not None else request_id()
    match cmd:
        case c.RemoteStart():
            return "RequestStartTransaction", drop_none({
                "idToken": _token(cmd.id_token, prepared.id_token_type or "ISO14443"),
                "evseId": cmd.evse_id,
                "remoteStartId": prepared.remote_start_id or rid,
                "chargingProfile": charging_profile(cmd.charging_profile, version, None)
                if cmd.charging_profile else None,
            })
        case c.RemoteStop():
            return "RequestStopTransaction", {"transactionId": ref}
        case c.Reset():
            return "Reset", drop_none({
                "type": "OnIdle" if cmd.type in ("soft", "on_idle") else "Immediate",
                "evseId": cmd.evse_id,
            })
        case c.Unlock():
            return "UnlockConnector", {"evseId": cmd.evse_id, "connectorId": cmd.connector_id}
        case c.ChangeAvailability():
            _require_evse(cmd.evse_id, cmd.connector_id)
            return "ChangeAvailability", drop_none({
                "operationalStatus": "Operative" if cmd.operative else "Inoperative",
                "evse": _evse(cmd.evse_id, cmd.connector_id),
            })
        case c.Trigger():
            _require_evse(cmd.evse_id, cmd.connector_id)
            return "TriggerMessage", drop_none({
                "requestedMessage": TRIGGER_ALIASES.get(cmd.message, cmd.message),
                "evse": _evse(cmd.evse_id, cmd.connector_id),
            })
        case c.GetVariables():
            return "GetVariables", {"getVariableData": [
                drop_none({**_variable(v), "attributeType": v.attribute_type})
                for v in cmd.variables]}
        case c.SetVariables():
            for v in cmd.variables:
                if v.value is None:
                    raise Unsupported(f"set-variables: {v.key()} has no value")
            return "SetVariables", {"setVariableData": [
                drop_none({**_variable(v), "attributeType": v.attribute_type,
                           "attributeValue": v.value})
                for v in cmd.variables]}
        case c.GetBaseReport():
            return "GetBaseReport", {"requestId": rid, "reportBase": cmd.report_base}
        case c.GetReport():
            return "GetReport", drop_none({
                "requestId": rid,
                "componentCriteria": cmd.component_criteria,
                "componentVariable": [_variable(v) for v in cmd.variables]
                if cmd.variables else None,
            })
        case c.SetNetworkProfile():
            return "SetNetworkProfile", {"configurationSlot": cmd.configuration_slot,
                                         "connectionData": cmd.connection_data}
        case c.ClearCache():
            return "ClearCache", {}
        case c.DataTransfer():
            return "DataTransfer", drop_none({"vendorId": cmd.vendor_id,
                                              "messageId": cmd.message_id, "data": cmd.data})
        case c.UpdateFirmware():
            return "UpdateFirmware", drop_none({
                "requestId": rid,
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
        case c.PublishFirmware():
            return "PublishFirmware", drop_none({
                "location": cmd.location, "checksum": cmd.checksum, "requestId": rid,
                "retries": cmd.retries, "retryInterval": cmd.retry_interval_s,
            })
        case c.UnpublishFirmware():
            return "UnpublishFirmware", {"checksum": cmd.checksum}
        case c.GetDiagnostics():
            # 2.x has no GetDiagnostics: the diagnostics log of GetLog is its successor (N01).
            return "GetLog", drop_none({
                "logType": "DiagnosticsLog", "requestId": rid, "retries": cmd.retries,
                "retryInterval": cmd.retry_interval_s,
                "log": drop_none({
                    "remoteLocation": cmd.location,
                    "oldestTimestamp": format_time(cmd.start_time) if cmd.start_time else None,
                    "latestTimestamp": format_time(cmd.stop_time) if cmd.stop_time else None,
                }),
            })
        case c.GetLog():
            return "GetLog", drop_none({
                "logType": cmd.log_type, "requestId": rid, "retries": cmd.retries,
                "retryInterval": cmd.retry_interval_s,
                "log": drop_none({
                    "remoteLocation": cmd.location,
                    "oldestTimestamp": format_time(cmd.oldest_at) if cmd.oldest_at else None,
                    "latestTimestamp": format_time(cmd.latest_at) if cmd.latest_at else None,
                }),
            })
        case c.SetChargingProfile():
            return "SetChargingProfile", {
                "evseId": cmd.evse_id,
                "chargingProfile": charging_profile(cmd.profile, version, ref),
            }
        case c.ClearChargingProfile():
            criteria = drop_none({
                "evseId": cmd.evse_id,
                "chargingProfilePurpose": PURPOSES.get(cmd.purpose, cmd.purpose)
                if cmd.purpose else None,
                "stackLevel": cmd.stack_level,
            })
            return "ClearChargingProfile", drop_none({
                "chargingProfileId": cmd.id, "chargingProfileCriteria": criteria or None})
        case c.GetChargingProfiles():
            return "GetChargingProfiles", drop_none({
                "requestId": rid,
                "evseId": cmd.evse_id,
                "chargingProfile": drop_none({
                    "chargingProfilePurpose": PURPOSES.get(cmd.purpose, cmd.purpose)
                    if cmd.purpose else None,
                    "stackLevel": cmd.stack_level,
                    "chargingProfileId": cmd.profile_ids,
                    "chargingLimitSource": cmd.limit_sources,
                }),
            })
        case c.GetCompositeSchedule():
            return "GetCompositeSchedule", drop_none({
                "evseId": cmd.evse_id, "duration": cmd.duration_s,
                "chargingRateUnit": cmd.charging_rate_unit,
            })
        case c.ReserveNow():
            return "ReserveNow", drop_none({
                "id": prepared.reservation_id,
                "expiryDateTime": format_time(cmd.expires_at),
                "idToken": _token(cmd.id_token, prepared.id_token_type or "ISO14443"),
                "evseId": cmd.evse_id or None,
                "connectorType": cmd.connector_type,
                "groupIdToken": _token(cmd.parent_id_token, "Central")
                if cmd.parent_id_token else None,
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
            types = cmd.certificate_types or ([cmd.certificate_type] if cmd.certificate_type
                                              else None)
            return "GetInstalledCertificateIds", drop_none({"certificateType": types})
        case c.DeleteCertificate():
            return "DeleteCertificate", {"certificateHashData": _hash_data(cmd.certificate)}
        case c.CertificateSigned():
            return "CertificateSigned", drop_none({"certificateChain": cmd.certificate_chain,
                                                   "certificateType": cmd.certificate_type})
        case c.GetTransactionStatus():
            return "GetTransactionStatus", drop_none({"transactionId": ref})
        case c.SetMonitoringBase():
            return "SetMonitoringBase", {"monitoringBase": cmd.monitoring_base}
        case c.SetMonitoringLevel():
            return "SetMonitoringLevel", {"severity": cmd.severity}
        case c.SetVariableMonitoring():
            return "SetVariableMonitoring", {"setMonitoringData": cmd.monitors}
        case c.ClearVariableMonitoring():
            return "ClearVariableMonitoring", {"id": cmd.ids}
        case c.GetMonitoringReport():
            return "GetMonitoringReport", drop_none({
                "requestId": rid,
                "monitoringCriteria": cmd.criteria,
                "componentVariable": [_variable(v) for v in cmd.variables]
                if cmd.variables else None,
            })
        case c.CustomerInformation():
            return "CustomerInformation", drop_none({
                "requestId": rid, "report": cmd.report, "clear": cmd.clear,
                "idToken": _token(cmd.id_token, prepared.id_token_type or "ISO14443")
                if cmd.id_token else None,
                "customerIdentifier": cmd.customer_identifier,
            })
        case c.SetDisplayMessage():
            return "SetDisplayMessage", {"message": drop_none({
                "id": cmd.id,
                "priority": cmd.priority,
                "state": cmd.state,
                "startDateTime": format_time(cmd.start_at) if cmd.start_at else None,
                "endDateTime": format_time(cmd.end_at) if cmd.end_at else None,
                "transactionId": ref,
                "message": drop_none({"format": cmd.format, "language": cmd.language,
                                      "content": cmd.content}),
            })}
        case c.GetDisplayMessages():
            return "GetDisplayMessages", drop_none({
                "requestId": rid, "id": cmd.ids, "priority": cmd.priority, "state": cmd.state})
        case c.ClearDisplayMessage():
            return "ClearDisplayMessage", {"id": cmd.id}
        case c.CostUpdated():
            return "CostUpdated", {"totalCost": float(cmd.total_cost), "transactionId": ref}
        case c.NotifyAllowedEnergyTransfer() if version == "2.1":
            return "NotifyAllowedEnergyTransfer", {"transactionId": ref,
                                                   "allowedEnergyTransfer": cmd.allowed}
        case c.SetDerControl() if version == "2.1":
            return "SetDERControl", cmd.control
    raise Unsupported(f"command {cmd.name!r} is not available on OCPP {version}")


def _variable_key(item: JsonObject) -> str:
    return f"{item['component']['name']}.{item['variable']['name']}"


def from_result(prepared: PreparedCommand, payload: JsonObject) -> CommandOutcome:
    """The station's status word and neutral data extracted from a 2.x answer."""
    data: dict[str, Any] = {}
    status = payload.get("status")
    cmd = prepared.command
    if isinstance(cmd, c.GetVariables):
        results = payload.get("getVariableResult", [])
        data["variables"] = results
        # The 1.6-shaped view used by get-configuration (CONTRACT.md: Component.Variable keys).
        data["configuration"] = {
            _variable_key(r): {"value": r.get("attributeValue"),
                               "readonly": False, "status": r["attributeStatus"]}
            for r in results if r["attributeStatus"] == "Accepted"
        }
        data["unknown_keys"] = [_variable_key(r) for r in results
                                if r["attributeStatus"] != "Accepted"]
        status = "Accepted"
    elif isinstance(cmd, c.SetVariables):
        results = payload.get("setVariableResult", [])
        data["variables"] = results
        statuses = {r["attributeStatus"] for r in results}
        # One word for the whole call: every item's own status stays in `variables`.
        status = ("RebootRequired" if statuses == {"RebootRequired"}
                  else "Accepted" if statuses <= {"Accepted", "RebootRequired"}
                  else next(iter(sorted(statuses - {"Accepted", "RebootRequired"}))))
    elif isinstance(cmd, c.GetLocalListVersion):
        data["list_version"] = payload.get("versionNumber")
        status = "Accepted"
    elif isinstance(cmd, c.GetTransactionStatus):
        data["messages_in_queue"] = payload.get("messagesInQueue")
        data["ongoing"] = payload.get("ongoingIndicator")
        status = "Accepted"
    elif isinstance(cmd, c.RemoteStart):
        data["remote_start_id"] = prepared.remote_start_id
        if payload.get("transactionId"):
            data["station_transaction_id"] = payload["transactionId"]
    if prepared.request_id is not None:
        data["request_id"] = prepared.request_id
    return CommandOutcome(status=status, response=payload, data=data)


def triggered_action(requested: str) -> str:
    """The action a station sends when asked for `requested` with TriggerMessage."""
    return TRIGGERED_ACTIONS.get(requested, requested)
