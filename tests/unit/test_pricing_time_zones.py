"""Time-of-day, date and weekday restrictions are local to the location; DST and price series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from volthub.domain.tariffs import Tariff, TariffDimension
from volthub.pricing.engine import SessionCost, price_session
from volthub.pricing.timeline import PricePoint, SessionTimeline, TimelinePoint

D = Decimal
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]


def wall(zone: ZoneInfo, y: int, m: int, d: int, hh: int, mm: int = 0, fold: int = 0) -> datetime:
    """A local wall-clock time at the location, as a UTC instant."""
    return datetime(y, m, d, hh, mm, tzinfo=zone, fold=fold).astimezone(UTC)


def time_tariff(*elements: tuple[str, dict[str, Any] | None], step_size: int = 1,
                kind: str = "TIME") -> Tariff:
    """One element per (price, restrictions), each with a single component of `kind`."""
    data = []
    for price, restrictions in elements:
        element: dict[str, Any] = {"price_components": [
            {"type": kind, "price": price, "step_size": step_size}]}
        if restrictions is not None:
            element["restrictions"] = restrictions
        data.append(element)
    return Tariff.model_validate({"id": "tz", "currency": "EUR", "elements": data})


def charging(start: datetime, end: datetime, wh: Decimal = D(0)) -> SessionTimeline:
    return SessionTimeline((TimelinePoint(start, D(0)), TimelinePoint(end, wh)), end)


def time_lines(cost: SessionCost, dimension: TariffDimension = TariffDimension.TIME
               ) -> list[tuple[Decimal, Decimal]]:
    """(hours or kWh, unit price) of every cost line of a dimension, in time order."""
    return [(line.quantity, line.unit_price) for p in cost.periods for line in p.lines
            if line.dimension is dimension]


def bounds(cost: SessionCost) -> list[tuple[datetime, datetime]]:
    return [(p.start.astimezone(UTC), p.end.astimezone(UTC)) for p in cost.periods]


def test_time_of_day_is_evaluated_in_the_location_time_zone() -> None:
    tariff = time_tariff(("1.00", {"start_time": "09:00", "end_time": "17:00"}), ("2.00", None))
    start = datetime(2024, 1, 15, 20, 0, tzinfo=UTC)  # 21:00 in Amsterdam, 15:00 in New York
    timeline = charging(start, start + timedelta(hours=1))

    in_amsterdam = price_session(tariff, timeline, AMSTERDAM)
    in_new_york = price_session(tariff, timeline, NEW_YORK)

    assert [p.components[TariffDimension.TIME].element_index for p in in_amsterdam.periods] == [1]
    assert [p.components[TariffDimension.TIME].element_index for p in in_new_york.periods] == [0]
    assert in_amsterdam.time_cost.excl_vat == D("2.00")
    assert in_new_york.time_cost.excl_vat == D("1.00")


# DST. The instants are given either as UTC or as aware datetimes in the location's own zone;
# both are "time-zone aware" as SessionTimeline requires, and both denote the same instants.
GIVEN_AS = pytest.mark.parametrize("given_as", ["utc", "local"])


def _instant(local_time: datetime, given_as: str) -> datetime:
    return local_time.astimezone(UTC) if given_as == "utc" else local_time


@GIVEN_AS
def test_spring_forward_session_lasts_one_real_hour(given_as: str) -> None:
    """2024-03-31 02:00 -> 03:00 in Amsterdam: 01:30-03:30 local is one hour, and a "01:00"-
    "03:00" restriction covers only the 30 minutes that exist (01:30-02:00)."""
    start = _instant(datetime(2024, 3, 31, 1, 30, tzinfo=AMSTERDAM), given_as)
    end = _instant(datetime(2024, 3, 31, 3, 30, tzinfo=AMSTERDAM), given_as)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=1)

    flat_rate = time_tariff(("1.00", None), step_size=60)
    cost = price_session(flat_rate, charging(start, end), AMSTERDAM)
    assert cost.time_cost.excl_vat == D("1.00")
    assert cost.total_time_h == D(1)

    tariff = time_tariff(("1.00", {"start_time": "01:00", "end_time": "03:00"}), ("10.00", None))
    cost = price_session(tariff, charging(start, end), AMSTERDAM)
    assert cost.total_time_h == D(1)
    assert time_lines(cost) == [(D("0.5"), D("1.00")), (D("0.5"), D("10.00"))]
    assert cost.time_cost.excl_vat == D("5.50")

    # 10 kWh delivered evenly over the real hour: 5 kWh in each half
    energy = time_tariff(("0.10", {"start_time": "01:00", "end_time": "03:00"}), ("0.30", None),
                         kind="ENERGY")
    cost = price_session(energy, charging(start, end, D(10_000)), AMSTERDAM)
    assert time_lines(cost, TariffDimension.ENERGY) == [(D(5), D("0.10")), (D(5), D("0.30"))]
    assert cost.energy_cost.excl_vat == D("2.00")
    assert [p.max_power_kw for p in cost.periods] == [D(10), D(10)]


@GIVEN_AS
def test_fall_back_session_lasts_three_real_hours(given_as: str) -> None:
    """2024-10-27 03:00 -> 02:00 in Amsterdam: 01:30-03:30 local is three hours, and a "02:00"-
    "03:00" restriction is active in both repeated 02:00-03:00 hours."""
    start = _instant(datetime(2024, 10, 27, 1, 30, tzinfo=AMSTERDAM), given_as)
    end = _instant(datetime(2024, 10, 27, 3, 30, tzinfo=AMSTERDAM), given_as)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=3)

    flat_rate = time_tariff(("1.00", None), step_size=60)
    cost = price_session(flat_rate, charging(start, end), AMSTERDAM)
    assert cost.time_cost.excl_vat == D("3.00")
    assert cost.total_time_h == D(3)

    tariff = time_tariff(("1.00", {"start_time": "02:00", "end_time": "03:00"}), ("10.00", None))
    cost = price_session(tariff, charging(start, end), AMSTERDAM)
    assert time_lines(cost) == [(D("0.5"), D("10.00")), (D(2), D("1.00")), (D("0.5"), D("10.00"))]
    first_02 = wall(AMSTERDAM, 2024, 10, 27, 2, fold=0)
    second_03 = wall(AMSTERDAM, 2024, 10, 27, 3)
    assert second_03 - first_02 == timedelta(hours=2)
    assert bounds(cost)[1] == (first_02, second_03)
    assert cost.time_cost.excl_vat == D("12.00")


@pytest.mark.parametrize("zone", [AMSTERDAM, NEW_YORK], ids=str)
def test_day_of_week_changes_at_local_midnight(zone: ZoneInfo) -> None:
    """Friday 22:30 to Saturday 00:30 local splits at local midnight, not at UTC midnight."""
    tariff = time_tariff(("1.00", {"day_of_week": WEEKDAYS}),
                         ("2.00", {"day_of_week": ["SATURDAY", "SUNDAY"]}))
    start, end = wall(zone, 2024, 1, 19, 22, 30), wall(zone, 2024, 1, 20, 0, 30)
    midnight = wall(zone, 2024, 1, 20, 0)
    assert midnight != datetime(2024, 1, 20, tzinfo=UTC)

    cost = price_session(tariff, charging(start, end), zone)
    assert bounds(cost) == [(start, midnight), (midnight, end)]
    assert time_lines(cost) == [(D("1.5"), D("1.00")), (D("0.5"), D("2.00"))]
    assert cost.time_cost.excl_vat == D("2.50")


def test_start_date_inclusive_end_date_exclusive_in_local_dates() -> None:
    """A promotion valid 2024-01-16 (inclusive) until 2024-01-17 (exclusive), local dates."""
    tariff = time_tariff(("1.00", {"start_date": "2024-01-16", "end_date": "2024-01-17"}),
                         ("2.00", None))
    start, end = wall(AMSTERDAM, 2024, 1, 15, 22), wall(AMSTERDAM, 2024, 1, 17, 2)
    day_start, day_end = wall(AMSTERDAM, 2024, 1, 16, 0), wall(AMSTERDAM, 2024, 1, 17, 0)
    assert day_start == datetime(2024, 1, 15, 23, tzinfo=UTC)

    cost = price_session(tariff, charging(start, end), AMSTERDAM)
    assert bounds(cost) == [(start, day_start), (day_start, day_end), (day_end, end)]
    assert time_lines(cost) == [(D(2), D("2.00")), (D(24), D("1.00")), (D(2), D("2.00"))]
    assert cost.time_cost.excl_vat == D("32.00")


def test_end_time_midnight_means_end_of_day() -> None:
    tariff = time_tariff(("1.00", {"start_time": "20:00", "end_time": "00:00"}), ("2.00", None))
    start, end = wall(AMSTERDAM, 2024, 1, 15, 19), wall(AMSTERDAM, 2024, 1, 16, 1)
    cost = price_session(tariff, charging(start, end), AMSTERDAM)
    assert bounds(cost) == [(start, wall(AMSTERDAM, 2024, 1, 15, 20)),
                            (wall(AMSTERDAM, 2024, 1, 15, 20), wall(AMSTERDAM, 2024, 1, 16, 0)),
                            (wall(AMSTERDAM, 2024, 1, 16, 0), end)]
    assert time_lines(cost) == [(D(1), D("2.00")), (D(4), D("1.00")), (D(1), D("2.00"))]
    assert cost.time_cost.excl_vat == D("8.00")


def test_time_window_wrapping_around_midnight() -> None:
    """ "22:00"-"06:00": end_time < start_time wraps to the next day."""
    tariff = time_tariff(("1.00", {"start_time": "22:00", "end_time": "06:00"}), ("2.00", None))
    start, end = wall(AMSTERDAM, 2024, 1, 15, 21), wall(AMSTERDAM, 2024, 1, 16, 7)
    cost = price_session(tariff, charging(start, end), AMSTERDAM)
    assert bounds(cost) == [(start, wall(AMSTERDAM, 2024, 1, 15, 22)),
                            (wall(AMSTERDAM, 2024, 1, 15, 22), wall(AMSTERDAM, 2024, 1, 16, 6)),
                            (wall(AMSTERDAM, 2024, 1, 16, 6), end)]
    assert time_lines(cost) == [(D(1), D("2.00")), (D(8), D("1.00")), (D(1), D("2.00"))]
    assert cost.time_cost.excl_vat == D("12.00")


def test_energy_price_follows_the_price_series_per_hour() -> None:
    """ENERGY with price_feed_id: series price + markup per hour; uncovered hours use `price`."""
    tariff = Tariff.model_validate({"id": "dyn", "currency": "EUR", "elements": [{"price_components": [
        {"type": "ENERGY", "price": "0.30", "vat": "21", "step_size": 1,
         "price_feed_id": "epex-nl", "price_feed_markup": "0.05"}]}]})
    h10, h11, h12 = (wall(AMSTERDAM, 2024, 1, 15, h) for h in (10, 11, 12))
    series = {
        "epex-nl": [PricePoint(h11, h12, D("0.20")), PricePoint(h10, h11, D("0.10"))],  # unsorted
        "other-feed": [PricePoint(h10, h12, D("9.99"))],
    }
    start, end = h10 + timedelta(minutes=30), h12 + timedelta(minutes=30)
    cost = price_session(tariff, charging(start, end, D(4000)), AMSTERDAM, series)  # 2 kW

    assert bounds(cost) == [(start, h11), (h11, h12), (h12, end)]
    assert time_lines(cost, TariffDimension.ENERGY) == [
        (D(1), D("0.15")), (D(2), D("0.25")), (D(1), D("0.30"))]  # 12:00-13:00 missing: price
    assert cost.energy_cost.excl_vat == D("0.95")  # 0.15 + 0.50 + 0.30
    assert cost.energy_cost.incl_vat == D("1.1495")

    without_series = price_session(tariff, charging(start, end, D(4000)), AMSTERDAM)
    assert time_lines(without_series, TariffDimension.ENERGY) == [(D(4), D("0.30"))]
    assert without_series.energy_cost.excl_vat == D("1.20")
