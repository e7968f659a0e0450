"""The EV model: acceptance curve, energy integration, limits and the random EV mix."""

import random

import pytest

from volthub.simulator.ev import (
    ElectricVehicle,
    phase_current_a,
    power_from_current_w,
    random_ev,
)


def make_ev(soc_percent: float = 20.0, **overrides: float) -> ElectricVehicle:
    values: dict[str, float] = {
        "battery_capacity_wh": 60_000.0,
        "soc_percent": soc_percent,
        "max_ac_power_w": 11_000.0,
    }
    values.update(overrides)
    return ElectricVehicle(**values)  # type: ignore[arg-type]


def test_acceptance_is_the_maximum_below_the_taper_start() -> None:
    assert make_ev(10.0).acceptance_power_w() == 11_000.0
    assert make_ev(79.9).acceptance_power_w() == 11_000.0


def test_acceptance_tapers_linearly_above_80_percent_to_the_floor() -> None:
    assert make_ev(90.0).acceptance_power_w() == pytest.approx(11_000.0 * (1 - 0.9 * 0.5))
    assert make_ev(99.999).acceptance_power_w() == pytest.approx(1_100.0, rel=1e-3)
    assert make_ev(100.0).acceptance_power_w() == 0.0


def test_energy_below_the_taper_is_power_times_time() -> None:
    ev = make_ev(20.0)
    energy_wh = ev.charge(offered_power_w=22_000.0, duration_s=3600.0)
    assert energy_wh == pytest.approx(11_000.0)
    assert ev.soc_percent == pytest.approx(20.0 + 11_000.0 / 60_000.0 * 100.0)


def test_the_station_offer_limits_the_power() -> None:
    ev = make_ev(20.0)
    assert ev.power_w(4_000.0) == 4_000.0
    assert ev.charge(offered_power_w=4_000.0, duration_s=1800.0) == pytest.approx(2_000.0)


def test_energy_does_not_depend_on_how_time_is_sliced() -> None:
    whole = make_ev(70.0)
    sliced = make_ev(70.0)
    total_whole = whole.charge(7_000.0, 4 * 3600.0)
    total_sliced = sum(sliced.charge(7_000.0, 10.0) for _ in range(4 * 360))
    assert total_sliced == pytest.approx(total_whole, rel=1e-9)
    assert sliced.soc_percent == pytest.approx(whole.soc_percent, rel=1e-9)


def test_energy_matches_the_integral_of_the_acceptance_curve_in_the_taper() -> None:
    ev = make_ev(85.0)
    exact_wh = ev.charge(50_000.0, 600.0)
    # Numerical integral of the same curve with tiny steps of constant power.
    stepped = make_ev(85.0)
    numeric_wh = 0.0
    for _ in range(60_000):
        power_w = stepped.acceptance_power_w()
        step_wh = power_w * 0.01 / 3600.0
        stepped.soc_percent += step_wh / stepped.battery_capacity_wh * 100.0
        numeric_wh += step_wh
    assert exact_wh == pytest.approx(numeric_wh, rel=1e-4)


def test_stored_energy_grows_by_exactly_the_energy_charged() -> None:
    ev = make_ev(40.0)
    before_wh = ev.stored_energy_wh
    energy_wh = ev.charge(11_000.0, 5 * 3600.0)
    assert ev.stored_energy_wh - before_wh == pytest.approx(energy_wh)


def test_the_battery_becomes_full_in_finite_time_and_then_takes_nothing() -> None:
    ev = make_ev(95.0)
    ev.charge(11_000.0, 10 * 3600.0)
    assert ev.is_full
    assert ev.soc_percent == 100.0
    assert ev.power_w(11_000.0) == 0.0
    assert ev.charge(11_000.0, 3600.0) == 0.0


def test_nothing_is_charged_without_an_offer_or_time() -> None:
    ev = make_ev(50.0)
    assert ev.charge(0.0, 3600.0) == 0.0
    assert ev.charge(11_000.0, 0.0) == 0.0
    assert ev.soc_percent == 50.0


def test_an_offer_below_the_floor_keeps_constant_power_to_full() -> None:
    ev = make_ev(99.0, max_ac_power_w=10_000.0)
    # Below the 10 % floor the offer, not the battery, limits the power all the way.
    # 1 % of 60 kWh is left: 600 Wh, reached after 1.2 h at 500 W.
    assert ev.charge(500.0, 3600.0) == pytest.approx(500.0)
    assert not ev.is_full
    assert ev.charge(500.0, 3600.0) == pytest.approx(100.0)
    assert ev.is_full


@pytest.mark.parametrize(
    "field, value",
    [
        ("battery_capacity_wh", 0.0),
        ("soc_percent", 101.0),
        ("max_ac_power_w", -1.0),
        ("taper_floor_fraction", 0.0),
    ],
)
def test_invalid_parameters_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError):
        make_ev(**{field: value})


def test_phase_current_and_power_convert_with_230_volt_per_phase() -> None:
    assert phase_current_a(11_040.0, 3) == pytest.approx(16.0)
    assert power_from_current_w(32.0, 1) == pytest.approx(7_360.0)


def test_random_ev_is_repeatable_with_a_seed_and_plausible() -> None:
    first = [random_ev(random.Random(7)) for _ in range(3)]
    second = [random_ev(random.Random(7)) for _ in range(3)]
    assert first == second
    evs = [random_ev(random.Random(seed)) for seed in range(200)]
    assert all(10.0 <= ev.soc_percent <= 70.0 for ev in evs)
    assert {ev.phases for ev in evs} == {1, 3}
