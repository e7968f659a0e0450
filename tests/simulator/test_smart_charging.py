"""Charging profiles: installation rules, the limit in force, and composite schedules."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from volthub.simulator.smart_charging import (
    ChargingProfile,
    CompositePeriod,
    Limit,
    ProfileKind,
    ProfilePurpose,
    ProfileRejected,
    ProfileStore,
    RateUnit,
    Recurrency,
    SchedulePeriod,
    StationCapabilities,
    TransactionContext,
)

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
TX = TransactionContext("42", T0)


def profile(
    profile_id: int = 1,
    *,
    purpose: ProfilePurpose = ProfilePurpose.TX_DEFAULT,
    connector_id: int = 1,
    stack_level: int = 0,
    unit: RateUnit = RateUnit.AMPERE,
    periods: tuple[tuple[int, float], ...] = ((0, 16.0),),
    kind: ProfileKind = ProfileKind.RELATIVE,
    **extra: object,
) -> ChargingProfile:
    return ChargingProfile(
        profile_id=profile_id,
        stack_level=stack_level,
        purpose=purpose,
        kind=kind,
        rate_unit=unit,
        periods=tuple(SchedulePeriod(start, limit) for start, limit in periods),
        connector_id=connector_id,
        installed_at=T0,
        **extra,  # type: ignore[arg-type]
    )


def store(connectors: int = 2) -> ProfileStore:
    return ProfileStore(StationCapabilities(connector_count=connectors, max_current_a=32.0))


def limit_a(s: ProfileStore, at: datetime, connector_id: int = 1, **kwargs: object) -> float | None:
    limit = s.connector_limit(connector_id, at, kwargs.pop("tx", TX), unit=RateUnit.AMPERE, **kwargs)  # type: ignore[arg-type]
    return None if limit is None else limit.to_unit(RateUnit.AMPERE)


def test_no_profiles_means_no_limit() -> None:
    assert store().connector_limit(1, T0, TX, unit=RateUnit.WATT) is None


def test_relative_schedule_periods_count_from_the_transaction_start() -> None:
    s = store()
    s.install(profile(periods=((0, 16.0), (600, 8.0))), None)
    assert limit_a(s, T0 + timedelta(seconds=599)) == 16.0
    assert limit_a(s, T0 + timedelta(seconds=600)) == 8.0


def test_absolute_schedule_counts_from_its_start_schedule() -> None:
    s = store()
    start = T0 - timedelta(minutes=30)
    s.install(
        profile(kind=ProfileKind.ABSOLUTE, periods=((0, 10.0), (3600, 20.0)), start_schedule=start), None
    )
    assert limit_a(s, T0) == 10.0
    assert limit_a(s, T0 + timedelta(minutes=30)) == 20.0
    assert limit_a(s, start - timedelta(seconds=1)) is None


def test_recurring_daily_schedule_repeats_every_day() -> None:
    s = store()
    midnight = datetime(2025, 1, 1, tzinfo=UTC)
    s.install(
        profile(
            kind=ProfileKind.RECURRING,
            recurrency=Recurrency.DAILY,
            start_schedule=midnight,
            periods=((0, 6.0), (8 * 3600, 32.0), (20 * 3600, 6.0)),
        ),
        None,
    )
    later_day = datetime(2025, 3, 3, tzinfo=UTC)
    assert limit_a(s, later_day + timedelta(hours=7)) == 6.0
    assert limit_a(s, later_day + timedelta(hours=9)) == 32.0
    assert limit_a(s, later_day + timedelta(hours=21)) == 6.0


def test_valid_from_and_valid_to_bound_a_profile() -> None:
    s = store()
    s.install(profile(valid_from=T0, valid_to=T0 + timedelta(hours=1)), None)
    assert limit_a(s, T0 - timedelta(seconds=1)) is None
    assert limit_a(s, T0) == 16.0
    assert limit_a(s, T0 + timedelta(hours=1)) is None


def test_highest_stack_level_prevails_and_a_lower_one_takes_over_after_its_duration() -> None:
    s = store()
    s.install(profile(1, stack_level=0, periods=((0, 20.0),)), None)
    s.install(profile(2, stack_level=5, periods=((0, 8.0),), duration_s=900), None)
    assert limit_a(s, T0 + timedelta(seconds=10)) == 8.0
    assert limit_a(s, T0 + timedelta(seconds=900)) == 20.0


def test_tx_profile_overrules_the_tx_default_profile() -> None:
    s = store()
    s.install(profile(1, periods=((0, 6.0),)), None)
    s.install(profile(2, purpose=ProfilePurpose.TX, periods=((0, 20.0),)), TX)
    # The TxProfile rules even though it is higher than the default (§3.13.1: it overrules).
    assert limit_a(s, T0) == 20.0
    assert limit_a(s, T0, tx=None) == 6.0


def test_a_connector_specific_default_replaces_the_station_wide_one_there() -> None:
    s = store()
    s.install(profile(1, connector_id=0, periods=((0, 10.0),)), None)
    s.install(profile(2, connector_id=2, periods=((0, 25.0),)), None)
    assert limit_a(s, T0, connector_id=1) == 10.0
    assert limit_a(s, T0, connector_id=2) == 25.0


def test_the_station_maximum_is_shared_by_charging_connectors_and_the_lowest_limit_wins() -> None:
    s = store()
    s.install(profile(1, purpose=ProfilePurpose.STATION_MAX, connector_id=0, periods=((0, 30.0),)), None)
    s.install(profile(2, periods=((0, 20.0),)), None)
    assert limit_a(s, T0, sharing_connectors=1) == 20.0
    assert limit_a(s, T0, sharing_connectors=2) == 15.0


def test_limits_in_amperes_convert_with_230_volt_times_phases() -> None:
    assert Limit(16.0, RateUnit.AMPERE).to_watts() == pytest.approx(11_040.0)
    assert Limit(16.0, RateUnit.AMPERE, number_phases=1).to_watts() == pytest.approx(3_680.0)
    # A single-phase EV draws the per-phase current on one phase only.
    assert Limit(16.0, RateUnit.AMPERE).to_watts(ev_phases=1) == pytest.approx(3_680.0)
    assert Limit(11_040.0, RateUnit.WATT).to_unit(RateUnit.AMPERE) == pytest.approx(16.0)


def test_mixed_units_compare_in_watts_for_the_evs_phases() -> None:
    s = store()
    s.install(
        profile(
            1, purpose=ProfilePurpose.STATION_MAX, connector_id=0, unit=RateUnit.WATT, periods=((0, 5_000.0),)
        ),
        None,
    )
    s.install(profile(2, periods=((0, 16.0),)), None)
    three_phase = s.connector_limit(1, T0, TX, unit=RateUnit.WATT, ev_phases=3)
    one_phase = s.connector_limit(1, T0, TX, unit=RateUnit.WATT, ev_phases=1)
    assert three_phase is not None and three_phase.to_watts(3) == 5_000.0
    assert one_phase is not None and one_phase.to_watts(1) == pytest.approx(3_680.0)


@pytest.mark.parametrize(
    "bad, transaction",
    [
        (profile(purpose=ProfilePurpose.TX), None),  # no transaction on the connector
        (profile(purpose=ProfilePurpose.TX, connector_id=0), TX),
        (profile(purpose=ProfilePurpose.TX, transaction_id="7"), TX),  # another transaction
        (profile(purpose=ProfilePurpose.STATION_MAX, connector_id=1), None),
        (profile(stack_level=11), None),
        (profile(periods=((10, 16.0),)), None),  # the first period must start at 0
        (profile(periods=((0, 16.0), (0, 8.0))), None),
        (profile(connector_id=3), None),
        (profile(kind=ProfileKind.RECURRING), None),  # without a recurrency kind
    ],
)
def test_profiles_against_the_rules_are_rejected(
    bad: ChargingProfile, transaction: TransactionContext | None
) -> None:
    s = store()
    with pytest.raises(ProfileRejected):
        s.install(bad, transaction)
    assert s.profiles == ()


def test_a_tx_profile_is_bound_to_the_running_transaction() -> None:
    installed = store().install(profile(purpose=ProfilePurpose.TX), TX)
    assert installed.transaction_id == "42"


def test_same_id_or_same_stack_level_and_purpose_replaces() -> None:
    s = store()
    s.install(profile(1, stack_level=0, periods=((0, 10.0),)), None)
    s.install(profile(1, stack_level=3, periods=((0, 12.0),)), None)
    assert [p.profile_id for p in s.profiles] == [1]
    s.install(profile(2, stack_level=3, periods=((0, 14.0),)), None)
    assert [(p.profile_id, p.periods[0].limit) for p in s.profiles] == [(2, 14.0)]


def test_the_number_of_installed_profiles_is_capped() -> None:
    s = ProfileStore(StationCapabilities(connector_count=1, max_current_a=32.0, max_profiles=2))
    s.install(profile(1, stack_level=0), None)
    s.install(profile(2, stack_level=1), None)
    with pytest.raises(ProfileRejected):
        s.install(profile(3, stack_level=2), None)


def test_clear_by_id_or_by_criteria() -> None:
    s = store()
    s.install(profile(1, stack_level=0), None)
    s.install(profile(2, stack_level=1), None)
    s.install(profile(3, connector_id=0, stack_level=1), None)
    assert s.clear(profile_id=2) == 1
    assert s.clear(profile_id=99) == 0
    assert s.clear(connector_id=0, stack_level=1, purpose=ProfilePurpose.TX_DEFAULT) == 1
    assert [p.profile_id for p in s.profiles] == [1]
    assert s.clear() == 1
    assert s.profiles == ()


def test_ending_the_transaction_removes_its_tx_profiles() -> None:
    s = store()
    s.install(profile(1, purpose=ProfilePurpose.TX), TX)
    s.install(profile(2), None)
    s.end_transaction(1)
    assert [p.profile_id for p in s.profiles] == [2]


def test_composite_schedule_merges_periods_and_falls_back_to_the_hardware() -> None:
    s = store()
    s.install(profile(1, periods=((0, 16.0), (600, 16.0), (1200, 8.0)), duration_s=1800), None)
    periods = s.composite_schedule(1, T0, 3600, RateUnit.AMPERE, TX)
    assert periods == [
        CompositePeriod(0, 16.0, 3),
        CompositePeriod(1200, 8.0, 3),
        CompositePeriod(1800, 32.0, 3),  # the profile ended: the 32 A hardware limit
    ]


def test_composite_schedule_in_watts_and_for_the_whole_station() -> None:
    s = store(connectors=2)
    s.install(profile(1, purpose=ProfilePurpose.STATION_MAX, connector_id=0, periods=((0, 40.0),)), None)
    # Two charging connectors share the 40 A: 20 A each, 13.8 kW on three phases.
    assert s.composite_schedule(1, T0, 60, RateUnit.WATT, TX, sharing_connectors=2) == [
        CompositePeriod(0, 13_800.0, 3)
    ]
    # Alone, one connector is held by its 32 A hardware before the 40 A station maximum.
    assert s.composite_schedule(1, T0, 60, RateUnit.WATT, TX) == [CompositePeriod(0, 22_080.0, 3)]
    assert s.composite_schedule(0, T0, 60, RateUnit.AMPERE, None) == [CompositePeriod(0, 40.0, 3)]


def test_composite_schedule_of_an_idle_connector_starts_relative_profiles_now() -> None:
    s = store()
    s.install(profile(1, periods=((0, 10.0), (300, 20.0))), None)
    later = T0 + timedelta(hours=5)
    assert s.composite_schedule(1, later, 600, RateUnit.AMPERE, None) == [
        CompositePeriod(0, 10.0, 3),
        CompositePeriod(300, 20.0, 3),
    ]


def test_a_profile_without_start_schedule_is_relative_to_charging() -> None:
    s = store()
    s.install(replace(profile(kind=ProfileKind.ABSOLUTE, periods=((0, 10.0), (60, 5.0)))), None)
    assert limit_a(s, T0 + timedelta(seconds=30)) == 10.0
    assert limit_a(s, T0 + timedelta(seconds=61)) == 5.0
