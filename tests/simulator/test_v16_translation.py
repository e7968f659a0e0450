"""The pure OCPP 1.6 translations of the station: profiles in, meter values and times out."""

from datetime import UTC, datetime
from decimal import Decimal

from volthub.simulator.behaviour import Readings
from volthub.simulator.smart_charging import ProfileKind, ProfilePurpose, RateUnit, Recurrency, SchedulePeriod
from volthub.simulator.v16 import iso, parse_time, profile_from_v16, sampled_values

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def test_a_1_6_profile_as_the_ocpp_library_hands_it_over_translates() -> None:
    # snake_case keys and Decimal numbers: what ocpp 2.1.0 passes to a SetChargingProfile handler.
    data = {
        "charging_profile_id": 8,
        "stack_level": 2,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Recurring",
        "recurrency_kind": "Daily",
        "valid_to": "2025-12-31T00:00:00Z",
        "charging_schedule": {
            "start_schedule": "2025-01-01T00:00:00Z",
            "duration": 86400,
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": Decimal("6.5")},
                {"start_period": 3600, "limit": Decimal("16.0"), "number_phases": 1},
            ],
            "min_charging_rate": Decimal("6.0"),
        },
    }
    profile = profile_from_v16(data, connector_id=2, installed_at=NOW)
    assert (profile.profile_id, profile.stack_level, profile.connector_id) == (8, 2, 2)
    assert profile.purpose is ProfilePurpose.TX_DEFAULT
    assert profile.kind is ProfileKind.RECURRING and profile.recurrency is Recurrency.DAILY
    assert profile.rate_unit is RateUnit.AMPERE
    assert profile.periods == (SchedulePeriod(0, 6.5), SchedulePeriod(3600, 16.0, 1))
    assert profile.start_schedule == datetime(2025, 1, 1, tzinfo=UTC)
    assert profile.valid_to == datetime(2025, 12, 31, tzinfo=UTC)
    assert profile.duration_s == 86400 and profile.min_charging_rate == 6.0


def test_sampled_values_carry_units_phases_and_locations() -> None:
    readings = Readings(
        energy_register_wh=1234.6,
        energy_interval_wh=10.0,
        power_w=7360.0,
        offered_power_w=7360.0,
        phases=1,
        current_a=32.0,
        offered_current_a=32.0,
        voltage_v=(231.2,),
        frequency_hz=50.01,
        temperature_c=31.4,
        soc_percent=None,
    )
    values = sampled_values(
        readings, ("Energy.Active.Import.Register", "Current.Import", "Voltage", "SoC"), "Trigger"
    )
    assert values == [
        {
            "value": "1235",
            "context": "Trigger",
            "format": "Raw",
            "measurand": "Energy.Active.Import.Register",
            "unit": "Wh",
            "location": "Outlet",
        },
        {
            "value": "32.0",
            "context": "Trigger",
            "format": "Raw",
            "measurand": "Current.Import",
            "unit": "A",
            "location": "Outlet",
            "phase": "L1",
        },
        {
            "value": "231.2",
            "context": "Trigger",
            "format": "Raw",
            "measurand": "Voltage",
            "unit": "V",
            "location": "Outlet",
            "phase": "L1-N",
        },
    ]  # no SoC without an EV


def test_times_are_utc_with_milliseconds_and_z() -> None:
    assert iso(datetime(2025, 3, 3, 12, 0, 1, 987654, tzinfo=UTC)) == "2025-03-03T12:00:01.987Z"
    assert parse_time("2025-03-03T12:00:00") == datetime(2025, 3, 3, 12, tzinfo=UTC)
    assert parse_time("2025-03-03T13:00:00+01:00") == datetime(2025, 3, 3, 12, tzinfo=UTC)
