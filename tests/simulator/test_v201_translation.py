"""Translations between the neutral simulator state and OCPP 2.x payloads."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from volthub.simulator.behaviour import (
    AuthStatus,
    ConnectorStatus,
    MeterSample,
    Readings,
    Session,
    StopReason,
)
from volthub.simulator.ev import ElectricVehicle
from volthub.simulator.smart_charging import ProfileKind, ProfilePurpose, RateUnit, Recurrency
from volthub.simulator.v201 import (
    STOP_REASONS_2X,
    SimulatedStation21,
    SimulatedStation201,
    auth_entry_2x,
    charging_state,
    chunks,
    connector_status_2x,
    meter_value_2x,
    profile_from_v201,
    sampled_values_2x,
)

READINGS = Readings(
    energy_register_wh=1234.4,
    energy_interval_wh=100.0,
    power_w=7360.0,
    offered_power_w=11040.0,
    phases=1,
    current_a=32.0,
    offered_current_a=48.0,
    voltage_v=(231.2,),
    frequency_hz=50.01,
    temperature_c=30.0,
    soc_percent=55.5,
)


def test_every_ev_state_is_occupied_in_2x() -> None:
    assert connector_status_2x(ConnectorStatus.AVAILABLE) == "Available"
    for status in (
        ConnectorStatus.PREPARING,
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.FINISHING,
    ):
        assert connector_status_2x(status) == "Occupied"
    assert connector_status_2x(ConnectorStatus.RESERVED) == "Reserved"
    assert connector_status_2x(ConnectorStatus.UNAVAILABLE) == "Unavailable"
    assert connector_status_2x(ConnectorStatus.FAULTED) == "Faulted"


def test_charging_state_says_who_holds_back() -> None:
    ev = ElectricVehicle(battery_capacity_wh=50_000, soc_percent=50, max_ac_power_w=11_000)
    session = Session(1, "T", ev, datetime.now(UTC), 0.0, 0)
    assert charging_state(None) == "Idle"
    assert charging_state(session) == "SuspendedEVSE"  # nothing offered yet
    session.offer(11_000)
    assert charging_state(session) == "Charging"
    ev.soc_percent = 100.0
    session.offer(11_000)
    assert charging_state(session) == "SuspendedEV"


def test_stop_reasons_are_2x_trigger_and_stopped_reasons() -> None:
    assert set(STOP_REASONS_2X) == set(StopReason)
    assert STOP_REASONS_2X[StopReason.LOCAL] == ("StopAuthorized", "Local")
    assert STOP_REASONS_2X[StopReason.REMOTE] == ("RemoteStop", "Remote")
    assert STOP_REASONS_2X[StopReason.DE_AUTHORIZED] == ("Deauthorized", "DeAuthorized")


def test_sampled_values_are_numbers_with_units_and_phases() -> None:
    values = sampled_values_2x(
        READINGS,
        ("Energy.Active.Import.Register", "Current.Import", "Voltage", "SoC", "Frequency", "Temperature"),
        "Sample.Periodic",
    )
    assert values == [
        {
            "value": 1234,
            "context": "Sample.Periodic",
            "measurand": "Energy.Active.Import.Register",
            "location": "Outlet",
            "unitOfMeasure": {"unit": "Wh"},
        },
        {
            "value": 32.0,
            "context": "Sample.Periodic",
            "measurand": "Current.Import",
            "location": "Outlet",
            "unitOfMeasure": {"unit": "A"},
            "phase": "L1",
        },
        {
            "value": 231.2,
            "context": "Sample.Periodic",
            "measurand": "Voltage",
            "location": "Outlet",
            "unitOfMeasure": {"unit": "V"},
            "phase": "L1-N",
        },
        {
            "value": 55.5,
            "context": "Sample.Periodic",
            "measurand": "SoC",
            "location": "EV",
            "unitOfMeasure": {"unit": "Percent"},
        },
        {"value": 50.01, "context": "Sample.Periodic", "measurand": "Frequency", "location": "Outlet"},
    ]  # 2.x has no Temperature measurand


def test_meter_value_has_a_timestamp() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    value = meter_value_2x(
        MeterSample(moment, "Transaction.Begin", ("Energy.Active.Import.Register",), READINGS)
    )
    assert value["timestamp"] == "2026-01-02T03:04:05.678Z"
    assert value["sampledValue"][0]["context"] == "Transaction.Begin"


def test_a_2x_profile_translates() -> None:
    installed = datetime(2026, 1, 1, tzinfo=UTC)
    profile = profile_from_v201(
        {
            "id": 4,
            "stackLevel": 2,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validTo": "2027-01-01T00:00:00Z",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2026-01-01T06:00:00Z",
                    "duration": 3600,
                    "chargingRateUnit": "W",
                    "minChargingRate": 1000,
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 7000, "numberPhases": 1},
                        {"startPeriod": 1800, "limit": 3500},
                    ],
                }
            ],
        },
        2,
        installed,
    )
    assert (profile.profile_id, profile.stack_level, profile.connector_id) == (4, 2, 2)
    assert profile.purpose is ProfilePurpose.TX_DEFAULT and profile.kind is ProfileKind.RECURRING
    assert profile.recurrency is Recurrency.DAILY and profile.rate_unit is RateUnit.WATT
    assert [(p.start_period_s, p.limit, p.number_phases) for p in profile.periods] == [
        (0, 7000, 1),
        (1800, 3500, None),
    ]
    assert profile.duration_s == 3600 and profile.min_charging_rate == 1000
    assert profile.start_schedule == datetime(2026, 1, 1, 6, tzinfo=UTC)
    assert profile.valid_to == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "purpose", ["ChargingStationExternalConstraints", "PriorityCharging", "LocalGeneration"]
)
def test_profiles_the_csms_may_not_set_do_not_translate(purpose: str) -> None:
    with pytest.raises(KeyError):
        profile_from_v201(
            {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": purpose,
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
                    }
                ],
            },
            0,
            datetime.now(UTC),
        )


def test_id_token_info_translates_with_its_group() -> None:
    entry = auth_entry_2x(
        {
            "status": "NoCredit",
            "cacheExpiryDateTime": "2030-01-01T00:00:00Z",
            "groupIdToken": {"idToken": "G", "type": "Central"},
        }
    )
    assert entry.status is AuthStatus.NO_CREDIT
    assert entry.parent_id_tag == "G"
    assert entry.expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert auth_entry_2x({"status": "Whatever"}).status is AuthStatus.INVALID


def test_chunks() -> None:
    assert chunks([], 3) == [[]]
    assert chunks([1, 2, 3, 4], 3) == [[1, 2, 3], [4]]


def test_versions_and_their_handlers() -> None:
    v201 = SimulatedStation201("A", rng=random.Random(1))
    v21 = SimulatedStation21("B", rng=random.Random(1))
    assert (v201.version, v201.subprotocol) == ("2.0.1", "ocpp2.0.1")
    assert (v21.version, v21.subprotocol) == ("2.1", "ocpp2.1")
    assert "SetDERControl" in v21._handlers and "SetDERControl" not in v201._handlers
    assert set(v201._handlers) < set(v21._handlers)
    # Every action the station answers is a CSMS-initiated action of its version.
    assert set(v201._handlers) <= v201._known_actions
    assert set(v21._handlers) <= v21._known_actions
    with pytest.raises(ValueError):
        SimulatedStation201("C", version="1.6")
