"""Tariff restrictions (mod_tariffs §TariffRestrictions): matching, and where they can change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from volthub.domain.tariffs import WEEKDAYS, Tariff, TariffRestrictions

MIDNIGHT = "00:00"


@dataclass(frozen=True, slots=True)
class Moment:
    """Everything a restriction can look at, for one instant of the session."""

    local: datetime  # wall-clock time at the location (its `time_zone`)
    elapsed_s: Decimal  # since the session (or reservation) started
    energy_kwh: Decimal  # consumed so far
    power_kw: Decimal | None
    current_a: Decimal | None


def _clock(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def _time_of_day_matches(r: TariffRestrictions, local: datetime) -> bool:
    if r.start_time is None and r.end_time is None:
        return True
    now = local.time().replace(tzinfo=None)
    start = _clock(r.start_time) if r.start_time is not None else None
    # "To stop at end of the day use: 00:00" - an end of 00:00 is the day's end, not its start.
    end = _clock(r.end_time) if r.end_time not in (None, MIDNIGHT) else None
    if start is None:
        return end is None or now < end
    if end is None:
        return now >= start
    if start < end:
        return start <= now < end
    if start > end:  # "If end_time < start_time then the period wraps around to the next day."
        return now >= start or now < end
    return True  # start == end: the whole day


def matches(r: TariffRestrictions | None, m: Moment) -> bool:
    """Whether every restriction holds at moment `m` (min bounds inclusive, max exclusive)."""
    if r is None:
        return True
    if not _time_of_day_matches(r, m.local):
        return False
    today = m.local.date()
    if r.start_date is not None and today < date.fromisoformat(r.start_date):
        return False
    if r.end_date is not None and today >= date.fromisoformat(r.end_date):
        return False
    if r.day_of_week is not None and WEEKDAYS[m.local.weekday()] not in r.day_of_week:
        return False
    if r.min_kwh is not None and m.energy_kwh < r.min_kwh:
        return False
    if r.max_kwh is not None and m.energy_kwh >= r.max_kwh:
        return False
    if r.min_duration is not None and m.elapsed_s < r.min_duration:
        return False
    if r.max_duration is not None and m.elapsed_s >= r.max_duration:
        return False
    # A current or power restriction cannot hold when the station never reported that quantity.
    if r.min_current is not None and (m.current_a is None or m.current_a < r.min_current):
        return False
    if r.max_current is not None and (m.current_a is None or m.current_a >= r.max_current):
        return False
    if r.min_power is not None and (m.power_kw is None or m.power_kw < r.min_power):
        return False
    return not (r.max_power is not None and (m.power_kw is None or m.power_kw >= r.max_power))


def _restrictions(tariff: Tariff) -> Iterable[TariffRestrictions]:
    return (e.restrictions for e in tariff.elements if e.restrictions is not None)


def wall_clock_boundaries(tariff: Tariff, zone: tzinfo, start: datetime, end: datetime
                          ) -> set[datetime]:
    """Instants where a time-of-day, date or weekday restriction may change, in (start, end).

    Local midnights and every start/end_time, on each local day the span touches; both
    readings of an ambiguous wall time (DST fall-back) are included, so that any slice
    between two boundaries has one answer everywhere inside it.
    """
    clocks = {MIDNIGHT}
    for r in _restrictions(tariff):
        clocks.update(t for t in (r.start_time, r.end_time) if t is not None)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    found: set[datetime] = set()
    day = first
    while day <= last:
        for hhmm in clocks:
            wall = datetime.combine(day, _clock(hhmm))
            for fold in (0, 1):
                instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                if start < instant < end:
                    found.add(instant)
        day += timedelta(days=1)
    return found


def duration_boundaries(tariff: Tariff, start: datetime, end: datetime) -> set[datetime]:
    found = set()
    for r in _restrictions(tariff):
        for seconds in (r.min_duration, r.max_duration):
            if seconds is not None:
                instant = start + timedelta(seconds=seconds)
                if start < instant < end:
                    found.add(instant)
    return found


def energy_thresholds_wh(tariff: Tariff) -> set[Decimal]:
    found = set()
    for r in _restrictions(tariff):
        for kwh in (r.min_kwh, r.max_kwh):
            if kwh is not None:
                found.add(kwh * 1000)
    return found
