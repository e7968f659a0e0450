"""What the cost engine prices: a session's timeline of meter readings and states."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise


class ChargeState(StrEnum):
    """Whether the EV requests power (TIME) or stands connected without (PARKING_TIME)."""

    CHARGING = "CHARGING"
    PARKING = "PARKING"


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """From `at` until the next point: the state and current; `energy_wh` is cumulative at `at`.

    Energy between two points is taken as delivered evenly (linear), which is how OCPI lets the
    CPO place a period boundary between two readings (mod_cdrs §ChargingPeriod).
    """

    at: datetime
    energy_wh: Decimal
    state: ChargeState = ChargeState.CHARGING
    current_a: Decimal | None = None  # sum over phases, when the station reports it


@dataclass(frozen=True, slots=True)
class ReservationSpan:
    """A reservation before the session: from when it was made until used or expired."""

    start: datetime
    end: datetime
    expired: bool = False


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One entry of an imported price series: per kWh excl. VAT in [starts_at, ends_at)."""

    starts_at: datetime
    ends_at: datetime
    price: Decimal


PriceSeries = Mapping[str, Sequence[PricePoint]]


@dataclass(frozen=True, slots=True)
class SessionTimeline:
    """The whole priced span: an optional reservation, then the session from points[0].at."""

    points: tuple[TimelinePoint, ...]
    end: datetime
    reservation: ReservationSpan | None = None

    def __post_init__(self) -> None:
        for point in self.points:
            if point.at.tzinfo is None:
                raise ValueError("timeline instants must be time-zone aware")
        if any(b.at < a.at for a, b in pairwise(self.points)):
            raise ValueError("timeline points must be in time order")
        if self.points and self.end < self.points[-1].at:
            raise ValueError("timeline end is before its last point")
        if not self.points and self.reservation is None:
            raise ValueError("a timeline needs a session or a reservation")

    @property
    def session_start(self) -> datetime | None:
        return self.points[0].at if self.points else None


# OCPI PARKING_TIME is time "during which the vehicle is not requesting power" (mod_cdrs
# CdrDimensionType, 2.2.1 bugfix note): SuspendedEV is parking, SuspendedEVSE (the station
# holds back power the EV asks for) is not. 2.x EVConnected/Idle: connected or gone without
# asking for power. 1.6 Finishing: the EV stopped, the plug is still in.
_OCPP_CHARGE_STATES = {
    "Charging": ChargeState.CHARGING,
    "SuspendedEVSE": ChargeState.CHARGING,
    "Preparing": ChargeState.CHARGING,
    "SuspendedEV": ChargeState.PARKING,
    "EVConnected": ChargeState.PARKING,
    "Idle": ChargeState.PARKING,
    "Finishing": ChargeState.PARKING,
}


def charge_state_from_ocpp(status: str) -> ChargeState | None:
    """TIME or PARKING_TIME for a 1.6 connector status or a 2.x chargingState."""
    return _OCPP_CHARGE_STATES.get(status)


def linear_energy_wh(times: Sequence[datetime], energies_wh: Sequence[Decimal],
                     instant: datetime) -> Decimal:
    """Cumulative energy at `instant` from readings (sorted `times`): linear between two
    readings, the nearest reading's value outside them."""
    if not times:
        return Decimal(0)
    i = bisect_right(times, instant) - 1
    if i < 0:
        return energies_wh[0]
    if i >= len(times) - 1:
        return energies_wh[-1]
    span_us = (times[i + 1] - times[i]) // timedelta(microseconds=1)
    if span_us == 0:
        return energies_wh[i + 1]
    elapsed_us = (instant - times[i]) // timedelta(microseconds=1)
    return energies_wh[i] + (energies_wh[i + 1] - energies_wh[i]) * elapsed_us / span_us
