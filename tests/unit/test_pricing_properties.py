"""Properties of the cost engine that must hold for any tariff and session (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from volthub.domain.tariffs import Tariff, TariffDimension
from volthub.pricing.engine import SessionCost, price_session
from volthub.pricing.money import Amount
from volthub.pricing.timeline import ChargeState, ReservationSpan, SessionTimeline, TimelinePoint

D = Decimal
START = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)  # a Monday
ZONE = UTC
FEW = settings(max_examples=60, deadline=None)

prices = st.decimals(min_value=0, max_value=5, places=2)
vats = st.decimals(min_value=0, max_value=30, places=1)
maybe_vat = st.none() | vats
energy_wh = st.decimals(min_value=0, max_value=150_000, places=1)


def component(kind: str, price: Decimal, step_size: int, vat: Decimal | None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "price": str(price), "step_size": step_size}
    if vat is not None:
        data["vat"] = str(vat)
    return data


def tariff(*components: dict[str, Any], min_price: dict[str, str] | None = None,
           max_price: dict[str, str] | None = None) -> Tariff:
    data: dict[str, Any] = {"id": "prop", "currency": "EUR",
                            "elements": [{"price_components": list(components)}]}
    if min_price is not None:
        data["min_price"] = min_price
    if max_price is not None:
        data["max_price"] = max_price
    return Tariff.model_validate(data)


def timeline(charge_s: int, park_s: int = 0, wh: Decimal = D(0),
             reserved_s: int | None = None) -> SessionTimeline:
    """Charging for charge_s (delivering wh evenly), then parking for park_s."""
    charge_end = START + timedelta(seconds=charge_s)
    state = ChargeState.PARKING if park_s else ChargeState.CHARGING
    points = (TimelinePoint(START, D(0)), TimelinePoint(charge_end, wh, state))
    reservation = None
    if reserved_s is not None:
        reservation = ReservationSpan(START - timedelta(seconds=reserved_s), START)
    return SessionTimeline(points, charge_end + timedelta(seconds=park_s), reservation)


def price(t: Tariff, tl: SessionTimeline) -> SessionCost:
    return price_session(t, tl, ZONE)


def pair(a: Amount) -> tuple[Decimal, Decimal]:
    return a.excl_vat, a.incl_vat


def categories(cost: SessionCost) -> Amount:
    return (cost.fixed_cost + cost.energy_cost + cost.time_cost + cost.parking_cost
            + cost.reservation_cost)


def line_total(cost: SessionCost) -> Amount:
    total = Amount()
    for period in cost.periods:
        total = total + period.cost
    return total


@FEW
@given(unit=prices, step=st.integers(0, 5000), vat=maybe_vat, a=energy_wh, b=energy_wh)
def test_cost_never_decreases_as_energy_grows(unit: Decimal, step: int, vat: Decimal | None,
                                              a: Decimal, b: Decimal) -> None:
    t = tariff(component("ENERGY", unit, step, vat))
    low, high = sorted((a, b))
    smaller, larger = price(t, timeline(3600, wh=low)), price(t, timeline(3600, wh=high))
    assert smaller.total_cost.excl_vat <= larger.total_cost.excl_vat
    assert smaller.total_cost.incl_vat <= larger.total_cost.incl_vat


time_tariffs = st.builds(
    lambda tp, ts, tv, pp, ps, pv: tariff(component("TIME", tp, ts, tv),
                                          component("PARKING_TIME", pp, ps, pv)),
    prices, st.integers(0, 3600), maybe_vat, prices, st.integers(0, 3600), maybe_vat)
seconds = st.integers(min_value=1, max_value=6 * 3600)


@FEW
@given(t=time_tariffs, a=seconds, b=seconds, park=st.integers(0, 3 * 3600))
def test_cost_never_decreases_as_charging_time_grows(t: Tariff, a: int, b: int, park: int) -> None:
    low, high = sorted((a, b))
    shorter, longer = price(t, timeline(low, park)), price(t, timeline(high, park))
    assert shorter.total_cost.excl_vat <= longer.total_cost.excl_vat
    assert shorter.total_cost.incl_vat <= longer.total_cost.incl_vat


@FEW
@given(t=time_tariffs, charge=seconds, a=seconds, b=seconds)
def test_cost_never_decreases_as_parking_time_grows(t: Tariff, charge: int, a: int, b: int) -> None:
    # From some parking on: going from no parking at all to a little parking can legitimately
    # cost less, because the charging time is then no longer rounded to its step_size
    # (mod_cdrs §step_size: "not taken into account when switching ... to paying for parking").
    low, high = sorted((a, b))
    shorter, longer = price(t, timeline(charge, low)), price(t, timeline(charge, high))
    assert shorter.total_cost.excl_vat <= longer.total_cost.excl_vat
    assert shorter.total_cost.incl_vat <= longer.total_cost.incl_vat


# Quantities chosen so every amount is a terminating decimal: time in multiples of 36 s (0.01 h),
# energy in whole Wh, prices in cents. Then "exactly" means exactly.
hundredths_of_hour = st.integers(min_value=0, max_value=400).map(lambda n: 36 * n)


@FEW
@given(vat=maybe_vat, flat=prices, energy=prices, time=prices, parking=prices,
       energy_step=st.integers(0, 1000), time_step=hundredths_of_hour, park_step=hundredths_of_hour,
       charge=hundredths_of_hour.filter(bool), park=hundredths_of_hour,
       wh=st.integers(0, 100_000))
def test_incl_vat_is_excl_times_vat_when_all_components_share_it(
        vat: Decimal | None, flat: Decimal, energy: Decimal, time: Decimal, parking: Decimal,
        energy_step: int, time_step: int, park_step: int, charge: int, park: int, wh: int) -> None:
    t = tariff(component("FLAT", flat, 0, vat), component("ENERGY", energy, energy_step, vat),
               component("TIME", time, time_step, vat), component("PARKING_TIME", parking, park_step, vat))
    cost = price(t, timeline(charge, park, D(wh)))
    total = cost.total_cost
    if vat is None:
        assert total.incl_vat == total.excl_vat
    else:
        assert total.incl_vat == total.excl_vat * (1 + vat / 100)
    for amount in (cost.fixed_cost, cost.energy_cost, cost.time_cost, cost.parking_cost):
        assert amount.incl_vat == amount.excl_vat * (1 + D(vat or 0) / 100)


def all_dimensions(time_steps: st.SearchStrategy[int]) -> st.SearchStrategy[tuple[dict[str, Any], ...]]:
    """FLAT, ENERGY, TIME and PARKING_TIME components with independent prices, steps and VAT."""
    return st.builds(
        lambda f, fv, e, es, ev, tp, ts, tv, p, ps, pv: (
            component("FLAT", f, 0, fv), component("ENERGY", e, es, ev),
            component("TIME", tp, ts, tv), component("PARKING_TIME", p, ps, pv)),
        prices, maybe_vat, prices, st.integers(0, 1000), maybe_vat,
        prices, time_steps, maybe_vat, prices, time_steps, maybe_vat)


mixed_tariffs = all_dimensions(st.integers(0, 3600))
sessions = st.builds(timeline, seconds, st.integers(0, 3 * 3600),
                     st.decimals(min_value=0, max_value=100_000, places=1))


@FEW
@given(components=mixed_tariffs, tl=sessions)
def test_incl_vat_never_below_excl_vat(components: tuple[dict[str, Any], ...],
                                       tl: SessionTimeline) -> None:
    cost = price(tariff(*components), tl)
    for amount in (cost.total_cost, cost.fixed_cost, cost.energy_cost, cost.time_cost,
                   cost.parking_cost):
        assert amount.incl_vat >= amount.excl_vat


money = st.decimals(min_value=0, max_value=30, places=2)


@st.composite
def bounds(draw: st.DrawFn) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """Optional min_price <= max_price, each with an optional incl_vat >= its excl_vat."""
    low, high = sorted((draw(money), draw(money)))
    low_incl, high_incl = sorted((low * (1 + draw(vats) / 100), high * (1 + draw(vats) / 100)))
    min_price: dict[str, str] = {"excl_vat": str(low)}
    max_price: dict[str, str] = {"excl_vat": str(high)}
    with_incl = draw(st.sampled_from(["both", "none", "min", "max"]))
    if with_incl in ("both", "min"):
        min_price["incl_vat"] = str(low_incl)
    if with_incl in ("both", "max"):
        max_price["incl_vat"] = str(high_incl)
    which = draw(st.sampled_from(["both", "min", "max"]))
    return (min_price if which != "max" else None), (max_price if which != "min" else None)


@FEW
@given(components=mixed_tariffs, tl=sessions, limits=bounds())
@example(  # 6.20 without VAT is above max 6.00 excl. but below min 6.50 incl.
    components=(component("ENERGY", D("0.62"), 1, None),),
    tl=timeline(3600, 0, D(10_000)),
    limits=({"excl_vat": "5.00", "incl_vat": "6.50"}, {"excl_vat": "6.00"}),
)
def test_total_stays_within_min_and_max_price(
        components: tuple[dict[str, Any], ...], tl: SessionTimeline,
        limits: tuple[dict[str, str] | None, dict[str, str] | None]) -> None:
    min_price, max_price = limits
    t = tariff(*components, min_price=min_price, max_price=max_price)
    cost = price(t, tl)
    total = cost.total_cost
    if t.min_price is not None:
        assert total.excl_vat >= t.min_price.excl_vat
        if t.min_price.incl_vat is not None:
            assert total.incl_vat >= t.min_price.incl_vat
    if t.max_price is not None:
        assert total.excl_vat <= t.max_price.excl_vat
        if t.max_price.incl_vat is not None:
            assert total.incl_vat <= t.max_price.incl_vat
    unbounded = categories(cost)
    if cost.bounded_by is None:
        assert pair(total) == pair(unbounded)
    else:
        assert cost.bounded_by in ("min_price", "max_price")
        assert pair(total) != pair(unbounded)


@FEW
@given(unit=prices, step=st.integers(1, 5000), vat=maybe_vat, wh=energy_wh)
def test_billed_energy_is_the_next_multiple_of_step_size(unit: Decimal, step: int,
                                                         vat: Decimal | None, wh: Decimal) -> None:
    cost = price(tariff(component("ENERGY", unit, step, vat)), timeline(3600, wh=wh))
    energy_lines = [line for p in cost.periods for line in p.lines
                    if line.dimension is TariffDimension.ENERGY]
    assert energy_lines and energy_lines == [ln for ln in cost.periods[-1].lines
                                             if ln.dimension is TariffDimension.ENERGY]
    billed_wh = sum(line.quantity for line in energy_lines) * 1000
    assert billed_wh % step == 0
    assert wh <= billed_wh < wh + step
    assert cost.energy_cost.excl_vat == billed_wh * unit / 1000


exact_sessions = st.builds(timeline, hundredths_of_hour.filter(bool), hundredths_of_hour,
                           st.integers(0, 100_000).map(D))


@FEW
@given(components=all_dimensions(hundredths_of_hour), tl=exact_sessions,
       reservation=st.none() | st.tuples(prices, hundredths_of_hour, maybe_vat,
                                         hundredths_of_hour.filter(bool)))
def test_total_is_the_sum_of_the_categories_without_bounds(
        components: tuple[dict[str, Any], ...], tl: SessionTimeline,
        reservation: tuple[Decimal, int, Decimal | None, int] | None) -> None:
    elements: list[dict[str, Any]] = [{"price_components": list(components)}]
    if reservation is not None:
        r_price, r_step, r_vat, r_seconds = reservation
        elements.insert(0, {"price_components": [component("TIME", r_price, r_step, r_vat)],
                            "restrictions": {"reservation": "RESERVATION"}})
        tl = SessionTimeline(tl.points, tl.end,
                             ReservationSpan(START - timedelta(seconds=r_seconds), START))
    t = Tariff.model_validate({"id": "sum", "currency": "EUR", "elements": elements})
    # (durations in 0.01 h and whole Wh keep every amount a terminating decimal, so that sums in
    # any order are exact)
    cost = price(t, tl)
    assert cost.bounded_by is None
    assert pair(cost.total_cost) == pair(categories(cost)) == pair(line_total(cost))
