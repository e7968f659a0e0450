"""Unit tests of volthub.ocpp.v16.inbound: 1.6 station payloads -> domain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from volthub.domain.enums import AuthStatus
from volthub.domain.model import Authorization, MeterReading, StationIdentity
from volthub.ocpp import schemas
from volthub.ocpp.v16 import inbound

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def valid_request(action: str, payload: dict[str, Any]) -> None:
    validate = schemas.validator("1.6", action, response=False)
    assert validate is not None
    validate(payload)


def valid_answer(action: str, payload: dict[str, Any]) -> None:
    validate = schemas.validator("1.6", action, response=True)
    assert validate is not None
    validate(payload)


def sample(**fields: Any) -> MeterReading:
    """sampled_value of one SampledValue, checked first as part of a valid MeterValues.req."""
    valid_request("MeterValues", {"connectorId": 1, "meterValue": [
        {"timestamp": "2026-01-01T10:00:00Z", "sampledValue": [fields]}]})
    return inbound.sampled_value(T0, fields)


# --- sampled values --------------------------------------------------------------------------
def test_sampled_value_takes_the_1_6_defaults() -> None:
    assert sample(value="1500") == MeterReading(
        timestamp=T0, value=1500.0, raw_value="1500", measurand="Energy.Active.Import.Register",
        unit="Wh", phase=None, location="Outlet", context="Sample.Periodic", format="Raw",
        signed_data=None)


def test_sampled_value_keeps_given_fields() -> None:
    assert sample(value="230.1", measurand="Voltage", unit="V", phase="L1-N", location="Inlet",
                  context="Transaction.Begin", format="Raw") == MeterReading(
        timestamp=T0, value=230.1, raw_value="230.1", measurand="Voltage", unit="V",
        phase="L1-N", location="Inlet", context="Transaction.Begin", format="Raw",
        signed_data=None)


@pytest.mark.parametrize(("raw", "unit", "value", "base"), [
    pytest.param("12.5", "kWh", 12500.0, "Wh", id="kWh"),
    pytest.param("7.5", "kW", 7500.0, "W", id="kW"),
    pytest.param("2", "kvarh", 2000.0, "varh", id="kvarh"),
    pytest.param("0.25", "kvar", 250.0, "var", id="kvar"),
    pytest.param("11", "kVA", 11000.0, "VA", id="kVA"),
])
def test_sampled_value_in_kilo_units_is_normalised_to_base_units(
    raw: str, unit: str, value: float, base: str
) -> None:
    reading = sample(value=raw, unit=unit)
    assert (reading.value, reading.unit, reading.raw_value) == (pytest.approx(value), base, raw)


@pytest.mark.parametrize(("unit", "raw", "value"), [
    pytest.param("Wh", "1234", 1234.0, id="Wh"),
    pytest.param("W", "3680", 3680.0, id="W"),
    pytest.param("A", "16.5", 16.5, id="A"),
    pytest.param("Percent", "80", 80.0, id="Percent"),
    pytest.param("Celsius", "-4.5", -4.5, id="Celsius"),
])
def test_sampled_value_in_base_units_is_kept(unit: str, raw: str, value: float) -> None:
    reading = sample(value=raw, unit=unit)
    assert (reading.value, reading.unit) == (value, unit)


def test_signed_data_is_kept_verbatim_without_a_value() -> None:
    blob = "OCMF|{\"FV\":\"1.0\",\"RD\":[{\"RV\":1.5,\"RU\":\"kWh\"}]}|{\"SD\":\"30450221\"}"
    reading = sample(value=blob, format="SignedData", context="Transaction.End", unit="kWh")
    assert reading.value is None
    assert reading.raw_value == blob
    assert reading.signed_data == blob
    assert reading.format == "SignedData"
    assert reading.unit == "Wh"


def test_signed_data_that_looks_numeric_still_has_no_value() -> None:
    reading = sample(value="1500", format="SignedData")
    assert (reading.value, reading.signed_data) == (None, "1500")


@pytest.mark.parametrize("raw", ["abc", "", "NaN", "inf", "-Infinity"])
def test_raw_value_that_is_no_finite_number_has_no_value(raw: str) -> None:
    reading = sample(value=raw)
    assert reading.value is None
    assert reading.raw_value == raw
    assert reading.signed_data is None


def test_readings_flatten_meter_values_with_their_timestamps() -> None:
    meter_values = [
        {"timestamp": "2026-01-01T10:00:00Z", "sampledValue": [
            {"value": "100"}, {"value": "7.5", "unit": "kW", "measurand": "Power.Active.Import"}]},
        {"timestamp": "2026-01-01T12:15:00+02:00", "sampledValue": [
            {"value": "0.2", "unit": "kWh"}]},
    ]
    valid_request("MeterValues", {"connectorId": 1, "transactionId": 5,
                                  "meterValue": meter_values})
    readings = inbound.readings(meter_values)
    assert [(r.timestamp, r.measurand, r.value, r.unit) for r in readings] == [
        (T0, "Energy.Active.Import.Register", 100.0, "Wh"),
        (T0, "Power.Active.Import", 7500.0, "W"),
        (datetime(2026, 1, 1, 10, 15, tzinfo=UTC), "Energy.Active.Import.Register", 200.0, "Wh"),
    ]


# --- status notifications --------------------------------------------------------------------
def test_connector_0_is_the_station_itself() -> None:
    payload = {"connectorId": 0, "status": "Faulted", "errorCode": "PowerMeterFailure",
               "timestamp": "2026-01-01T10:00:00Z"}
    valid_request("StatusNotification", payload)
    state = inbound.connector_state("CP1", payload, NOW)
    assert (state.station_id, state.evse_id, state.connector_id) == ("CP1", 0, 0)
    assert (state.status, state.error_code, state.status_at) == ("Faulted", "PowerMeterFailure", T0)


def test_connector_n_is_evse_n_connector_1_with_every_field() -> None:
    payload = {"connectorId": 3, "status": "Charging", "errorCode": "NoError", "info": "ok",
               "vendorId": "ACME", "vendorErrorCode": "E42"}
    valid_request("StatusNotification", payload)
    state = inbound.connector_state("CP1", payload, NOW)
    assert (state.evse_id, state.connector_id) == (3, 1)
    assert (state.status, state.error_code, state.info, state.vendor_id,
            state.vendor_error_code) == ("Charging", "NoError", "ok", "ACME", "E42")
    assert state.status_at == NOW  # no timestamp: the time it was received


def test_identity_maps_every_boot_notification_field() -> None:
    payload = {"chargePointVendor": "V", "chargePointModel": "M", "chargePointSerialNumber": "S",
               "chargeBoxSerialNumber": "B", "firmwareVersion": "1.0", "iccid": "I",
               "imsi": "IM", "meterType": "MT", "meterSerialNumber": "MS"}
    valid_request("BootNotification", payload)
    assert inbound.identity(payload) == StationIdentity(
        vendor="V", model="M", serial_number="S", firmware_version="1.0",
        charge_box_serial_number="B", iccid="I", imsi="IM", meter_type="MT",
        meter_serial_number="MS")


# --- idTagInfo -------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "sent"), [
    pytest.param(AuthStatus.ACCEPTED, "Accepted", id="accepted"),
    pytest.param(AuthStatus.BLOCKED, "Blocked", id="blocked"),
    pytest.param(AuthStatus.EXPIRED, "Expired", id="expired"),
    pytest.param(AuthStatus.INVALID, "Invalid", id="invalid"),
    pytest.param(AuthStatus.UNKNOWN, "Invalid", id="unknown-is-invalid"),
])
def test_id_tag_info_status(status: AuthStatus, sent: str) -> None:
    info = inbound.id_tag_info(Authorization(status))
    assert info == {"status": sent}
    valid_answer("Authorize", {"idTagInfo": info})


def test_id_tag_info_carries_expiry_in_utc_and_group_as_parent_id_tag() -> None:
    expires = datetime(2030, 6, 1, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    info = inbound.id_tag_info(Authorization(AuthStatus.ACCEPTED, expires, "FLEET1"))
    assert info == {"status": "Accepted", "expiryDate": "2030-06-01T00:30:00.000Z",
                    "parentIdTag": "FLEET1"}
    valid_answer("Authorize", {"idTagInfo": info})
    valid_answer("StartTransaction", {"transactionId": 1, "idTagInfo": info})


def test_id_tag_info_of_unknown_token_has_no_expiry_or_parent() -> None:
    info = inbound.id_tag_info(Authorization(AuthStatus.UNKNOWN, None, None))
    assert info == {"status": "Invalid"}
    valid_answer("StopTransaction", {"idTagInfo": info})
