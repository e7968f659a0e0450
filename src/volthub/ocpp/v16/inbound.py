"""Pure translations of OCPP 1.6 station payloads into domain values."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from volthub.domain.enums import AuthStatus
from volthub.domain.model import Authorization, ConnectorState, MeterReading, StationIdentity
from volthub.ocpp.context import format_time, parse_time

# Kilo units become their base unit so that every energy reading is in Wh (and power in W).
_KILO_UNITS = {"kWh": "Wh", "kW": "W", "kvarh": "varh", "kvar": "var", "kVA": "VA"}


def identity(payload: dict[str, Any]) -> StationIdentity:
    return StationIdentity(
        vendor=payload.get("chargePointVendor"),
        model=payload.get("chargePointModel"),
        serial_number=payload.get("chargePointSerialNumber"),
        firmware_version=payload.get("firmwareVersion"),
        charge_box_serial_number=payload.get("chargeBoxSerialNumber"),
        iccid=payload.get("iccid"),
        imsi=payload.get("imsi"),
        meter_type=payload.get("meterType"),
        meter_serial_number=payload.get("meterSerialNumber"),
    )


def connector_state(station_id: str, payload: dict[str, Any], now: datetime) -> ConnectorState:
    """1.6 connectorId N is EVSE N / connector 1; connectorId 0 is the station itself."""
    connector_id = payload["connectorId"]
    return ConnectorState(
        station_id=station_id,
        evse_id=connector_id,
        connector_id=1 if connector_id else 0,
        status=payload["status"],
        error_code=payload["errorCode"],
        info=payload.get("info"),
        vendor_id=payload.get("vendorId"),
        vendor_error_code=payload.get("vendorErrorCode"),
        status_at=parse_time(payload.get("timestamp")) or now,
    )


def sampled_value(timestamp: datetime, sample: dict[str, Any]) -> MeterReading:
    """One SampledValue with the 1.6 defaults made explicit (OCPP 1.6 §7.45)."""
    raw = sample["value"]
    unit = sample.get("unit", "Wh")
    fmt = sample.get("format", "Raw")
    value: float | None
    try:
        value = float(raw) if fmt == "Raw" else None
    except ValueError:
        value = None
    if value is not None and not math.isfinite(value):
        value = None
    if unit in _KILO_UNITS:
        unit = _KILO_UNITS[unit]
        value = value * 1000 if value is not None else None
    return MeterReading(
        timestamp=timestamp,
        value=value,
        raw_value=raw,
        measurand=sample.get("measurand", "Energy.Active.Import.Register"),
        unit=unit,
        phase=sample.get("phase"),
        location=sample.get("location", "Outlet"),
        context=sample.get("context", "Sample.Periodic"),
        format=fmt,
        signed_data=raw if fmt == "SignedData" else None,
    )


def readings(meter_values: list[dict[str, Any]]) -> list[MeterReading]:
    out: list[MeterReading] = []
    for meter_value in meter_values:
        timestamp = parse_time(meter_value["timestamp"])
        assert timestamp is not None
        out.extend(sampled_value(timestamp, s) for s in meter_value["sampledValue"])
    return out


def id_tag_info(auth: Authorization) -> dict[str, Any]:
    """1.6 IdTagInfo; 1.6 has no Unknown, an unknown token is Invalid (CONTRACT.md)."""
    status = "Invalid" if auth.status is AuthStatus.UNKNOWN else auth.status.value
    info: dict[str, Any] = {"status": status}
    if auth.expires_at is not None:
        info["expiryDate"] = format_time(auth.expires_at)
    if auth.group_id is not None:
        info["parentIdTag"] = auth.group_id
    return info
