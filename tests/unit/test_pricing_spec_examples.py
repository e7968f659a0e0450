"""The cost engine against every worked example of OCPI 2.2.1 mod_tariffs and mod_cdrs.

Each test names the example it reproduces; expected values are the spec's, exact (unrounded)
unless the spec itself prints a rounded amount, in which case both the exact value and the
cent-rounded value are asserted. Sessions are placed on real weekdays in Europe/Amsterdam:
2024-01-15 is a Monday, 2024-01-20 a Saturday.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from volthub.domain.tariffs import Tariff, TariffDimension
from volthub.pricing.engine import CostLine, SessionCost, price_session
from volthub.pricing.money import round_money
from volthub.pricing.timeline import ChargeState, ReservationSpan, SessionTimeline, TimelinePoint

EXAMPLES = Path(__file__).resolve().parents[3] / "shared/specs/ocpi-2.2.1/examples"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
D = Decimal
MONDAY = (2024, 1, 15)
SATURDAY = (2024, 1, 20)


def load(name: str) -> Tariff:
    return Tariff.model_validate_json((EXAMPLES / name).read_text())


def local(day: tuple[int, int, int], hh: int, mm: int = 0) -> datetime:
    """A wall-clock time in Amsterdam, as a UTC instant."""
    return datetime(*day, hh, mm, tzinfo=AMSTERDAM).astimezone(UTC)


def session(start: datetime, charge_min: float, park_min: float = 0, kwh: str | Decimal = "0",
            current_a: Decimal | None = None, reserved_before_min: float | None = None,
            ) -> SessionTimeline:
    """Charging from `start` for `charge_min` (delivering `kwh` evenly), then parking."""
    charge_end = start + timedelta(minutes=charge_min)
    end = charge_end + timedelta(minutes=park_min)
    points = [TimelinePoint(start, D(0), ChargeState.CHARGING, current_a)]
    if park_min:
        points.append(TimelinePoint(charge_end, D(kwh) * 1000, ChargeState.PARKING))
    else:
        points.append(TimelinePoint(charge_end, D(kwh) * 1000, ChargeState.CHARGING, current_a))
    reservation = None
    if reserved_before_min is not None:
        reservation = ReservationSpan(start - timedelta(minutes=reserved_before_min), start)
    return SessionTimeline(tuple(points), end, reservation)


def price(tariff: Tariff, timeline: SessionTimeline) -> SessionCost:
    return price_session(tariff, timeline, AMSTERDAM)


def lines(cost: SessionCost, dimension: TariffDimension) -> list[CostLine]:
    return [line for p in cost.periods for line in p.lines if line.dimension is dimension]


def assert_amount(amount: Any, excl: str | Decimal, incl: str | Decimal) -> None:
    assert (amount.excl_vat, amount.incl_vat) == (D(excl), D(incl))


def hours(minutes: int) -> Decimal:
    """A quantity of minutes in hours, as the engine computes it (same rational, same rounding)."""
    return D(minutes) / 60


def energy_tariff(price_per_kwh: str, step_size: int, vat: str | None = None) -> Tariff:
    component: dict[str, Any] = {"type": "ENERGY", "price": price_per_kwh, "step_size": step_size}
    if vat is not None:
        component["vat"] = vat
    return Tariff.model_validate({"id": "inline", "currency": "EUR",
                                  "elements": [{"price_components": [component]}]})


def test_examples_directory_resolves() -> None:
    assert EXAMPLES.is_dir(), EXAMPLES
    assert (EXAMPLES / "tariff_8_simple_025kwh.json").is_file()


# --- mod_tariffs §Tariff object, Examples --------------------------------------------------------


def test_simple_tariff_025_per_kwh() -> None:
    """tariff_8: 20 kWh -> 5.00 / 5.50."""
    cost = price(load("tariff_8_simple_025kwh.json"), session(local(MONDAY, 10), 120, kwh="20"))
    assert_amount(cost.total_cost, "5.00", "5.50")
    assert_amount(cost.energy_cost, "5.00", "5.50")
    assert cost.total_energy_kwh == D(20)
    assert cost.bounded_by is None


def test_025_per_kwh_plus_start_fee() -> None:
    """tariff_9: 20 kWh -> 5.50 / 6.10."""
    cost = price(load("tariff_9_025kwh_start.json"), session(local(MONDAY, 10), 120, kwh="20"))
    assert_amount(cost.total_cost, "5.50", "6.10")
    assert_amount(cost.fixed_cost, "0.50", "0.60")
    assert_amount(cost.energy_cost, "5.00", "5.50")


def test_025_per_kwh_plus_minimum_price() -> None:
    """tariff_12: 20 kWh -> 5.00 / 5.50; below 2 kWh the minimum 0.50 / 0.55 applies."""
    tariff = load("tariff_12_025kwh_min_price.json")
    cost = price(tariff, session(local(MONDAY, 10), 120, kwh="20"))
    assert_amount(cost.total_cost, "5.00", "5.50")
    assert cost.bounded_by is None

    small = price(tariff, session(local(MONDAY, 10), 30, kwh="1"))
    assert_amount(small.energy_cost, "0.25", "0.275")
    assert_amount(small.total_cost, "0.50", "0.55")
    assert small.bounded_by == "min_price"


def test_025_per_kwh_plus_parking_fee_plus_start_fee() -> None:
    """tariff_10: 20 kWh and 40 min parking -> 7.00 / 7.90 (parking billed as 45 minutes)."""
    cost = price(load("tariff_10_025kwh_parking_start.json"),
                 session(local(MONDAY, 10), 120, 40, kwh="20"))
    assert_amount(cost.total_cost, "7.00", "7.90")
    assert_amount(cost.fixed_cost, "0.50", "0.60")
    assert_amount(cost.energy_cost, "5.00", "5.50")
    assert_amount(cost.parking_cost, "1.50", "1.80")
    assert [line.quantity for line in lines(cost, TariffDimension.PARKING_TIME)] == [hours(45)]


def test_025_per_kwh_plus_start_fee_plus_max_price() -> None:
    """tariff_6: 50 kWh -> capped at 10.00 / 11.00; 30 kWh -> 8.00 / 8.85."""
    tariff = load("tariff_6_025kwh_start_max_price.json")
    capped = price(tariff, session(local(MONDAY, 10), 120, kwh="50"))
    assert_amount(capped.total_cost, "10.00", "11.00")
    assert capped.bounded_by == "max_price"
    assert_amount(capped.energy_cost, "12.50", "13.75")  # the categories stay unbounded

    below = price(tariff, session(local(MONDAY, 10), 120, kwh="30"))
    assert_amount(below.total_cost, "8.00", "8.85")
    assert below.bounded_by is None


def test_simple_tariff_2_euro_per_hour() -> None:
    """tariff_1: 2.5 h charging -> 5.00 / 5.50."""
    cost = price(load("tariff_1_simple_2hour.json"), session(local(MONDAY, 10), 150, kwh="30"))
    assert_amount(cost.total_cost, "5.00", "5.50")
    assert_amount(cost.time_cost, "5.00", "5.50")
    assert cost.total_time_h == D("2.5")


def test_simple_tariff_3_euro_per_hour_5_euro_parking() -> None:
    """tariff_13: 150 min charging + 42 min parking -> 11.25 / 12.75."""
    cost = price(load("tariff_13_simple_3hour_5parking.json"),
                 session(local(MONDAY, 10), 150, 42, kwh="30"))
    assert_amount(cost.total_cost, "11.25", "12.75")
    assert_amount(cost.time_cost, "7.50", "8.25")
    assert_amount(cost.parking_cost, "3.75", "4.50")
    assert [line.quantity for line in lines(cost, TariffDimension.PARKING_TIME)] == [hours(45)]
    assert cost.total_parking_time_h == D("0.7")


def test_ad_hoc_simple_tariff_with_multiple_languages() -> None:
    """tariff_2: 2.5 h at 1.90/h + 5.2 % VAT -> 4.75 excl.; incl. exactly 4.997, printed 5.00."""
    cost = price(load("tariff_2_alt_text.json"), session(local(MONDAY, 10), 150, kwh="30"))
    assert_amount(cost.total_cost, "4.75", "4.997")
    assert round_money(cost.total_cost.incl_vat, "EUR") == D("5.00")
    assert round_money(cost.total_cost.excl_vat, "EUR") == D("4.75")
    assert_amount(cost.total_cost.rounded("EUR"), "4.75", "5.00")


def test_simple_tariff_with_alternative_url() -> None:
    """tariff_3: 20.45 kWh billed per 100 Wh = 20.5 kWh -> energy 5.125 / 5.6375."""
    cost = price(load("tariff_3_alt_url.json"), session(local(MONDAY, 10), 120, kwh="20.45"))
    assert [line.quantity for line in lines(cost, TariffDimension.ENERGY)] == [D("20.5")]
    assert_amount(cost.fixed_cost, "0.50", "0.60")
    assert_amount(cost.energy_cost, "5.125", "5.6375")
    assert_amount(cost.energy_cost.rounded("EUR"), "5.13", "5.64")
    assert_amount(cost.total_cost, "5.625", "6.2375")
    assert_amount(cost.total_cost.rounded("EUR"), "5.63", "6.24")


def test_simple_tariff_with_alternative_url_current_price_022() -> None:
    """tariff_3 with the 'assumed current energy price' of 0.22 /kWh from the alt-url page."""
    data = json.loads((EXAMPLES / "tariff_3_alt_url.json").read_text())
    for component in data["elements"][0]["price_components"]:
        if component["type"] == "ENERGY":
            component["price"] = 0.22
    tariff = Tariff.model_validate(data)
    cost = price(tariff, session(local(MONDAY, 10), 120, kwh="20.45"))
    assert_amount(cost.energy_cost, "4.51", "4.961")
    assert_amount(cost.energy_cost.rounded("EUR"), "4.51", "4.96")
    assert_amount(cost.total_cost, "5.01", "5.561")
    assert_amount(cost.total_cost.rounded("EUR"), "5.01", "5.56")


def test_complex_tariff_monday_morning() -> None:
    """tariff_4: Monday 09:30, 165 min at 16 A, then 42 min parking -> 9.00 / 10.30."""
    cost = price(load("tariff_4_complex.json"),
                 session(local(MONDAY, 9, 30), 165, 42, kwh="10", current_a=D(16)))
    assert_amount(cost.fixed_cost, "2.50", "2.875")
    assert_amount(cost.time_cost, "2.75", "3.30")  # 165 min, not rounded: parking follows
    assert_amount(cost.parking_cost, "3.75", "4.125")  # 42 -> 45 min at 5.00/h
    assert_amount(cost.total_cost, "9.00", "10.30")
    assert [line.quantity for line in lines(cost, TariffDimension.TIME)] == [hours(165)]
    assert [line.quantity for line in lines(cost, TariffDimension.PARKING_TIME)] == [hours(45)]


def test_complex_tariff_saturday_afternoon() -> None:
    """tariff_4: Saturday 13:30, 114 min at 43 A, then 71 min parking.

    Spec erratum: the table prints "Charging time | 114 minutes | 1.25 per hour | 2.28 | 20% |
    2.736" and totals 12.28 / 13.861. But 114 min = 1.9 h and 1.9 x 1.25 = 2.375 (2.85 incl.
    20 % VAT); 2.28 is 114 x 0.02, i.e. 1.20/h. Every other line of that table holds: FLAT 2.50 /
    2.875 and parking 71 -> 75 min at 6.00/h = 7.50 / 8.25. So the correct totals are
    2.50 + 2.375 + 7.50 = 12.375 excl. and 2.875 + 2.85 + 8.25 = 13.975 incl. VAT.
    """
    cost = price(load("tariff_4_complex.json"),
                 session(local(SATURDAY, 13, 30), 114, 71, kwh="10", current_a=D(43)))
    assert_amount(cost.fixed_cost, "2.50", "2.875")
    assert_amount(cost.time_cost, "2.375", "2.85")
    assert_amount(cost.parking_cost, "7.50", "8.25")
    assert_amount(cost.total_cost, "12.375", "13.975")
    assert [line.quantity for line in lines(cost, TariffDimension.TIME)] == [D("1.9")]
    assert [line.unit_price for line in lines(cost, TariffDimension.TIME)] == [D("1.25")]
    assert [line.quantity for line in lines(cost, TariffDimension.PARKING_TIME)] == [D("1.25")]


def test_free_of_charge_tariff() -> None:
    """tariff_5: a FLAT 0.00 element -> 0 / 0."""
    cost = price(load("tariff_5_free_of_charge.json"), session(local(MONDAY, 10), 120, 30, kwh="20"))
    assert_amount(cost.total_cost, "0", "0")
    assert cost.total_cost.is_zero


def test_reservation_price() -> None:
    """tariff_15: reserved 15 min before the session, 20 kWh -> 6.75 / 7.60."""
    cost = price(load("tariff_15_reservation_5_euro_per_hour.json"),
                 session(local(MONDAY, 10), 120, kwh="20", reserved_before_min=15))
    assert_amount(cost.fixed_cost, "0.50", "0.60")
    assert_amount(cost.energy_cost, "5.00", "5.50")
    assert_amount(cost.reservation_cost, "1.25", "1.50")
    assert_amount(cost.total_cost, "6.75", "7.60")
    assert cost.total_reservation_time_h == D("0.25")


def test_reservation_price_and_fee() -> None:
    """tariff_16: reserved 13 min before (billed 15), 20 kWh -> 8.75 / 10.00."""
    cost = price(load("tariff_16_reservation_2_euro_fee_5_euro_per_hour.json"),
                 session(local(MONDAY, 10), 120, kwh="20", reserved_before_min=13))
    assert_amount(cost.reservation_cost, "3.25", "3.90")  # FLAT 2.00/2.40 + 15 min 1.25/1.50
    assert_amount(cost.fixed_cost, "0.50", "0.60")
    assert_amount(cost.energy_cost, "5.00", "5.50")
    assert_amount(cost.total_cost, "8.75", "10.00")
    flats = lines(cost, TariffDimension.FLAT)
    assert [(line.cost.excl_vat, line.cost.incl_vat) for line in flats] == [
        (D("2.00"), D("2.40")), (D("0.50"), D("0.60"))]
    assert [line.quantity for line in lines(cost, TariffDimension.TIME)] == [hours(15)]


def test_reservation_price_and_expire_fee() -> None:
    """tariff_17: 22 min reservation (billed 30) then 20 kWh -> 6.50 / 7.30."""
    cost = price(load("tariff_17_reservation_with_expire_fee.json"),
                 session(local(MONDAY, 10), 120, kwh="20", reserved_before_min=22))
    assert_amount(cost.reservation_cost, "1.00", "1.20")
    assert_amount(cost.fixed_cost, "0.50", "0.60")
    assert_amount(cost.energy_cost, "5.00", "5.50")
    assert_amount(cost.total_cost, "6.50", "7.30")


def test_reservation_price_and_expire_fee_expired() -> None:
    """tariff_17: a 1 h reservation that expires without a session -> 4.00 fee + 2.00 time."""
    start = local(MONDAY, 10)
    timeline = SessionTimeline((), start + timedelta(hours=1),
                               ReservationSpan(start, start + timedelta(hours=1), expired=True))
    cost = price(load("tariff_17_reservation_with_expire_fee.json"), timeline)
    assert_amount(cost.total_cost, "6.00", "7.20")
    assert_amount(cost.reservation_cost, "6.00", "7.20")
    assert_amount(cost.fixed_cost, "0", "0")
    assert_amount(cost.energy_cost, "0", "0")
    flat = lines(cost, TariffDimension.FLAT)
    time = lines(cost, TariffDimension.TIME)
    assert [(line.cost.excl_vat, line.cost.incl_vat) for line in flat] == [(D("4.00"), D("4.80"))]
    assert [(line.cost.excl_vat, line.cost.incl_vat) for line in time] == [(D("2.00"), D("2.40"))]
    assert cost.total_reservation_time_h == D(1)


def test_reservation_time_and_expire_time() -> None:
    """tariff_18: 22 min reservation (billed 30 at 3.00/h) then 20 kWh -> 7.00 / 7.90."""
    cost = price(load("tariff_18_reservation_with_expire_time.json"),
                 session(local(MONDAY, 10), 120, kwh="20", reserved_before_min=22))
    assert_amount(cost.reservation_cost, "1.50", "1.80")
    assert_amount(cost.fixed_cost, "0.50", "0.60")
    assert_amount(cost.energy_cost, "5.00", "5.50")
    assert_amount(cost.total_cost, "7.00", "7.90")


def test_reservation_time_and_expire_time_expired() -> None:
    """tariff_18: a 90 min reservation that expires -> 90 min at the expiry price 6.00/h."""
    start = local(MONDAY, 10)
    end = start + timedelta(minutes=90)
    cost = price(load("tariff_18_reservation_with_expire_time.json"),
                 SessionTimeline((), end, ReservationSpan(start, end, expired=True)))
    assert_amount(cost.total_cost, "9.00", "10.80")
    assert_amount(cost.reservation_cost, "9.00", "10.80")
    assert [line.unit_price for line in lines(cost, TariffDimension.TIME)] == [D("6.00")]


def test_ad_hoc_tariff_not_possible_with_ocpi_parses_and_prices() -> None:
    """tariff_11: FLAT 0.40 (25 % VAT) + 1.90/h (5.2 % VAT, per 5 min): 2 h -> 0.40 + 3.80."""
    cost = price(load("tariff_11_not_possible_alt_text.json"), session(local(MONDAY, 10), 120))
    assert_amount(cost.fixed_cost, "0.40", "0.50")
    assert_amount(cost.time_cost, "3.80", "3.9976")
    assert_amount(cost.total_cost, "4.20", "4.4976")


def test_put_example_parses_and_prices() -> None:
    """tariff_put_example ("New Tariff 2 euro per hour"): TIME 2.00/h, 10 % VAT, per 5 min.

    (That file has no FLAT component; 2 h -> 4.00 / 4.40.)
    """
    tariff = load("tariff_put_example.json")
    assert tariff.last_updated is None
    cost = price(tariff, session(local(MONDAY, 10), 120))
    assert_amount(cost.total_cost, "4.00", "4.40")
    assert_amount(cost.fixed_cost, "0", "0")


# --- mod_tariffs §PriceComponent: step_size and the step_size example tariff ---------------------


@pytest.mark.parametrize(("step_size", "billed_wh", "excl"), [
    (1, "116", "0.029"),
    (25, "125", "0.03125"),  # the spec prints the rounded EUR 0.031
    (500, "500", "0.125"),
])
def test_price_component_step_size_note(step_size: int, billed_wh: str, excl: str) -> None:
    """ENERGY 0.25/kWh, 115.2 Wh charged, billed up to the next multiple of step_size."""
    start = local(MONDAY, 10)
    timeline = SessionTimeline((TimelinePoint(start, D(0)),
                                TimelinePoint(start + timedelta(minutes=1), D("115.2"))),
                               start + timedelta(minutes=1))
    cost = price(energy_tariff("0.25", step_size), timeline)
    assert [line.quantity for line in lines(cost, TariffDimension.ENERGY)] == [D(billed_wh) / 1000]
    assert_amount(cost.total_cost, excl, excl)
    if step_size == 25:
        assert round_money(cost.total_cost.excl_vat, "EUR") == D("0.03")
        assert round_money(cost.total_cost.excl_vat, "KWD") == D("0.031")


def test_step_size_switching_to_different_tariff_element_1() -> None:
    """tariff_14 #1: 16:55, 10 min charging, 2 min parking -> 0.55."""
    cost = price(load("tariff_14_step_size.json"), session(local(MONDAY, 16, 55), 10, 2, kwh="2"))
    time = lines(cost, TariffDimension.TIME)
    assert [(line.quantity, line.unit_price, line.cost.excl_vat) for line in time] == [
        (hours(5), D("1.20"), D("0.10")), (hours(5), D("2.40"), D("0.20"))]
    assert_amount(cost.time_cost, "0.30", "0.30")
    assert [line.quantity for line in lines(cost, TariffDimension.PARKING_TIME)] == [hours(15)]
    assert_amount(cost.parking_cost, "0.25", "0.25")
    assert_amount(cost.total_cost, "0.55", "0.55")  # no VAT in this tariff


def test_step_size_switching_to_different_tariff_element_2() -> None:
    """tariff_14 #2: 16:35, 35 min charging, no parking -> 35 rounded to 45 min total -> 1.30."""
    cost = price(load("tariff_14_step_size.json"), session(local(MONDAY, 16, 35), 35, kwh="2"))
    time = lines(cost, TariffDimension.TIME)
    assert [(line.quantity, line.unit_price, line.cost.excl_vat) for line in time] == [
        (hours(25), D("1.20"), D("0.50")), (hours(20), D("2.40"), D("0.80"))]
    assert_amount(cost.time_cost, "1.30", "1.30")
    assert_amount(cost.total_cost, "1.30", "1.30")


def test_step_size_switching_to_free_of_charge_tariff_element() -> None:
    """tariff_14 #3: 19:40, 12 min charging, 20 min parking (free after 20:00) -> 0.73."""
    cost = price(load("tariff_14_step_size.json"), session(local(MONDAY, 19, 40), 12, 20, kwh="2"))
    time = lines(cost, TariffDimension.TIME)
    assert [(line.quantity, line.cost.excl_vat) for line in time] == [(hours(12), D("0.48"))]
    parking = lines(cost, TariffDimension.PARKING_TIME)
    assert [(line.quantity, line.cost.excl_vat) for line in parking] == [(hours(15), D("0.25"))]
    # the 7 extra minutes go to the 19:52-20:00 period, the last one with a time-based price
    billed_period = next(p for p in cost.periods if TariffDimension.PARKING_TIME in p.components)
    assert (billed_period.start, billed_period.end) == (local(MONDAY, 19, 52), local(MONDAY, 20))
    assert_amount(cost.total_cost, "0.73", "0.73")


# --- max_power / max_duration restriction examples ------------------------------------------------


def test_tariff_with_max_power_restrictions() -> None:
    """1 kWh at 6 kW (0.20), 40 kWh at 48 kW (0.50), 0.5 kWh at 4 kW (0.20) -> 20.30."""
    start = local(MONDAY, 10)
    at = [start, start + timedelta(minutes=10), start + timedelta(minutes=60),
          start + timedelta(minutes=67, seconds=30)]
    wh = [D(0), D(1000), D(41000), D(41500)]
    timeline = SessionTimeline(tuple(TimelinePoint(a, w) for a, w in zip(at, wh, strict=True)), at[-1])
    cost = price(load("tariffrestriction_example_max_power.json"), timeline)
    energy = lines(cost, TariffDimension.ENERGY)
    assert [(line.quantity, line.unit_price, line.cost.excl_vat) for line in energy] == [
        (D(1), D("0.20"), D("0.20")), (D(40), D("0.50"), D("20.00")), (D("0.5"), D("0.20"), D("0.10"))]
    micro_kw = D("0.000001")  # exact 6 kW is checked in the next test
    assert [p.max_power_kw.quantize(micro_kw) for p in cost.periods if p.max_power_kw] == [6, 48, 4]
    assert_amount(cost.total_cost, "20.30", "24.36")


def test_min_power_is_inclusive_at_exactly_that_power() -> None:
    """min_power: "charging with more than, or equal to, the defined amount of power" matches.

    1 kWh in exactly 10 minutes is exactly 6 kW (the first reading of the max_power example), so a
    `min_power: 6` element must apply and the period must report 6 kW.
    """
    tariff = Tariff.model_validate({"id": "p", "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": "0.50", "step_size": 1}],
         "restrictions": {"min_power": 6}},
        {"price_components": [{"type": "ENERGY", "price": "0.20", "step_size": 1}]}]})
    start = local(MONDAY, 10)
    end = start + timedelta(minutes=10)
    cost = price(tariff, SessionTimeline((TimelinePoint(start, D(0)), TimelinePoint(end, D(1000))), end))
    assert [p.max_power_kw for p in cost.periods] == [D(6)]
    assert_amount(cost.energy_cost, "0.50", "0.50")


def test_tariff_with_max_duration_restrictions() -> None:
    """40 min: 5 kWh in the first 30 (free), 1.2 kWh in the last 10 (0.25/kWh) -> 0.30."""
    start = local(MONDAY, 10)
    timeline = SessionTimeline((TimelinePoint(start, D(0)),
                                TimelinePoint(start + timedelta(minutes=30), D(5000)),
                                TimelinePoint(start + timedelta(minutes=40), D(6200))),
                               start + timedelta(minutes=40))
    cost = price(load("tariffrestriction_example_max_duration.json"), timeline)
    energy = lines(cost, TariffDimension.ENERGY)
    assert [(line.quantity, line.unit_price) for line in energy] == [(D(5), D(0)), (D("1.2"), D("0.25"))]
    assert_amount(cost.total_cost, "0.30", "0.36")


# --- mod_cdrs §step_size examples ----------------------------------------------------------------


def _before_after_17(dimension: str, before: str, after: str, step_size: int) -> Tariff:
    return Tariff.model_validate({"id": "cdrs", "currency": "EUR", "elements": [
        {"price_components": [{"type": dimension, "price": before, "step_size": step_size}],
         "restrictions": {"start_time": "00:00", "end_time": "17:00"}},
        {"price_components": [{"type": dimension, "price": after, "step_size": step_size}],
         "restrictions": {"start_time": "17:00", "end_time": "00:00"}},
    ]})


def test_cdrs_step_size_energy_total_not_last_period() -> None:
    """0.20 before / 0.27 after 17:00, 500 Wh steps; 4.3 + 1.1 kWh -> 5.5 total (4.3 + 1.2)."""
    tariff = _before_after_17("ENERGY", "0.20", "0.27", 500)
    timeline = SessionTimeline((TimelinePoint(local(MONDAY, 16), D(0)),
                                TimelinePoint(local(MONDAY, 17), D(4300)),
                                TimelinePoint(local(MONDAY, 18), D(5400))), local(MONDAY, 18))
    cost = price(tariff, timeline)
    energy = lines(cost, TariffDimension.ENERGY)
    assert [(line.quantity, line.unit_price) for line in energy] == [
        (D("4.3"), D("0.20")), (D("1.2"), D("0.27"))]
    assert sum(line.quantity for line in energy) == D("5.5")
    assert_amount(cost.energy_cost, "1.184", "1.184")  # 0.86 + 0.324


def test_cdrs_step_size_time_total_not_last_period() -> None:
    """5/h before and 7/h after 17:00, 10 min steps; 6 + 22 min -> 30 total (6 at 5, 24 at 7)."""
    tariff = _before_after_17("TIME", "5", "7", 600)
    cost = price(tariff, session(local(MONDAY, 16, 54), 28))
    time = lines(cost, TariffDimension.TIME)
    assert [(line.quantity, line.unit_price) for line in time] == [(D("0.1"), D(5)), (D("0.4"), D(7))]
    assert_amount(cost.time_cost, "3.30", "3.30")  # 0.50 + 2.80


@pytest.mark.parametrize(("step_size", "charge_min", "park_min", "billed_park_min"), [
    (300, 21, 7, 10),  # "step_size for both charging and parking is 5 minutes"
    (600, 21, 7, 10),
    (600, 21, 16, 20),  # "Both Price Components have a step_size of 10 minutes"
])
def test_cdrs_step_size_time_then_parking(step_size: int, charge_min: int, park_min: int,
                                          billed_park_min: int) -> None:
    """TIME 1/h, PARKING_TIME 2/h: charging is not rounded, the parking total is."""
    tariff = Tariff.model_validate({"id": "cdrs", "currency": "EUR", "elements": [
        {"price_components": [{"type": "TIME", "price": 1, "step_size": step_size},
                              {"type": "PARKING_TIME", "price": 2, "step_size": step_size}]}]})
    cost = price(tariff, session(local(MONDAY, 10), charge_min, park_min, kwh="5"))
    assert [line.quantity for line in lines(cost, TariffDimension.TIME)] == [hours(charge_min)]
    parking = lines(cost, TariffDimension.PARKING_TIME)
    assert [line.quantity for line in parking] == [hours(billed_park_min)]
    assert cost.time_cost.excl_vat == D(charge_min) / 60
    assert cost.parking_cost.excl_vat == D(billed_park_min * 2) / 60


# --- mod_cdrs §Example of a CDR ------------------------------------------------------------------


def test_cdr_example() -> None:
    """cdr_example.json: TIME 2.00/h, 10 % VAT, per 5 min, over 1.973 h -> 4.00 / 4.40."""
    cdr = json.loads((EXAMPLES / "cdr_example.json").read_text())
    tariff = Tariff.model_validate(cdr["tariffs"][0])
    start = datetime.fromisoformat(cdr["start_date_time"])
    end = datetime.fromisoformat(cdr["end_date_time"])
    wh = D(str(cdr["total_energy"])) * 1000
    timeline = SessionTimeline((TimelinePoint(start, D(0)), TimelinePoint(end, wh)), end)
    cost = price_session(tariff, timeline, ZoneInfo("Europe/Brussels"))
    assert cost.total_time_h.quantize(D("0.001")) == D(str(cdr["total_time"])) == D("1.973")
    assert cost.total_energy_kwh == D("15.342")
    assert [line.quantity for line in lines(cost, TariffDimension.TIME)] == [D(2)]  # 7103 s -> 7200 s
    expected = (D(str(cdr["total_cost"]["excl_vat"])), D(str(cdr["total_cost"]["incl_vat"])))
    assert expected == (D("4.00"), D("4.40"))
    rounded = cost.total_cost.rounded(cdr["currency"])
    assert (rounded.excl_vat, rounded.incl_vat) == expected
    assert_amount(cost.time_cost.rounded("EUR"), "4.00", "4.40")
