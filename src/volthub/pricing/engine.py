"""The cost engine: a pure function of (tariff, session timeline, time zone, price series).

Rules, with their source in OCPI 2.2.1 (release-2.2.1-bugfixes text):
- per instant and per dimension, the first tariff element with a component of that dimension
  whose restrictions all match (mod_tariffs §Tariff object); no match, no cost;
- a new charging period wherever the active price changes (mod_cdrs §ChargingPeriod);
- step_size once per session on the total of ENERGY, and once on TIME and PARKING_TIME
  combined: the last time-based period's dimension is rounded on its session total and the
  extra is added to that period; a TIME total followed by parking is not rounded
  (mod_cdrs §step_size, mod_tariffs §PriceComponent examples);
- FLAT once (once for the session, once for a reservation before it);
- min_price / max_price on the total, excl. and incl. VAT each (mod_tariffs notes).
Money is exact Decimal throughout; rounding to the currency happens only on totals (ADR 0006).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from itertools import pairwise

from volthub.domain.tariffs import (
    PriceComponent,
    ReservationRestriction,
    Tariff,
    TariffDimension,
    TariffElement,
)
from volthub.pricing.money import ZERO, Amount, with_vat
from volthub.pricing.restrictions import (
    Moment,
    duration_boundaries,
    energy_thresholds_wh,
    matches,
    wall_clock_boundaries,
)
from volthub.pricing.timeline import (
    ChargeState,
    PricePoint,
    PriceSeries,
    SessionTimeline,
    linear_energy_wh,
)

WH_PER_KWH = Decimal(1000)
SECONDS_PER_HOUR = Decimal(3600)
MICROSECONDS_PER_SECOND = Decimal(1_000_000)


class Phase(StrEnum):
    SESSION = "SESSION"
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRED = "RESERVATION_EXPIRED"


@dataclass(frozen=True, slots=True)
class ActiveComponent:
    """The component in force for a dimension, with the unit price it has right then."""

    element_index: int
    component: PriceComponent
    unit_price: Decimal  # excl. VAT; differs from component.price only for a price feed


@dataclass(slots=True)
class CostLine:
    """What one period pays for one dimension: billed quantity (kWh, h or 1) and its price."""

    dimension: TariffDimension
    quantity: Decimal
    unit_price: Decimal
    vat: Decimal | None
    cost: Amount


@dataclass(slots=True)
class PricedPeriod:
    """A stretch of the session with one set of active prices: a CDR ChargingPeriod."""

    start: datetime
    end: datetime
    phase: Phase
    state: ChargeState | None
    energy_wh: Decimal
    components: dict[TariffDimension, ActiveComponent]
    min_power_kw: Decimal | None = None
    max_power_kw: Decimal | None = None
    min_current_a: Decimal | None = None
    max_current_a: Decimal | None = None
    lines: list[CostLine] = field(default_factory=list)

    @property
    def duration_s(self) -> Decimal:
        return _seconds(self.end - self.start)

    @property
    def cost(self) -> Amount:
        total = Amount()
        for line in self.lines:
            total = total + line.cost
        return total


@dataclass(slots=True)
class SessionCost:
    """The priced session: periods, totals and the cost per category, all exact."""

    tariff_id: str
    currency: str
    periods: list[PricedPeriod]
    total_energy_kwh: Decimal
    total_time_h: Decimal
    total_parking_time_h: Decimal
    total_reservation_time_h: Decimal
    fixed_cost: Amount
    energy_cost: Amount
    time_cost: Amount
    parking_cost: Amount
    reservation_cost: Amount
    total_cost: Amount  # after min_price / max_price
    bounded_by: str | None = None  # "min_price" | "max_price" when a bound set the total


@dataclass(slots=True)
class _Slice:
    start: datetime
    end: datetime
    phase: Phase
    state: ChargeState | None
    energy_wh: Decimal
    power_kw: Decimal | None
    current_a: Decimal | None
    components: dict[TariffDimension, ActiveComponent]
    flat: ActiveComponent | None


def _seconds(span: timedelta) -> Decimal:
    micro = (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
    return Decimal(micro) / MICROSECONDS_PER_SECOND


def _round_up(quantity: Decimal, step: int) -> Decimal:
    """Up to the next multiple of `step` (mod_tariffs §PriceComponent step_size)."""
    if step <= 0 or quantity <= 0:
        return quantity
    return (quantity / step).to_integral_value(rounding=ROUND_CEILING) * step


class _Energy:
    """Cumulative energy along the timeline, linear between readings."""

    def __init__(self, timeline: SessionTimeline) -> None:
        self.points = timeline.points
        self.times = [p.at for p in self.points]
        self.energies_wh = [p.energy_wh for p in self.points]

    def at(self, instant: datetime) -> Decimal:
        return linear_energy_wh(self.times, self.energies_wh, instant)

    def index(self, instant: datetime) -> int:
        """The point in force at `instant` (the last one at or before it)."""
        return max(bisect_right(self.times, instant) - 1, 0)

    def average_power_kw(self, i: int, end: datetime) -> Decimal | None:
        """Average power over the reading interval that starts at point `i`."""
        a = self.points[i]
        b_at, b_wh = (self.points[i + 1].at, self.points[i + 1].energy_wh) \
            if i + 1 < len(self.points) else (end, a.energy_wh)
        seconds = _seconds(b_at - a.at)
        if seconds == 0:
            return None
        # One division: kW = Wh * 3600 / (1000 * s); an hour count rounded first would put
        # 1000 Wh in 10 minutes at 5.999... kW, just under a min_power of 6.
        return (b_wh - a.energy_wh) * SECONDS_PER_HOUR / (WH_PER_KWH * seconds)

    def crossings(self, thresholds_wh: set[Decimal]) -> set[datetime]:
        """Instants where the cumulative energy passes a min/max_kwh threshold."""
        found: set[datetime] = set()
        for a, b in pairwise(self.points):
            low, high = sorted((a.energy_wh, b.energy_wh))
            span_us = (b.at - a.at) / timedelta(microseconds=1)
            for x in thresholds_wh:
                if low < x < high and span_us > 0:
                    share = (x - a.energy_wh) / (b.energy_wh - a.energy_wh)
                    found.add(a.at + timedelta(microseconds=int(share * Decimal(span_us))))
        return found


class _Prices:
    """Unit prices of components that follow an imported price series."""

    def __init__(self, series: PriceSeries) -> None:
        self.series = {k: sorted(v, key=lambda p: p.starts_at) for k, v in series.items()}

    def boundaries(self, feed_ids: set[str], start: datetime, end: datetime) -> set[datetime]:
        found: set[datetime] = set()
        for feed in feed_ids:
            for p in self.series.get(feed, ()):
                found.update(t for t in (p.starts_at, p.ends_at) if start < t < end)
        return found

    def unit_price(self, component: PriceComponent, instant: datetime) -> Decimal:
        if component.price_feed_id is None:
            return component.price
        point = self._find(self.series.get(component.price_feed_id, ()), instant)
        if point is None:
            return component.price  # the series does not cover this instant: the set price
        return point.price + (component.price_feed_markup or ZERO)

    @staticmethod
    def _find(points: Sequence[PricePoint], instant: datetime) -> PricePoint | None:
        for p in points:
            if p.starts_at <= instant < p.ends_at:
                return p
        return None


def _eligible(tariff: Tariff, phase: Phase) -> list[tuple[int, TariffElement]]:
    """Elements that can apply in a phase, in the order they are looked up."""

    def kind(e: TariffElement) -> ReservationRestriction | None:
        return e.restrictions.reservation if e.restrictions else None

    indexed = list(enumerate(tariff.elements))
    if phase is Phase.SESSION:
        return [(i, e) for i, e in indexed if kind(e) is None]
    reserved = [(i, e) for i, e in indexed if kind(e) is ReservationRestriction.RESERVATION]
    if phase is Phase.RESERVATION:
        return reserved
    # An expired reservation: RESERVATION_EXPIRES elements win over RESERVATION ones
    # (mod_tariffs §ReservationRestrictionType note), whatever their order in the list.
    expired = [(i, e) for i, e in indexed
               if kind(e) is ReservationRestriction.RESERVATION_EXPIRES]
    return expired + reserved


def _dimensions(phase: Phase, state: ChargeState | None) -> tuple[TariffDimension, ...]:
    if phase is not Phase.SESSION:
        # "A reservation can only have: FLAT and TIME TariffDimensions."
        return (TariffDimension.TIME,)
    if state is ChargeState.PARKING:
        return (TariffDimension.ENERGY, TariffDimension.PARKING_TIME)
    return (TariffDimension.ENERGY, TariffDimension.TIME)


def _first_active(elements: list[tuple[int, TariffElement]], dimension: TariffDimension,
                  moment: Moment, prices: _Prices, instant: datetime) -> ActiveComponent | None:
    for index, element in elements:
        component = next((c for c in element.price_components if c.type is dimension), None)
        if component is not None and matches(element.restrictions, moment):
            return ActiveComponent(index, component, prices.unit_price(component, instant))
    return None


def _slices(tariff: Tariff, timeline: SessionTimeline, zone: tzinfo, prices: _Prices,
            phase: Phase, start: datetime, end: datetime) -> list[_Slice]:
    energy = _Energy(timeline)
    cuts = {start, end}
    cuts |= wall_clock_boundaries(tariff, zone, start, end)
    cuts |= duration_boundaries(tariff, start, end)
    cuts |= prices.boundaries(tariff.feed_ids(), start, end)
    if phase is Phase.SESSION:
        cuts |= {p.at for p in timeline.points if start < p.at < end}
        cuts |= energy.crossings(energy_thresholds_wh(tariff))
    ordered = sorted(cuts)
    elements = _eligible(tariff, phase)
    slices = []
    for a, b in pairwise(ordered):
        if b <= a:
            continue
        # Every restriction is constant between two cuts: judge the slice at its middle, away
        # from the inclusive/exclusive edges.
        middle = a + (b - a) / 2
        state: ChargeState | None = None
        power = current = None
        energy_wh = ZERO
        consumed_wh = ZERO
        if phase is Phase.SESSION:
            i = energy.index(a)
            point = timeline.points[i]
            state, current = point.state, point.current_a
            power = energy.average_power_kw(i, end)
            energy_wh = energy.at(b) - energy.at(a)
            consumed_wh = energy.at(middle) - timeline.points[0].energy_wh
        moment = Moment(
            local=middle.astimezone(zone),
            elapsed_s=_seconds(middle - start),
            energy_kwh=consumed_wh / WH_PER_KWH,
            power_kw=power,
            current_a=current,
        )
        components = {}
        for dimension in _dimensions(phase, state):
            active = _first_active(elements, dimension, moment, prices, middle)
            if active is not None:
                components[dimension] = active
        flat = _first_active(elements, TariffDimension.FLAT, moment, prices, middle)
        slices.append(_Slice(a, b, phase, state, energy_wh, power, current, components, flat))
    return slices


def _signature(s: _Slice) -> tuple[object, ...]:
    return (s.phase, s.state,
            tuple(sorted((d, c.element_index, c.unit_price) for d, c in s.components.items())))


def _periods(slices: list[_Slice]) -> list[PricedPeriod]:
    periods: list[PricedPeriod] = []
    previous: _Slice | None = None
    for s in slices:
        if previous is not None and periods and _signature(previous) == _signature(s):
            period = periods[-1]
            period.end = s.end
            period.energy_wh += s.energy_wh
        else:
            period = PricedPeriod(s.start, s.end, s.phase, s.state, s.energy_wh,
                                  dict(s.components))
            periods.append(period)
        if s.power_kw is not None and s.state is ChargeState.CHARGING:
            period.min_power_kw = _lowest(period.min_power_kw, s.power_kw)
            period.max_power_kw = _highest(period.max_power_kw, s.power_kw)
        if s.current_a is not None:
            period.min_current_a = _lowest(period.min_current_a, s.current_a)
            period.max_current_a = _highest(period.max_current_a, s.current_a)
        previous = s
    return periods


def _lowest(a: Decimal | None, b: Decimal) -> Decimal:
    return b if a is None else min(a, b)


def _highest(a: Decimal | None, b: Decimal) -> Decimal:
    return b if a is None else max(a, b)


def _line(dimension: TariffDimension, active: ActiveComponent, quantity: Decimal,
          unit: Decimal) -> CostLine:
    excl = quantity * active.unit_price / unit
    return CostLine(dimension, quantity / unit, active.unit_price, active.component.vat,
                    Amount(excl, with_vat(excl, active.component.vat)))


def _bill_dimension(periods: list[PricedPeriod], dimensions: set[TariffDimension],
                    unit: Decimal, quantity_of: str) -> None:
    """Add cost lines for these dimensions; step_size once, on the last period's dimension."""
    billed = [p for p in periods if dimensions & p.components.keys()]
    if not billed:
        return
    last = billed[-1]
    (last_dimension,) = dimensions & last.components.keys()
    step = last.components[last_dimension].component.step_size

    def quantity(p: PricedPeriod) -> Decimal:
        value: Decimal = getattr(p, quantity_of)
        return value

    total = sum((quantity(p) for p in billed if last_dimension in p.components), ZERO)
    extra = _round_up(total, step) - total
    for p in billed:
        for dimension in dimensions & p.components.keys():
            amount = quantity(p) + (extra if p is last and dimension is last_dimension else ZERO)
            p.lines.append(_line(dimension, p.components[dimension], amount, unit))


def _bill_flat(periods: list[PricedPeriod], slices: list[_Slice]) -> None:
    """FLAT once per phase: the first FLAT component that is active in it."""
    for s in slices:
        if s.flat is not None:
            target = next(p for p in periods if p.start <= s.start < p.end)
            target.lines.append(_line(TariffDimension.FLAT, s.flat, Decimal(1), Decimal(1)))
            return


def _bounded(tariff: Tariff, total: Amount) -> tuple[Amount, str | None]:
    """Apply min_price and max_price to excl. and incl. VAT separately (mod_tariffs notes).

    A bound given without incl_vat moves the incl. VAT total by the session's own VAT ratio,
    so that a raised or capped total keeps its VAT; the incl_vat bounds that are given are
    applied last, so neither can be undone by the other's scaling.
    """
    excl, incl, reason = total.excl_vat, total.incl_vat, None
    ratio = incl / excl if excl else Decimal(1)
    low, high = tariff.min_price, tariff.max_price
    if low is not None and excl < low.excl_vat:
        excl, reason = low.excl_vat, "min_price"
        if low.incl_vat is None:
            incl = excl * ratio
    if high is not None and excl > high.excl_vat:
        excl, reason = high.excl_vat, "max_price"
        if high.incl_vat is None:
            incl = excl * ratio
    if low is not None and low.incl_vat is not None and incl < low.incl_vat:
        incl, reason = low.incl_vat, "min_price"
    if high is not None and high.incl_vat is not None and incl > high.incl_vat:
        incl, reason = high.incl_vat, "max_price"
    return Amount(excl, incl), reason


def _in_utc(timeline: SessionTimeline) -> SessionTimeline:
    """Aware datetimes in one zone subtract as wall-clock times (a DST day would have 23 or
    25 hours of the wrong length): all arithmetic runs on UTC instants."""
    points = tuple(replace(p, at=p.at.astimezone(UTC)) for p in timeline.points)
    reservation = timeline.reservation
    if reservation is not None:
        reservation = replace(reservation, start=reservation.start.astimezone(UTC),
                              end=reservation.end.astimezone(UTC))
    return SessionTimeline(points, timeline.end.astimezone(UTC), reservation)


def price_session(tariff: Tariff, timeline: SessionTimeline, zone: tzinfo,
                  series: PriceSeries | None = None) -> SessionCost:
    """Price a session (and the reservation before it) exactly as its CDR will carry it."""
    timeline = _in_utc(timeline)
    prices = _Prices({feed: [replace(p, starts_at=p.starts_at.astimezone(UTC),
                                     ends_at=p.ends_at.astimezone(UTC)) for p in points]
                      for feed, points in (series or {}).items()})
    slices: list[_Slice] = []
    session_start = timeline.session_start
    reservation = timeline.reservation
    if reservation is not None:
        phase = Phase.RESERVATION if session_start is not None or not reservation.expired \
            else Phase.RESERVATION_EXPIRED
        until = session_start if session_start is not None else reservation.end
        if until > reservation.start:
            slices += _slices(tariff, timeline, zone, prices, phase, reservation.start, until)
    reservation_slices = list(slices)
    session_slices: list[_Slice] = []
    if session_start is not None and timeline.end > session_start:
        session_slices = _slices(tariff, timeline, zone, prices, Phase.SESSION,
                                 session_start, timeline.end)
    reserved_periods = _periods(reservation_slices)
    session_periods = _periods(session_slices)

    _bill_flat(reserved_periods, reservation_slices)
    _bill_dimension(reserved_periods, {TariffDimension.TIME}, SECONDS_PER_HOUR, "duration_s")
    _bill_flat(session_periods, session_slices)
    _bill_dimension(session_periods, {TariffDimension.ENERGY}, WH_PER_KWH, "energy_wh")
    _bill_dimension(session_periods, {TariffDimension.TIME, TariffDimension.PARKING_TIME},
                    SECONDS_PER_HOUR, "duration_s")

    def cost_of(periods: list[PricedPeriod], *dimensions: TariffDimension) -> Amount:
        total = Amount()
        for p in periods:
            for line in p.lines:
                if line.dimension in dimensions:
                    total = total + line.cost
        return total

    reservation_cost = cost_of(reserved_periods, TariffDimension.FLAT, TariffDimension.TIME)
    fixed = cost_of(session_periods, TariffDimension.FLAT)
    energy_cost = cost_of(session_periods, TariffDimension.ENERGY)
    time_cost = cost_of(session_periods, TariffDimension.TIME)
    parking_cost = cost_of(session_periods, TariffDimension.PARKING_TIME)
    total, bounded_by = _bounded(
        tariff, reservation_cost + fixed + energy_cost + time_cost + parking_cost)

    energy = _Energy(timeline)
    total_energy_wh = (energy.at(timeline.end) - timeline.points[0].energy_wh
                       if timeline.points else ZERO)
    session_seconds = (_seconds(timeline.end - session_start)
                       if session_start is not None else ZERO)
    parking_seconds = sum((p.duration_s for p in session_periods
                           if p.state is ChargeState.PARKING), ZERO)
    reserved_seconds = sum((p.duration_s for p in reserved_periods), ZERO)
    return SessionCost(
        tariff_id=tariff.id,
        currency=tariff.currency,
        periods=reserved_periods + session_periods,
        total_energy_kwh=total_energy_wh / WH_PER_KWH,
        total_time_h=session_seconds / SECONDS_PER_HOUR,
        total_parking_time_h=parking_seconds / SECONDS_PER_HOUR,
        total_reservation_time_h=reserved_seconds / SECONDS_PER_HOUR,
        fixed_cost=fixed,
        energy_cost=energy_cost,
        time_cost=time_cost,
        parking_cost=parking_cost,
        reservation_cost=reservation_cost,
        total_cost=total,
        bounded_by=bounded_by,
    )
