"""Every station-to-CSMS OCPP 1.6 message over a real WebSocket, checked through the admin API.

Tests named `test_tc_...` follow the OCA OCPP 1.6 compliance test case of that number
(the Central System side).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.exceptions import SecurityError
from ocpp.v16 import call
from sqlalchemy import select

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station16 import connect16
from volthub.domain.enums import Admission, RegistrationStatus
from volthub.storage.interface import Repositories
from volthub.storage.sql import tables

T0 = "2026-01-01T10:00:00Z"


def _at(minutes: int) -> str:
    return (datetime(2026, 1, 1, 10, 0, tzinfo=UTC) + timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


async def _station(server: RunningServer, station_id: str) -> dict[str, Any]:
    response = await server.api.get(f"/stations/{station_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _connector(station: dict[str, Any], evse_id: int) -> dict[str, Any]:
    evse = next(e for e in station["evses"] if e["evse_id"] == evse_id)
    assert len(evse["connectors"]) == 1
    connector: dict[str, Any] = evse["connectors"][0]
    return connector


async def _transactions(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get("/transactions", params={"station_id": station_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _token(server: RunningServer, **fields: Any) -> None:
    response = await server.api.post("/id-tokens", json=fields)
    assert response.status_code == 201, response.text


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# BootNotification ---------------------------------------------------------------------------
async def test_tc_001_cold_boot_accepted_with_configured_interval_and_identity_stored(
    sqlite_url: str,
) -> None:
    async with run_server(test_settings(sqlite_url, heartbeat_interval_s=123,
                                        boot_retry_interval_s=17)) as server:
        async with connect16(server.ocpp_url, "CP-BOOT", boot=False) as station:
            before = datetime.now(UTC) - timedelta(seconds=1)
            boot = await station.call(call.BootNotification(
                charge_point_vendor="VendorX", charge_point_model="ModelY",
                charge_point_serial_number="CPSN-1", charge_box_serial_number="CBSN-1",
                firmware_version="1.2.3", iccid="89310410106543789301", imsi="310150123456789",
                meter_type="MeterT", meter_serial_number="MSN-9"))
            after = datetime.now(UTC) + timedelta(seconds=1)
            assert boot.status == "Accepted"
            assert boot.interval == 123
            assert boot.current_time.endswith("Z")
            assert before <= _parse(boot.current_time) <= after
            # Step 3 of TC_001: a StatusNotification per connector and for connectorId 0.
            for connector_id in (0, 1):
                await station.call(call.StatusNotification(
                    connector_id=connector_id, error_code="NoError", status="Available"))
            assert await station.call(call.Heartbeat()) is not None
        stored = await _station(server, "CP-BOOT")
    assert stored["registration_status"] == "Accepted"
    assert stored["ocpp_version"] == "1.6"
    assert {k: stored[k] for k in (
        "vendor", "model", "serial_number", "charge_box_serial_number", "firmware_version",
        "iccid", "imsi", "meter_type", "meter_serial_number")} == {
        "vendor": "VendorX", "model": "ModelY", "serial_number": "CPSN-1",
        "charge_box_serial_number": "CBSN-1", "firmware_version": "1.2.3",
        "iccid": "89310410106543789301", "imsi": "310150123456789", "meter_type": "MeterT",
        "meter_serial_number": "MSN-9"}
    assert stored["last_boot_at"] is not None
    assert stored["status"] == "Available"
    assert _connector(stored, 1)["status"] == "Available"


async def test_boot_again_overwrites_identity_with_the_new_values(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-REBOOT", boot=False) as station:
        await station.call(call.BootNotification(
            charge_point_vendor="V", charge_point_model="M", firmware_version="1.0"))
        await station.call(call.BootNotification(
            charge_point_vendor="V", charge_point_model="M", firmware_version="2.0"))
    assert (await _station(server, "CP-REBOOT"))["firmware_version"] == "2.0"


async def test_boot_pending_until_operator_accepts_registration(sqlite_url: str) -> None:
    settings = test_settings(sqlite_url, station_admission=Admission.PENDING,
                             heartbeat_interval_s=123, boot_retry_interval_s=17)
    async with run_server(settings) as server:
        async with connect16(server.ocpp_url, "CP-PEND", boot=False) as station:
            boot = await station.call(call.BootNotification(
                charge_point_vendor="V", charge_point_model="M"))
            assert boot.status == "Pending"
            assert boot.interval == 17
            assert (await _station(server, "CP-PEND"))["registration_status"] == "Pending"
            # Pending: nothing but BootNotification is served (OCPP-J 1.6 errata).
            with pytest.raises(SecurityError):
                await station.call(call.Heartbeat(), suppress=False)
            patched = await server.api.patch("/stations/CP-PEND",
                                             json={"registration_status": "Accepted"})
            assert patched.status_code == 200, patched.text
            boot = await station.call(call.BootNotification(
                charge_point_vendor="V", charge_point_model="M"))
            assert boot.status == "Accepted"
            assert boot.interval == 123
            assert await station.call(call.Heartbeat(), suppress=False) is not None
        assert (await _station(server, "CP-PEND"))["registration_status"] == "Accepted"


async def test_boot_rejected_station_is_answered_rejected_and_not_served(
    server: RunningServer,
) -> None:
    created = await server.api.post("/stations", json={
        "id": "CP-REJ", "registration_status": RegistrationStatus.REJECTED.value})
    assert created.status_code == 201, created.text
    async with connect16(server.ocpp_url, "CP-REJ", boot=False) as station:
        boot = await station.call(call.BootNotification(
            charge_point_vendor="V", charge_point_model="M"))
        assert boot.status == "Rejected"
        assert boot.interval == server.settings.boot_retry_interval_s
        with pytest.raises(SecurityError):
            await station.call(call.Heartbeat(), suppress=False)
        with pytest.raises(SecurityError):
            await station.call(call.StartTransaction(
                connector_id=1, id_tag="T", meter_start=0, timestamp=T0), suppress=False)
    assert await _transactions(server, "CP-REJ") == []


# Heartbeat ------------------------------------------------------------------------------------
async def test_heartbeat_answers_current_utc_time(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-HB") as station:
        before = datetime.now(UTC) - timedelta(seconds=1)
        hb = await station.call(call.Heartbeat(), suppress=False)
        after = datetime.now(UTC) + timedelta(seconds=1)
    assert hb.current_time.endswith("Z")
    assert before <= _parse(hb.current_time) <= after
    assert (await _station(server, "CP-HB"))["last_seen"] is not None


# StatusNotification ---------------------------------------------------------------------------
async def test_status_notification_connector_zero_is_the_station_status(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-ST0") as station:
        await station.call(call.StatusNotification(
            connector_id=0, error_code="PowerMeterFailure", status="Faulted",
            timestamp=T0), suppress=False)
        stored = await _station(server, "CP-ST0")
        assert stored["status"] == "Faulted"
        assert stored["error_code"] == "PowerMeterFailure"
        assert stored["evses"] == []  # connector 0 is no EVSE
        await station.call(call.StatusNotification(
            connector_id=0, error_code="NoError", status="Available"), suppress=False)
    stored = await _station(server, "CP-ST0")
    assert (stored["status"], stored["error_code"]) == ("Available", "NoError")


async def test_status_notification_keeps_error_code_info_vendor_fields_and_timestamp(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-ST") as station:
        await station.call(call.StatusNotification(
            connector_id=2, error_code="OtherError", status="Faulted", timestamp=T0,
            info="ground fault", vendor_id="com.example", vendor_error_code="E42"),
            suppress=False)
        await station.call(call.StatusNotification(
            connector_id=1, error_code="NoError", status="Preparing",
            timestamp="2026-01-01T09:59:30.250Z"), suppress=False)
    stored = await _station(server, "CP-ST")
    assert [e["evse_id"] for e in stored["evses"]] == [1, 2]
    faulted = _connector(stored, 2)
    assert faulted["connector_id"] == 1  # 1.6 connectorId N is EVSE N, connector 1
    assert {k: faulted[k] for k in (
        "status", "error_code", "info", "vendor_id", "vendor_error_code")} == {
        "status": "Faulted", "error_code": "OtherError", "info": "ground fault",
        "vendor_id": "com.example", "vendor_error_code": "E42"}
    assert _parse(faulted["status_at"]) == _parse(T0)
    preparing = _connector(stored, 1)
    assert (preparing["status"], preparing["error_code"]) == ("Preparing", "NoError")
    assert _parse(preparing["status_at"]) == datetime(2026, 1, 1, 9, 59, 30, 250000, tzinfo=UTC)


async def test_status_notification_update_replaces_previous_state(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-ST2") as station:
        await station.call(call.StatusNotification(
            connector_id=1, error_code="OtherError", status="Faulted", info="x",
            vendor_error_code="E1", timestamp=T0), suppress=False)
        before = datetime.now(UTC) - timedelta(seconds=1)
        await station.call(call.StatusNotification(
            connector_id=1, error_code="NoError", status="Available"), suppress=False)
        after = datetime.now(UTC) + timedelta(seconds=1)
    connector = _connector(await _station(server, "CP-ST2"), 1)
    assert (connector["status"], connector["error_code"]) == ("Available", "NoError")
    assert connector["info"] is None and connector["vendor_error_code"] is None
    # Without a timestamp the time of receipt is kept.
    assert before <= _parse(connector["status_at"]) <= after


# Authorize ------------------------------------------------------------------------------------
async def test_authorize_accepted_token(server: RunningServer) -> None:
    await _token(server, id_token="OK1")
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        result = await station.call(call.Authorize(id_tag="OK1"), suppress=False)
    assert result.id_tag_info == {"status": "Accepted"}


async def test_tc_023_1_authorize_invalid_for_unknown_token(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        result = await station.call(call.Authorize(id_tag="NOBODY"), suppress=False)
    assert result.id_tag_info["status"] == "Invalid"


async def test_tc_023_1_authorize_invalid_for_invalid_token(server: RunningServer) -> None:
    await _token(server, id_token="INV1", status="Invalid")
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        result = await station.call(call.Authorize(id_tag="INV1"), suppress=False)
    assert result.id_tag_info["status"] == "Invalid"


async def test_tc_023_2_authorize_expired_by_status(server: RunningServer) -> None:
    await _token(server, id_token="EXP1", status="Expired")
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        result = await station.call(call.Authorize(id_tag="EXP1"), suppress=False)
    assert result.id_tag_info["status"] == "Expired"


async def test_tc_023_2_authorize_expired_by_expires_at(server: RunningServer) -> None:
    await _token(server, id_token="EXP2", expires_at="2020-01-01T00:00:00Z")
    await _token(server, id_token="FUTURE", expires_at="2099-01-01T00:00:00Z")
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        expired = await station.call(call.Authorize(id_tag="EXP2"), suppress=False)
        valid = await station.call(call.Authorize(id_tag="FUTURE"), suppress=False)
    assert expired.id_tag_info["status"] == "Expired"
    assert _parse(expired.id_tag_info["expiry_date"]) == datetime(2020, 1, 1, tzinfo=UTC)
    assert valid.id_tag_info["status"] == "Accepted"
    assert _parse(valid.id_tag_info["expiry_date"]) == datetime(2099, 1, 1, tzinfo=UTC)


async def test_tc_023_3_authorize_blocked(server: RunningServer) -> None:
    await _token(server, id_token="BLK1", status="Blocked")
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        result = await station.call(call.Authorize(id_tag="BLK1"), suppress=False)
    assert result.id_tag_info["status"] == "Blocked"


async def test_authorize_group_token_is_parent_id_tag(server: RunningServer) -> None:
    await _token(server, id_token="FLEET")
    await _token(server, id_token="MEMBER", group_id="FLEET")
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        result = await station.call(call.Authorize(id_tag="MEMBER"), suppress=False)
    # The library hands answers over in snake_case; the wire carries OCPP's camelCase.
    assert result.id_tag_info == {"status": "Accepted", "parent_id_tag": "FLEET"}
    log = (await server.api.get("/stations/CP-AUTH/messages", params={"limit": 1})).json()
    assert log["items"][0]["payload"] == {"idTagInfo": {"status": "Accepted",
                                                        "parentIdTag": "FLEET"}}


async def test_authorize_member_of_blocked_group_is_blocked(server: RunningServer) -> None:
    await _token(server, id_token="BADFLEET", status="Blocked")
    await _token(server, id_token="MEMBER2", group_id="BADFLEET")
    async with connect16(server.ocpp_url, "CP-AUTH") as station:
        result = await station.call(call.Authorize(id_tag="MEMBER2"), suppress=False)
    assert result.id_tag_info == {"status": "Blocked", "parent_id_tag": "BADFLEET"}


# StartTransaction -----------------------------------------------------------------------------
async def test_tc_003_regular_charging_session_plugin_first(server: RunningServer) -> None:
    await _token(server, id_token="DRIVER")
    async with connect16(server.ocpp_url, "CP-TC3") as station:
        await station.call(call.StatusNotification(
            connector_id=1, error_code="NoError", status="Preparing"), suppress=False)
        auth = await station.call(call.Authorize(id_tag="DRIVER"), suppress=False)
        assert auth.id_tag_info["status"] == "Accepted"
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER", meter_start=250, timestamp=T0), suppress=False)
        assert start.id_tag_info["status"] == "Accepted"
        await station.call(call.StatusNotification(
            connector_id=1, error_code="NoError", status="Charging"), suppress=False)
    stored = await _station(server, "CP-TC3")
    assert _connector(stored, 1)["status"] == "Charging"
    [txn] = await _transactions(server, "CP-TC3")
    assert txn["id"] == start.transaction_id
    assert txn["status"] == "active"
    assert (txn["evse_id"], txn["connector_id"], txn["id_token"]) == (1, 1, "DRIVER")
    assert txn["meter_start_wh"] == 250
    assert _parse(txn["started_at"]) == _parse(T0)


async def test_tc_004_1_regular_charging_session_identification_first(
    server: RunningServer,
) -> None:
    await _token(server, id_token="DRIVER")
    async with connect16(server.ocpp_url, "CP-TC4") as station:
        auth = await station.call(call.Authorize(id_tag="DRIVER"), suppress=False)
        assert auth.id_tag_info["status"] == "Accepted"
        start = await station.call(call.StartTransaction(
            connector_id=2, id_tag="DRIVER", meter_start=0, timestamp=T0), suppress=False)
        assert start.id_tag_info["status"] == "Accepted"
        await station.call(call.StatusNotification(
            connector_id=2, error_code="NoError", status="Charging"), suppress=False)
    assert _connector(await _station(server, "CP-TC4"), 2)["status"] == "Charging"
    [txn] = await _transactions(server, "CP-TC4")
    assert (txn["id"], txn["evse_id"], txn["status"]) == (start.transaction_id, 2, "active")


async def test_start_transaction_id_is_an_integer_from_the_database(
    server: RunningServer,
) -> None:
    await _token(server, id_token="DRIVER")
    async with connect16(server.ocpp_url, "CP-IDS") as station:
        first = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER", meter_start=0, timestamp=T0), suppress=False)
        second = await station.call(call.StartTransaction(
            connector_id=2, id_tag="DRIVER", meter_start=0, timestamp=T0), suppress=False)
    assert isinstance(first.transaction_id, int) and isinstance(second.transaction_id, int)
    assert first.transaction_id != second.transaction_id
    for start in (first, second):
        txn = (await server.api.get(f"/transactions/{start.transaction_id}")).json()
        assert txn["id"] == start.transaction_id
        assert txn["station_transaction_id"] == str(start.transaction_id)
        assert txn["station_id"] == "CP-IDS"


@pytest.mark.parametrize(("timestamp", "expected"), [
    ("2026-01-01T11:00:00+01:00", datetime(2026, 1, 1, 10, 0, tzinfo=UTC)),
    ("2026-01-01T10:00:00.000Z", datetime(2026, 1, 1, 10, 0, tzinfo=UTC)),
    ("2026-01-01T10:00:00.123456789Z", datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    # RFC 3339 §5.6 allows lower-case t and z; the 1.6 schema's date-time format accepts them.
    ("2026-01-01t10:00:00z", datetime(2026, 1, 1, 10, 0, tzinfo=UTC)),
    # RFC 3339 §5.7 leap second: kept as the last second Python can represent.
    ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
])
async def test_every_rfc3339_timestamp_form_is_accepted_and_kept_in_utc(
    server: RunningServer, timestamp: str, expected: datetime,
) -> None:
    async with connect16(server.ocpp_url, "CP-TIME") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=timestamp), suppress=False)
        await station.call(call.StatusNotification(
            connector_id=1, error_code="NoError", status="Charging", timestamp=timestamp),
            suppress=False)
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id,
            meter_value=[{"timestamp": timestamp, "sampledValue": [{"value": "1"}]}]),
            suppress=False)
        await station.call(call.StopTransaction(
            meter_stop=1, timestamp=timestamp, transaction_id=start.transaction_id),
            suppress=False)
    txn = (await server.api.get(f"/transactions/{start.transaction_id}")).json()
    assert _parse(txn["started_at"]) == expected
    assert _parse(txn["stopped_at"]) == expected
    assert txn["started_at"].endswith("Z")
    [reading] = (await server.api.get(
        f"/transactions/{start.transaction_id}/meter-values")).json()
    assert _parse(reading["timestamp"]) == expected
    assert _parse(_connector(await _station(server, "CP-TIME"), 1)["status_at"]) == expected


@pytest.mark.parametrize(("token", "status", "expected"), [
    ("BLOCKED", "Blocked", "Blocked"),
    ("EXPIRED", "Expired", "Expired"),
    ("UNKNOWN", None, "Invalid"),
])
async def test_start_transaction_with_unauthorized_token_is_recorded_with_its_status(
    server: RunningServer, token: str, status: str | None, expected: str,
) -> None:
    if status is not None:
        await _token(server, id_token=token, status=status)
    async with connect16(server.ocpp_url, "CP-UNAUTH") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag=token, meter_start=10, timestamp=T0), suppress=False)
    assert start.id_tag_info["status"] == expected
    [txn] = await _transactions(server, "CP-UNAUTH")
    assert txn["id"] == start.transaction_id
    assert txn["id_token"] == token
    assert txn["status"] == "active"  # facts are recorded: the station started charging


async def test_start_transaction_member_of_blocked_group_gets_blocked(
    server: RunningServer,
) -> None:
    await _token(server, id_token="GRP", status="Blocked")
    await _token(server, id_token="KID", group_id="GRP")
    async with connect16(server.ocpp_url, "CP-GRP") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="KID", meter_start=10, timestamp=T0), suppress=False)
    assert start.id_tag_info == {"status": "Blocked", "parent_id_tag": "GRP"}


# MeterValues ----------------------------------------------------------------------------------
MEASURANDS = [
    "Energy.Active.Export.Register", "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
    "Power.Active.Export", "Power.Active.Import", "Power.Offered", "Power.Reactive.Export",
    "Power.Reactive.Import", "Power.Factor", "Current.Import", "Current.Export",
    "Current.Offered", "Voltage", "Frequency", "Temperature", "SoC", "RPM",
]
PHASES = ["L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"]
LOCATIONS = ["Cable", "EV", "Inlet", "Outlet", "Body"]
CONTEXTS = ["Interruption.Begin", "Interruption.End", "Sample.Clock", "Sample.Periodic",
            "Transaction.Begin", "Transaction.End", "Trigger", "Other"]
UNITS = ["Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "K",
         "Celsius", "Fahrenheit", "Percent"]
KILO = {"kWh": "Wh", "kW": "W", "kvarh": "varh", "kvar": "var", "kVA": "VA"}


def _all_kinds_of_samples() -> list[dict[str, Any]]:
    """One sample per measurand, cycling through every phase, location, context and unit."""
    count = max(len(MEASURANDS), len(UNITS), len(PHASES), len(LOCATIONS), len(CONTEXTS))
    samples = []
    for i in range(count):
        samples.append({
            "value": f"{i + 1}.5",
            "measurand": MEASURANDS[i % len(MEASURANDS)],
            "phase": PHASES[i % len(PHASES)],
            "location": LOCATIONS[i % len(LOCATIONS)],
            "context": CONTEXTS[i % len(CONTEXTS)],
            "unit": UNITS[i % len(UNITS)],
            "format": "Raw",
        })
    return samples


async def test_meter_values_keep_every_measurand_phase_location_context_and_unit(
    server: RunningServer,
) -> None:
    samples = _all_kinds_of_samples()
    async with connect16(server.ocpp_url, "CP-MV") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=T0), suppress=False)
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id,
            meter_value=[{"timestamp": _at(5), "sampledValue": samples}]), suppress=False)
    response = await server.api.get(f"/transactions/{start.transaction_id}/meter-values")
    assert response.status_code == 200, response.text
    stored = response.json()
    assert len(stored) == len(samples)
    expected = []
    for s in samples:
        unit = KILO.get(s["unit"], s["unit"])
        value = float(s["value"]) * (1000 if s["unit"] in KILO else 1)
        expected.append((s["measurand"], s["phase"], s["location"], s["context"], unit, value,
                         s["value"], "Raw"))
    got = [(r["measurand"], r["phase"], r["location"], r["context"], r["unit"], r["value"],
            r["raw_value"], r["format"]) for r in stored]
    assert sorted(got) == sorted(expected)
    assert {_parse(r["timestamp"]) for r in stored} == {_parse(_at(5))}
    assert {r["measurand"] for r in stored} == set(MEASURANDS)
    assert {r["phase"] for r in stored} == set(PHASES)
    assert {r["location"] for r in stored} == set(LOCATIONS)
    assert {r["context"] for r in stored} == set(CONTEXTS)


async def test_meter_values_kwh_is_normalised_to_wh(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-KWH") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=T0), suppress=False)
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id, meter_value=[
                {"timestamp": _at(1), "sampledValue": [
                    {"value": "12.345", "unit": "kWh"},
                    {"value": "7.2", "unit": "kW", "measurand": "Power.Active.Import"},
                    {"value": "400", "unit": "Wh"}]},
            ]), suppress=False)
    stored = (await server.api.get(f"/transactions/{start.transaction_id}/meter-values")).json()
    by_raw = {r["raw_value"]: r for r in stored}
    assert by_raw["12.345"]["unit"] == "Wh"
    assert by_raw["12.345"]["value"] == pytest.approx(12345)
    assert by_raw["12.345"]["measurand"] == "Energy.Active.Import.Register"
    assert by_raw["7.2"]["unit"] == "W"
    assert by_raw["7.2"]["value"] == pytest.approx(7200)
    assert (by_raw["400"]["unit"], by_raw["400"]["value"]) == ("Wh", 400)


async def test_meter_values_defaults_of_a_bare_sample_are_made_explicit(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-DEF") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=T0), suppress=False)
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id,
            meter_value=[{"timestamp": _at(1), "sampledValue": [{"value": "1000"}]}]),
            suppress=False)
    [reading] = (await server.api.get(
        f"/transactions/{start.transaction_id}/meter-values")).json()
    # OCPP 1.6 §7.45 defaults.
    assert {k: reading[k] for k in (
        "measurand", "unit", "location", "context", "format", "phase", "value")} == {
        "measurand": "Energy.Active.Import.Register", "unit": "Wh", "location": "Outlet",
        "context": "Sample.Periodic", "format": "Raw", "phase": None, "value": 1000}


async def test_meter_values_signed_data_is_kept_verbatim(server: RunningServer) -> None:
    signed = "OCMF|{\"FV\":\"1.0\"}|{\"SA\":\"ECDSA\"}"
    async with connect16(server.ocpp_url, "CP-SIG") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=T0), suppress=False)
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id, meter_value=[
                {"timestamp": _at(1), "sampledValue": [
                    {"value": signed, "format": "SignedData",
                     "context": "Transaction.Begin"}]}]), suppress=False)
    [reading] = (await server.api.get(
        f"/transactions/{start.transaction_id}/meter-values")).json()
    assert reading["format"] == "SignedData"
    assert reading["raw_value"] == signed
    assert reading["value"] is None


async def _readings_outside_transactions(
    server: RunningServer, station_id: str,
) -> list[dict[str, Any]]:
    mv = tables.meter_values

    async def op(repos: Repositories) -> list[dict[str, Any]]:
        rows = await repos.conn.execute(  # type: ignore[attr-defined]
            select(mv).where(mv.c.station_id == station_id, mv.c.transaction_id.is_(None))
            .order_by(mv.c.id))
        return [dict(r._mapping) for r in rows]

    return await server.container.services.storage.read(op)


async def test_meter_values_outside_a_transaction_are_kept(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-NOTX") as station:
        answer = await station.call(call.MeterValues(
            connector_id=0, meter_value=[
                {"timestamp": _at(1), "sampledValue": [
                    {"value": "5.5", "unit": "kWh", "context": "Sample.Clock"},
                    {"value": "230.1", "unit": "V", "measurand": "Voltage", "phase": "L1-N"}]},
                {"timestamp": _at(2), "sampledValue": [
                    {"value": "5.6", "unit": "kWh", "context": "Sample.Clock"}]},
            ]), suppress=False)
        assert answer is not None
        # A transactionId the CSMS does not know: the readings are kept all the same.
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=987654, meter_value=[
                {"timestamp": _at(3), "sampledValue": [{"value": "42"}]}]), suppress=False)
    rows = await _readings_outside_transactions(server, "CP-NOTX")
    got = [(r["evse_id"], r["measurand"], r["unit"], r["value"], r["phase"], r["raw_value"])
           for r in rows]
    assert got == [
        (0, "Energy.Active.Import.Register", "Wh", pytest.approx(5500), None, "5.5"),
        (0, "Voltage", "V", pytest.approx(230.1), "L1-N", "230.1"),
        (0, "Energy.Active.Import.Register", "Wh", pytest.approx(5600), None, "5.6"),
        (1, "Energy.Active.Import.Register", "Wh", 42, None, "42"),
    ]
    assert await _transactions(server, "CP-NOTX") == []


# StopTransaction ------------------------------------------------------------------------------
async def test_stop_transaction_stores_stop_and_transaction_data(server: RunningServer) -> None:
    await _token(server, id_token="DRIVER")
    async with connect16(server.ocpp_url, "CP-STOP") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER", meter_start=1000, timestamp=T0), suppress=False)
        stop = await station.call(call.StopTransaction(
            meter_stop=4600, timestamp=_at(60), transaction_id=start.transaction_id,
            reason="EVDisconnected", id_tag="DRIVER", transaction_data=[
                {"timestamp": T0, "sampledValue": [
                    {"value": "1000", "context": "Transaction.Begin"}]},
                {"timestamp": _at(60), "sampledValue": [
                    {"value": "4.6", "unit": "kWh", "context": "Transaction.End"},
                    {"value": "80", "unit": "Percent", "measurand": "SoC",
                     "location": "EV", "context": "Transaction.End"}]},
            ]), suppress=False)
    assert stop.id_tag_info == {"status": "Accepted"}
    txn = (await server.api.get(f"/transactions/{start.transaction_id}")).json()
    assert txn["status"] == "completed"
    assert (txn["meter_start_wh"], txn["meter_stop_wh"], txn["energy_wh"]) == (1000, 4600, 3600)
    assert txn["stop_reason"] == "EVDisconnected"
    assert txn["stop_id_token"] == "DRIVER"
    assert _parse(txn["stopped_at"]) == _parse(_at(60))
    readings = (await server.api.get(
        f"/transactions/{start.transaction_id}/meter-values")).json()
    got = [(r["measurand"], r["unit"], r["value"], r["context"], r["location"]) for r in readings]
    assert got == [
        ("Energy.Active.Import.Register", "Wh", 1000, "Transaction.Begin", "Outlet"),
        ("Energy.Active.Import.Register", "Wh", pytest.approx(4600), "Transaction.End", "Outlet"),
        ("SoC", "Percent", 80, "Transaction.End", "EV"),
    ]


async def test_stop_transaction_without_reason_is_local_and_without_id_tag_has_no_info(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-STOP2") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=T0), suppress=False)
        stop = await station.call(call.StopTransaction(
            meter_stop=10, timestamp=_at(1), transaction_id=start.transaction_id),
            suppress=False)
    assert stop.id_tag_info is None
    txn = (await server.api.get(f"/transactions/{start.transaction_id}")).json()
    assert txn["stop_reason"] == "Local"  # OCPP 1.6 §6.49: absent reason means Local
    assert txn["status"] == "completed"


async def test_stop_transaction_with_blocked_id_tag_gets_blocked_info(
    server: RunningServer,
) -> None:
    await _token(server, id_token="DRIVER")
    await _token(server, id_token="STOPPER", status="Blocked")
    async with connect16(server.ocpp_url, "CP-STOP3") as station:
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER", meter_start=0, timestamp=T0), suppress=False)
        stop = await station.call(call.StopTransaction(
            meter_stop=10, timestamp=_at(1), transaction_id=start.transaction_id,
            id_tag="STOPPER", reason="Local"), suppress=False)
    assert stop.id_tag_info == {"status": "Blocked"}
    txn = (await server.api.get(f"/transactions/{start.transaction_id}")).json()
    assert txn["status"] == "completed"  # the stop happened at the station: it is recorded


# DataTransfer and status notifications ----------------------------------------------------------
async def test_tc_064_data_transfer_to_central_system_unknown_vendor(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-DT") as station:
        result = await station.call(call.DataTransfer(
            vendor_id="com.example.unknown", message_id="Hello", data="{}"), suppress=False)
    assert result.status == "UnknownVendorId"
    assert result.data is None


async def test_diagnostics_status_notification_is_stored(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-DIAG") as station:
        await station.call(call.DiagnosticsStatusNotification(status="Uploading"),
                           suppress=False)
        assert (await _station(server, "CP-DIAG"))["diagnostics_status"] == "Uploading"
        await station.call(call.DiagnosticsStatusNotification(status="Uploaded"),
                           suppress=False)
    assert (await _station(server, "CP-DIAG"))["diagnostics_status"] == "Uploaded"


async def test_firmware_status_notification_is_stored(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-FW") as station:
        for status in ("Downloading", "Downloaded", "Installing", "Installed"):
            await station.call(call.FirmwareStatusNotification(status=status), suppress=False)
            assert (await _station(server, "CP-FW"))["firmware_status"] == status


# Security extension (OCPP 1.6 security whitepaper edition 2) --------------------------------------
async def test_security_event_notification_is_stored_with_its_time_and_info(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-SEC") as station:
        await station.call(call.SecurityEventNotification(
            type="TamperDetectionActivated", timestamp=T0, tech_info="door opened"),
            suppress=False)
        await station.call(call.SecurityEventNotification(
            type="FirmwareUpdated", timestamp=_at(1), tech_info=None), suppress=False)
    response = await server.api.get("/stations/CP-SEC/security-events")
    assert response.status_code == 200, response.text
    events = response.json()["items"]
    got = [(e["type"], e["tech_info"], e["source"], _parse(e["timestamp"])) for e in events]
    assert got == [  # newest first
        ("FirmwareUpdated", None, "station", _parse(_at(1))),
        ("TamperDetectionActivated", "door opened", "station", _parse(T0)),
    ]


async def test_sign_certificate_with_a_broken_csr_is_rejected_and_the_csr_kept(
    server: RunningServer,
) -> None:
    # Signing proper CSRs: tests/e2e/test_security_ca.py.
    csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"
    async with connect16(server.ocpp_url, "CP-CSR") as station:
        result = await station.call(call.SignCertificate(csr=csr), suppress=False)
    assert result.status == "Rejected"
    requests = tables.certificate_requests

    async def op(repos: Repositories) -> list[Any]:
        rows = await repos.conn.execute(  # type: ignore[attr-defined]
            select(requests.c.csr).where(requests.c.station_id == "CP-CSR"))
        return [r[0] for r in rows]

    assert await server.container.services.storage.read(op) == [csr]


async def test_log_status_notification_is_stored(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-LOG") as station:
        await station.call(call.LogStatusNotification(status="Uploading", request_id=7),
                           suppress=False)
        assert (await _station(server, "CP-LOG"))["log_status"] == "Uploading"
        await station.call(call.LogStatusNotification(status="Uploaded", request_id=7),
                           suppress=False)
    assert (await _station(server, "CP-LOG"))["log_status"] == "Uploaded"


async def test_signed_firmware_status_notification_is_stored(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-SFW") as station:
        await station.call(call.SignedFirmwareStatusNotification(
            status="SignatureVerified", request_id=3), suppress=False)
        assert (await _station(server, "CP-SFW"))["firmware_status"] == "SignatureVerified"
        await station.call(call.SignedFirmwareStatusNotification(
            status="InvalidSignature", request_id=3), suppress=False)
    assert (await _station(server, "CP-SFW"))["firmware_status"] == "InvalidSignature"


async def test_every_station_message_is_in_the_message_log(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-LOGALL") as station:
        await station.call(call.DiagnosticsStatusNotification(status="Idle"), suppress=False)
    response = await server.api.get("/stations/CP-LOGALL/messages")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    actions = [(m["direction"], m["message_type"], m["action"]) for m in items]
    assert actions == [
        ("out", "CALLRESULT", "DiagnosticsStatusNotification"),
        ("in", "CALL", "DiagnosticsStatusNotification"),
        ("out", "CALLRESULT", "BootNotification"),
        ("in", "CALL", "BootNotification"),
    ]
    assert items[1]["payload"] == {"status": "Idle"}
    assert items[0]["payload"] == {}
    assert items[0]["message_id"] == items[1]["message_id"]
