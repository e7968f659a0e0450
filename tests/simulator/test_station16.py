"""SimulatedStation16 against a small OCPP 1.6 CSMS: messages, their order and the behaviour."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from volthub.simulator.ev import ElectricVehicle
from volthub.simulator.v16 import SessionError, SimulatedStation16, StationTimings

from .fake_csms import FakeCsms

FAST = StationTimings(reboot_s=0.05, unplug_s=0.05, firmware_step_s=0.05, upload_step_s=0.05)
StationFactory = Callable[..., SimulatedStation16]


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def three_phase_ev(soc_percent: float = 30.0) -> ElectricVehicle:
    return ElectricVehicle(battery_capacity_wh=60_000, soc_percent=soc_percent, max_ac_power_w=22_080)


@pytest.fixture
async def csms() -> AsyncIterator[FakeCsms]:
    server = FakeCsms()
    yield server
    await server.stop()


@pytest.fixture
async def make_station(csms: FakeCsms) -> AsyncIterator[StationFactory]:
    url = await csms.start()
    made: list[SimulatedStation16] = []

    def factory(station_id: str = "CS-1", **options: Any) -> SimulatedStation16:
        options.setdefault("timings", FAST)
        options.setdefault("rng", random.Random(1))
        station = SimulatedStation16(station_id, url, **options)
        made.append(station)
        return station

    yield factory
    for station in made:
        await station.close()


async def test_boot_then_status_of_connector_zero_and_each_connector(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station(connectors=2)
    await station.start()
    assert station.registered and station.boot_status == "Accepted"
    actions = [f.action for f in csms.frames if f.direction == "in" and f.kind == 2]
    assert actions[:4] == [
        "BootNotification",
        "StatusNotification",
        "StatusNotification",
        "StatusNotification",
    ]
    assert [p["connectorId"] for p in csms.calls("StatusNotification")] == [0, 1, 2]
    boot = csms.calls("BootNotification")[0]
    assert boot["chargePointVendor"] == "VoltHub" and boot["chargePointSerialNumber"] == "CS-1"


async def test_heartbeats_follow_the_interval_given_at_boot(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    csms.interval_s = 1
    station = make_station()
    await station.start()
    assert station.heartbeat_interval_s == 1
    await csms.wait_for("Heartbeat", count=2, timeout_s=3.5)


async def test_a_session_sends_its_messages_in_order_with_meter_values(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station(meter_interval_s=1, time_scale=60)
    await station.start()
    transaction_id = await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    assert transaction_id == 100 and station.transaction_id(1) == 100
    periodic = await csms.wait_for("MeterValues", count=2, timeout_s=4)
    await station.stop_session(1)

    actions = [f.action for f in csms.frames if f.direction == "in" and f.kind == 2]
    start = actions.index("StartTransaction")
    assert actions[start - 2 : start] == ["StatusNotification", "Authorize"]  # Preparing, Authorize
    assert csms.statuses(1) == ["Available", "Preparing", "Charging", "Finishing", "Available"]

    begin = csms.calls("MeterValues")[0]
    assert begin["transactionId"] == 100
    assert {v["context"] for v in begin["meterValue"][0]["sampledValue"]} == {"Transaction.Begin"}
    values = periodic["meterValue"][0]["sampledValue"]
    measurands = [v["measurand"] for v in values]
    assert measurands == [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
        "Current.Import",
        "Current.Import",
        "Voltage",
        "Voltage",
        "Voltage",
        "SoC",
    ]
    power = next(v for v in values if v["measurand"] == "Power.Active.Import")
    assert power == {
        "value": "22080",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Power.Active.Import",
        "unit": "W",
        "location": "Outlet",
    }

    stop = csms.calls("StopTransaction")[0]
    start_payload = csms.calls("StartTransaction")[0]
    assert stop["transactionId"] == 100 and stop["reason"] == "Local" and stop["idTag"] == "TAG"
    assert stop["meterStop"] > start_payload["meterStart"]
    contexts = [mv["sampledValue"][0]["context"] for mv in stop["transactionData"]]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
    assert "Sample.Periodic" in contexts
    # 22 kW for the simulated time the session lasted, give or take a sample's rounding.
    assert station.stats.energy_wh == pytest.approx(stop["meterStop"] - start_payload["meterStart"], abs=1.0)


async def test_a_refused_idtag_starts_no_transaction(csms: FakeCsms, make_station: StationFactory) -> None:
    csms.refused_tags.add("BAD")
    station = make_station()
    await station.start()
    with pytest.raises(SessionError):
        await station.plug_in_and_charge(1, "BAD")
    assert csms.calls("StartTransaction") == []
    assert station.status(1) == "Available"
    assert station.stats.auth_rejected == 1


async def test_remote_start_and_stop(csms: FakeCsms, make_station: StationFactory) -> None:
    station = make_station(connectors=2)
    await station.start()
    result = await csms.call("CS-1", call.RemoteStartTransaction(id_tag="APP", connector_id=2))
    assert result.status == "Accepted"
    await csms.wait_for("StartTransaction", connectorId=2, idTag="APP")
    busy = await csms.call("CS-1", call.RemoteStartTransaction(id_tag="APP", connector_id=2))
    assert busy.status == "Rejected"
    unknown = await csms.call("CS-1", call.RemoteStopTransaction(transaction_id=999))
    assert unknown.status == "Rejected"
    stopped = await csms.call("CS-1", call.RemoteStopTransaction(transaction_id=100))
    assert stopped.status == "Accepted"
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "Remote" and "idTag" not in stop


async def test_trigger_message_answers_first_then_sends_the_message(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    before = len(csms.frames)
    result = await csms.call(
        "CS-1", call.TriggerMessage(requested_message="StatusNotification", connector_id=1)
    )
    assert result.status == "Accepted"
    await csms.wait_for("StatusNotification", count=3)
    after = csms.frames[before:]
    answer = next(i for i, f in enumerate(after) if f.kind == 3 and f.direction == "in")
    notification = next(i for i, f in enumerate(after) if f.action == "StatusNotification")
    assert answer < notification
    wrong = await csms.call("CS-1", call.TriggerMessage(requested_message="Heartbeat", connector_id=9))
    assert wrong.status == "Rejected"


async def test_pending_boot_waits_but_a_triggered_boot_can_accept(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    csms.boot_statuses = ["Pending"]
    station = make_station()
    starting = asyncio.create_task(station.start())
    await csms.wait_for("BootNotification")
    await asyncio.sleep(0.1)
    assert not station.registered
    refused = await csms.call("CS-1", call.RemoteStartTransaction(id_tag="APP"))
    assert refused.status == "Rejected"  # §4.2: not while Pending
    assert csms.calls("StatusNotification") == []  # nothing but the boot while Pending
    await csms.call("CS-1", call.TriggerMessage(requested_message="BootNotification"))
    await asyncio.wait_for(starting, 3)
    assert station.registered
    assert len(csms.calls("BootNotification")) == 2


async def test_a_tx_profile_limits_the_power_and_clearing_restores_it(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    assert station.offered_power_w(1) == pytest.approx(22_080.0)
    profile = {
        "chargingProfileId": 7,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
        },
    }
    result = await csms.call("CS-1", call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile))
    assert result.status == "Accepted"
    assert station.charging_limit_w(1) == pytest.approx(6 * 230 * 3)
    assert station.offered_power_w(1) == pytest.approx(4_140.0)
    composite = await csms.call("CS-1", call.GetCompositeSchedule(connector_id=1, duration=600))
    assert composite.status == "Accepted"
    # (the ocpp library hands results over with snake_case keys)
    assert composite.charging_schedule["charging_schedule_period"] == [
        {"start_period": 0, "limit": 6.0, "number_phases": 3}
    ]
    cleared = await csms.call("CS-1", call.ClearChargingProfile(id=7))
    assert cleared.status == "Accepted"
    assert station.charging_limit_w(1) is None
    none_left = await csms.call("CS-1", call.ClearChargingProfile(id=7))
    assert none_left.status == "Unknown"


async def test_a_zero_limit_suspends_charging(csms: FakeCsms, make_station: StationFactory) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}],
        },
    }
    await csms.call("CS-1", call.SetChargingProfile(connector_id=0, cs_charging_profiles=profile))
    await csms.wait_for("StatusNotification", status="SuspendedEVSE")
    assert station.power_w(1) == 0.0


async def test_a_tx_profile_without_a_transaction_is_rejected(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
        },
    }
    result = await csms.call("CS-1", call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile))
    assert result.status == "Rejected"


async def test_soft_reset_stops_the_transaction_then_boots_again(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG")
    result = await csms.call("CS-1", call.Reset(type="Soft"))
    assert result.status == "Accepted"
    await csms.wait_for("BootNotification", count=2)
    await csms.wait_for("SecurityEventNotification", type="ResetOrReboot")
    actions = [f.action for f in csms.frames if f.direction == "in" and f.kind == 2]
    assert actions.index("StopTransaction") < len(actions) - actions[::-1].index("BootNotification") - 1
    assert csms.calls("StopTransaction")[0]["reason"] == "SoftReset"
    assert station.registered and station.transaction_id(1) is None


async def test_hard_reset_sends_the_stop_transaction_after_the_new_boot(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG")
    await csms.call("CS-1", call.Reset(type="Hard"))
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "HardReset"
    actions = [f.action for f in csms.frames if f.direction == "in" and f.kind == 2]
    assert actions.index("StopTransaction") > actions.index("BootNotification", 1)


async def test_change_availability_now_or_scheduled_after_the_transaction(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station(connectors=2)
    await station.start()
    idle = await csms.call("CS-1", call.ChangeAvailability(connector_id=2, type="Inoperative"))
    assert idle.status == "Accepted"
    await csms.wait_for("StatusNotification", connectorId=2, status="Unavailable")
    with pytest.raises(SessionError):
        await station.plug_in_and_charge(2, "TAG")
    await station.plug_in_and_charge(1, "TAG")
    busy = await csms.call("CS-1", call.ChangeAvailability(connector_id=1, type="Inoperative"))
    assert busy.status == "Scheduled"
    await station.stop_session(1)
    assert csms.statuses(1)[-2:] == ["Finishing", "Unavailable"]


async def test_configuration_is_read_and_changed_over_ocpp(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    read = await csms.call("CS-1", call.GetConfiguration(key=["HeartbeatInterval", "Bogus"]))
    assert read.configuration_key == [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
    assert read.unknown_key == ["Bogus"]
    changed = await csms.call("CS-1", call.ChangeConfiguration(key="HeartbeatInterval", value="1"))
    assert changed.status == "Accepted"
    await csms.wait_for("Heartbeat", timeout_s=2.5)
    unknown = await csms.call("CS-1", call.ChangeConfiguration(key="Bogus", value="1"))
    assert unknown.status == "NotSupported"


async def test_reservation_holds_the_connector_for_its_idtag(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    reserved = await csms.call(
        "CS-1", call.ReserveNow(connector_id=1, expiry_date=iso_in(600), id_tag="MINE", reservation_id=5)
    )
    assert reserved.status == "Accepted"
    await csms.wait_for("StatusNotification", status="Reserved")
    with pytest.raises(SessionError):
        await station.plug_in_and_charge(1, "OTHER")
    await station.plug_in_and_charge(1, "MINE")
    assert csms.calls("StartTransaction")[0]["reservationId"] == 5
    assert station.reservations == {}


async def test_a_reservation_expires_back_to_available(csms: FakeCsms, make_station: StationFactory) -> None:
    station = make_station()
    await station.start()
    await csms.call(
        "CS-1", call.ReserveNow(connector_id=1, expiry_date=iso_in(1.2), id_tag="X", reservation_id=1)
    )
    await csms.wait_for("StatusNotification", status="Reserved")
    await csms.wait_for("StatusNotification", count=2, connectorId=1, status="Available", timeout_s=4)
    cancel = await csms.call("CS-1", call.CancelReservation(reservation_id=1))
    assert cancel.status == "Rejected"


async def test_signed_firmware_update_reports_each_step_and_reboots(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    from .test_certificates import ROOT_PEM

    station = make_station()
    await station.start()
    firmware = {
        "location": "https://example.invalid/fw/sim-2.1.0.bin",
        "retrieveDateTime": iso_in(-1),
        "signingCertificate": ROOT_PEM,
        "signature": base64.b64encode(b"signature").decode(),
    }
    result = await csms.call("CS-1", call.SignedUpdateFirmware(request_id=9, firmware=firmware))
    assert result.status == "Accepted"
    await csms.wait_for("SignedFirmwareStatusNotification", status="Installed", timeout_s=5)
    steps = [p["status"] for p in csms.calls("SignedFirmwareStatusNotification")]
    assert steps == [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert {p["requestId"] for p in csms.calls("SignedFirmwareStatusNotification")} == {9}
    assert csms.calls("BootNotification")[-1]["firmwareVersion"] == "sim-2.1.0"
    bad = dict(firmware, signingCertificate="not a certificate")
    refused = await csms.call("CS-1", call.SignedUpdateFirmware(request_id=10, firmware=bad))
    assert refused.status == "InvalidCertificate"


async def test_a_csr_is_sent_when_the_csms_asks_for_a_new_certificate(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await csms.call("CS-1", call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate"))
    request = await csms.wait_for("SignCertificate", timeout_s=15)
    assert request["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")


async def test_a_lost_connection_is_restored_without_a_new_boot(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await csms.sockets["CS-1"].close()
    await csms.wait_for("StatusNotification", count=2, connectorId=0, timeout_s=5)
    assert len(csms.calls("BootNotification")) == 1
    assert station.connected


async def test_basic_auth_carries_the_station_id_and_password(
    csms: FakeCsms, make_station: StationFactory
) -> None:
    station = make_station(password="s3cret-password-16")
    await station.start()
    expected = base64.b64encode(b"CS-1:s3cret-password-16").decode()
    assert csms.authorization["CS-1"] == f"Basic {expected}"
