"""Pure translations of OCPP 2.0.1/2.1 station payloads into domain values."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import orjson

from volthub.domain.model import (
    Authorization,
    ConnectorState,
    DeviceVariable,
    MeterReading,
    StationIdentity,
)
from volthub.ocpp.context import drop_none, format_time, parse_time
from volthub.services.transaction_events import TransactionEventInput

# Kilo units become their base unit so that every energy reading is in Wh (and power in W),
# as for 1.6; 2.x also carries a power-of-ten multiplier (UnitOfMeasureType.multiplier).
_KILO_UNITS = {"kWh": "Wh", "kW": "W", "kvarh": "varh", "kvar": "var", "kVA": "VA"}


def identity(payload: dict[str, Any]) -> StationIdentity:
    station = payload["chargingStation"]
    modem = station.get("modem") or {}
    return StationIdentity(
        vendor=station.get("vendorName"),
        model=station.get("model"),
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        iccid=modem.get("iccid"),
        imsi=modem.get("imsi"),
    )


def connector_state(station_id: str, payload: dict[str, Any], now: datetime) -> ConnectorState:
    """2.x StatusNotification names EVSE and connector; it has no error code (that is NotifyEvent)."""
    status = payload["connectorStatus"]
    return ConnectorState(
        station_id=station_id,
        evse_id=payload["evseId"],
        connector_id=payload["connectorId"],
        status=status,
        error_code="NoError" if status != "Faulted" else "Faulted",
        status_at=parse_time(payload.get("timestamp")) or now,
    )


def sampled_value(timestamp: datetime, sample: dict[str, Any], default_context: str) -> MeterReading:
    """One SampledValueType with the 2.0.1 defaults made explicit (2.0.1 SampledValueType)."""
    raw = sample["value"]
    unit_of_measure = sample.get("unitOfMeasure") or {}
    unit = unit_of_measure.get("unit", "Wh")
    multiplier = unit_of_measure.get("multiplier", 0)
    scaled = float(raw) * (10 ** multiplier)
    value: float | None = scaled if math.isfinite(scaled) else None
    if unit in _KILO_UNITS:
        unit = _KILO_UNITS[unit]
        value = value * 1000 if value is not None else None
    signed = sample.get("signedMeterValue")
    return MeterReading(
        timestamp=timestamp,
        value=value,
        raw_value=str(raw),
        measurand=sample.get("measurand", "Energy.Active.Import.Register"),
        unit=unit,
        phase=sample.get("phase"),
        location=sample.get("location", "Outlet"),
        context=sample.get("context", default_context),
        format="SignedData" if signed else "Raw",
        # Signed meter values are kept verbatim (signedMeterData, signingMethod, encoding,
        # publicKey) for the driver's own verification (German Eichrecht, 2.0.1 J02).
        signed_data=_signed(signed) if signed else None,
    )


def _signed(signed: dict[str, Any]) -> str:
    return orjson.dumps(signed).decode()


def readings(meter_values: list[dict[str, Any]], default_context: str = "Sample.Periodic"
             ) -> list[MeterReading]:
    out: list[MeterReading] = []
    for meter_value in meter_values:
        timestamp = parse_time(meter_value["timestamp"])
        assert timestamp is not None
        out.extend(sampled_value(timestamp, s, default_context) for s in meter_value["sampledValue"])
    return out


def transaction_event(payload: dict[str, Any]) -> TransactionEventInput:
    info = payload["transactionInfo"]
    evse = payload.get("evse") or {}
    token = payload.get("idToken") or {}
    timestamp = parse_time(payload["timestamp"])
    assert timestamp is not None
    return TransactionEventInput(
        event_type=payload["eventType"],
        reference=info["transactionId"],
        seq_no=payload["seqNo"],
        timestamp=timestamp,
        trigger_reason=payload["triggerReason"],
        offline=bool(payload.get("offline", False)),
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        id_token=token.get("idToken"),
        id_token_type=token.get("type"),
        charging_state=info.get("chargingState"),
        stopped_reason=info.get("stoppedReason"),
        remote_start_id=info.get("remoteStartId"),
        reservation_id=payload.get("reservationId"),
        number_of_phases=payload.get("numberOfPhasesUsed"),
        cable_max_current_a=payload.get("cableMaxCurrent"),
        readings=readings(payload.get("meterValue", []), "Sample.Periodic"),
    )


def id_token_info(auth: Authorization, personal_message: str | None = None,
                  language: str | None = None) -> dict[str, Any]:
    """IdTokenInfoType: Unknown stays Unknown in 2.x (CONTRACT.md); groupIdToken for groups."""
    info: dict[str, Any] = {"status": auth.status.value}
    if auth.expires_at is not None:
        # C10: the station's authorization cache keeps the token no longer than this.
        info["cacheExpiryDateTime"] = format_time(auth.expires_at)
    if auth.group_id is not None:
        info["groupIdToken"] = {"idToken": auth.group_id, "type": "Central"}
    if personal_message:
        info["personalMessage"] = drop_none({"format": "UTF8", "content": personal_message[:512],
                                             "language": language})
    return info


def report_variables(report_data: list[dict[str, Any]], at: datetime) -> list[DeviceVariable]:
    """NotifyReport reportData into device-model rows, one per variable attribute."""
    out: list[DeviceVariable] = []
    for item in report_data:
        component, variable = item["component"], item["variable"]
        evse = component.get("evse") or {}
        characteristics = item.get("variableCharacteristics")
        for attribute in item["variableAttribute"]:
            out.append(DeviceVariable(
                component=component["name"],
                component_instance=component.get("instance"),
                evse_id=evse.get("id"),
                connector_id=evse.get("connectorId"),
                variable=variable["name"],
                variable_instance=variable.get("instance"),
                attribute_type=attribute.get("type", "Actual"),
                value=attribute.get("value"),
                mutability=attribute.get("mutability", "ReadWrite"),
                persistent=attribute.get("persistent", False),
                constant=attribute.get("constant", False),
                characteristics=characteristics,
                updated_at=at,
            ))
    return out

