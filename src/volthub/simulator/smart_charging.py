"""Charging profiles held by a simulated station: install, clear, the limit now, composite schedules.

Version-neutral (pure, no I/O): OCPP 1.6 and 2.x profiles translate into these types. The rules
follow OCPP 1.6 §3.13 (purposes, stacking, combining) and §5.16 (replacement, durations), which
2.0.1's K01 to K08 keep for the purposes both versions share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from volthub.simulator.ev import NOMINAL_VOLTAGE_V

#: Phases assumed when a period does not say (OCPP 1.6 §7.12 and §7.14).
DEFAULT_NUMBER_PHASES = 3


class ProfilePurpose(StrEnum):
    STATION_MAX = "station_max"  # 1.6 ChargePointMaxProfile, 2.x ChargingStationMaxProfile
    TX_DEFAULT = "tx_default"
    TX = "tx"


class ProfileKind(StrEnum):
    ABSOLUTE = "absolute"
    RECURRING = "recurring"
    RELATIVE = "relative"


class Recurrency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class RateUnit(StrEnum):
    AMPERE = "A"
    WATT = "W"


_RECURRENCY_PERIOD = {
    Recurrency.DAILY: timedelta(days=1),
    Recurrency.WEEKLY: timedelta(weeks=1),
}


@dataclass(frozen=True)
class SchedulePeriod:
    start_period_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True)
class ChargingProfile:
    """One installed profile. ``connector_id`` 0 is the whole station (a 2.x EVSE id 0)."""

    profile_id: int
    stack_level: int
    purpose: ProfilePurpose
    kind: ProfileKind
    rate_unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    connector_id: int
    installed_at: datetime
    transaction_id: str | None = None
    recurrency: Recurrency | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    start_schedule: datetime | None = None
    duration_s: int | None = None
    min_charging_rate: float | None = None


@dataclass(frozen=True)
class Limit:
    """A limit in one unit; ``number_phases`` says how many phases an ampere limit applies to."""

    value: float
    unit: RateUnit
    number_phases: int = DEFAULT_NUMBER_PHASES

    def to_watts(self, ev_phases: int | None = None) -> float:
        """Total power. An ampere limit is per phase, so it counts the phases actually drawn:
        the profile's ``numberPhases``, or fewer when the EV charges on fewer."""
        if self.unit is RateUnit.WATT:
            return self.value
        phases = self.number_phases if ev_phases is None else min(self.number_phases, ev_phases)
        return self.value * NOMINAL_VOLTAGE_V * phases

    def to_unit(self, unit: RateUnit) -> float:
        if unit is self.unit:
            return self.value
        if unit is RateUnit.WATT:
            return self.value * NOMINAL_VOLTAGE_V * self.number_phases
        return self.value / (NOMINAL_VOLTAGE_V * self.number_phases)


@dataclass(frozen=True)
class TransactionContext:
    """What the profiles of one connector need to know about its transaction, if any."""

    transaction_id: str
    started_at: datetime


@dataclass(frozen=True)
class CompositePeriod:
    start_period_s: int
    limit: float
    number_phases: int | None


@dataclass
class StationCapabilities:
    """Hardware and configuration limits (1.6 §3.13.5 discovery keys)."""

    connector_count: int
    max_current_a: float
    phases: int = 3
    max_stack_level: int = 10
    max_schedule_periods: int = 24
    max_profiles: int = 20
    allowed_units: frozenset[RateUnit] = field(
        default_factory=lambda: frozenset({RateUnit.AMPERE, RateUnit.WATT})
    )

    def hardware_limit(self) -> Limit:
        return Limit(self.max_current_a, RateUnit.AMPERE, self.phases)


class ProfileRejected(ValueError):
    """A profile that the station does not install; the message says why."""


class ProfileStore:
    """The profiles of one station and the limits they impose."""

    def __init__(self, capabilities: StationCapabilities) -> None:
        self.capabilities = capabilities
        self._profiles: list[ChargingProfile] = []

    @property
    def profiles(self) -> tuple[ChargingProfile, ...]:
        return tuple(self._profiles)

    def install(self, profile: ChargingProfile, transaction: TransactionContext | None) -> ChargingProfile:
        """Install ``profile`` (``transaction``: the one on its connector); raise ProfileRejected.

        Returns the profile as installed: a TxProfile without a transaction id is bound to the
        connector's transaction, so that it goes when the transaction ends (§3.13.1).
        """
        caps = self.capabilities
        if not 0 <= profile.connector_id <= caps.connector_count:
            raise ProfileRejected(f"unknown connector {profile.connector_id}")
        if profile.stack_level < 0 or profile.stack_level > caps.max_stack_level:
            raise ProfileRejected(f"stack level above {caps.max_stack_level}")
        if not profile.periods or len(profile.periods) > caps.max_schedule_periods:
            raise ProfileRejected(f"needs 1..{caps.max_schedule_periods} schedule periods")
        # §5.16.4 note: "The startSchedule of the first chargingSchedulePeriod ... SHALL always be 0".
        if profile.periods[0].start_period_s != 0:
            raise ProfileRejected("the first schedule period must start at 0")
        starts = [p.start_period_s for p in profile.periods]
        if starts != sorted(set(starts)):
            raise ProfileRejected("schedule periods must start in increasing order")
        if any(p.limit < 0 for p in profile.periods):
            raise ProfileRejected("a limit is negative")
        if profile.rate_unit not in caps.allowed_units:
            raise ProfileRejected(f"charging rate unit {profile.rate_unit} not allowed")
        if profile.kind is ProfileKind.RECURRING and profile.recurrency is None:
            raise ProfileRejected("a recurring profile needs a recurrency kind")
        if profile.purpose is ProfilePurpose.STATION_MAX and profile.connector_id != 0:
            # §3.13.1: "ChargePointMaxProfile can only be set at Charge Point ConnectorId 0".
            raise ProfileRejected("a station maximum profile belongs to connector 0")
        if profile.purpose is ProfilePurpose.TX:
            # §3.13.1: TxProfile only at a connector > 0, and discarded without a transaction.
            if profile.connector_id == 0:
                raise ProfileRejected("a transaction profile needs a connector")
            if transaction is None:
                raise ProfileRejected("no transaction on the connector")
            if profile.transaction_id not in (None, transaction.transaction_id):
                raise ProfileRejected("the transaction id does not match the connector's")
            profile = replace(profile, transaction_id=transaction.transaction_id)
        # §5.16.3/§5.16.4: the same id, or the same stack level and purpose, replaces.
        kept = [
            p
            for p in self._profiles
            if p.profile_id != profile.profile_id
            and not (
                p.stack_level == profile.stack_level
                and p.purpose is profile.purpose
                and p.connector_id == profile.connector_id
            )
        ]
        if len(kept) >= caps.max_profiles:
            raise ProfileRejected(f"already {caps.max_profiles} profiles installed")
        kept.append(profile)
        self._profiles = kept
        return profile

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: ProfilePurpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove matching profiles (1.6 §6.13); return how many went.

        An id names one profile and the other criteria are then not needed; without an id every
        given criterion must match, and no criteria at all clears everything.
        """
        if profile_id is not None:
            gone = [p for p in self._profiles if p.profile_id == profile_id]
        else:
            gone = [
                p
                for p in self._profiles
                if (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose is purpose)
                and (stack_level is None or p.stack_level == stack_level)
            ]
        self._profiles = [p for p in self._profiles if p not in gone]
        return len(gone)

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile "SHALL cease to be valid when the transaction terminates" (1.6 §7.10)."""
        self._profiles = [
            p
            for p in self._profiles
            if not (p.purpose is ProfilePurpose.TX and p.connector_id == connector_id)
        ]

    def connector_limit(
        self,
        connector_id: int,
        at: datetime,
        transaction: TransactionContext | None,
        *,
        unit: RateUnit,
        sharing_connectors: int = 1,
        ev_phases: int | None = None,
    ) -> Limit | None:
        """The lowest limit the profiles put on ``connector_id`` at ``at``, or None for none.

        §3.13.3: the composite is the minimum of the station maximum (shared by all connectors
        that charge: ``sharing_connectors``) and the TxProfile, or the TxDefaultProfile when no
        TxProfile applies. Connector 0 reports the station maximum alone. Limits are compared in
        ``unit``; in watts, ampere limits count ``ev_phases`` (the phases the EV draws on).
        """
        station_max = _prevailing(self._station_max(), at, None)
        limits: list[Limit] = []
        if station_max is not None:
            share = max(1, sharing_connectors) if connector_id > 0 else 1
            limits.append(replace(station_max, value=station_max.value / share))
        if connector_id > 0:
            tx_limit = None
            if transaction is not None:
                tx_limit = _prevailing(self._tx_profiles(connector_id, transaction), at, transaction)
            if tx_limit is None:
                tx_limit = self._tx_default_limit(connector_id, at, transaction)
            if tx_limit is not None:
                limits.append(tx_limit)
        if not limits:
            return None
        if unit is RateUnit.WATT:
            return min(limits, key=lambda limit: limit.to_watts(ev_phases))
        return min(limits, key=lambda limit: limit.to_unit(unit))

    def composite_schedule(
        self,
        connector_id: int,
        start: datetime,
        duration_s: int,
        unit: RateUnit,
        transaction: TransactionContext | None,
        *,
        sharing_connectors: int = 1,
    ) -> list[CompositePeriod]:
        """The limits from ``start`` for ``duration_s`` seconds (1.6 §5.7), merged into periods.

        Where no profile limits, the hardware does; connector 0 reports the whole station. A
        connector without a transaction reports as if one started at ``start`` (the schedule it
        would charge by now), which is what Relative default profiles need.
        """
        context = transaction or TransactionContext("", start)
        hardware = self.capabilities.hardware_limit()
        if connector_id == 0:
            hardware = replace(hardware, value=hardware.value * self.capabilities.connector_count)
        offsets = sorted(
            {0} | {o for o in self._change_offsets(start, duration_s, context) if 0 < o < duration_s}
        )
        periods: list[CompositePeriod] = []
        for offset in offsets:
            at = start + timedelta(seconds=offset)
            limit = self.connector_limit(
                connector_id, at, context, unit=unit, sharing_connectors=sharing_connectors
            )
            if limit is None or limit.to_unit(unit) > hardware.to_unit(unit):
                limit = hardware
            value = round(limit.to_unit(unit), 1)
            phases = limit.number_phases
            if periods and periods[-1].limit == value and periods[-1].number_phases == phases:
                continue
            periods.append(CompositePeriod(offset, value, phases))
        return periods

    def _station_max(self) -> list[ChargingProfile]:
        return [p for p in self._profiles if p.purpose is ProfilePurpose.STATION_MAX]

    def _tx_profiles(self, connector_id: int, transaction: TransactionContext) -> list[ChargingProfile]:
        return [
            p
            for p in self._profiles
            if p.purpose is ProfilePurpose.TX
            and p.connector_id == connector_id
            and p.transaction_id in (None, transaction.transaction_id)
        ]

    def _tx_default_limit(
        self, connector_id: int, at: datetime, transaction: TransactionContext | None
    ) -> Limit | None:
        # §3.13.1: a TxDefaultProfile for a connector replaces the one for connector 0 there;
        # when the connector's own have all run out, the station-wide ones apply again.
        defaults = [p for p in self._profiles if p.purpose is ProfilePurpose.TX_DEFAULT]
        own = _prevailing([p for p in defaults if p.connector_id == connector_id], at, transaction)
        if own is not None:
            return own
        return _prevailing([p for p in defaults if p.connector_id == 0], at, transaction)

    def _change_offsets(
        self, start: datetime, duration_s: int, transaction: TransactionContext
    ) -> Iterable[int]:
        """Seconds after ``start`` at which some profile's limit may change."""
        end = start + timedelta(seconds=duration_s)
        for profile in self._profiles:
            moments: list[datetime] = [m for m in (profile.valid_from, profile.valid_to) if m is not None]
            for schedule_start in _schedule_starts(profile, start, end, transaction):
                moments.extend(schedule_start + timedelta(seconds=p.start_period_s) for p in profile.periods)
                if profile.duration_s is not None:
                    moments.append(schedule_start + timedelta(seconds=profile.duration_s))
            for moment in moments:
                yield math.ceil((moment - start).total_seconds())


def _prevailing(
    profiles: list[ChargingProfile], at: datetime, transaction: TransactionContext | None
) -> Limit | None:
    """§3.13.2: the valid profile with the highest stack level rules; when its schedule has run
    out (duration over), a lower stack level takes over (§5.16.4 note)."""
    for profile in sorted(profiles, key=lambda p: p.stack_level, reverse=True):
        limit = _profile_limit(profile, at, transaction)
        if limit is not None:
            return limit
    return None


def _profile_limit(
    profile: ChargingProfile, at: datetime, transaction: TransactionContext | None
) -> Limit | None:
    if profile.valid_from is not None and at < profile.valid_from:
        return None
    if profile.valid_to is not None and at >= profile.valid_to:
        return None
    schedule_start = _schedule_start(profile, at, transaction)
    elapsed_s = (at - schedule_start).total_seconds()
    if elapsed_s < 0:
        return None
    if profile.duration_s is not None and elapsed_s >= profile.duration_s:
        return None
    current: SchedulePeriod | None = None
    for period in profile.periods:
        if period.start_period_s <= elapsed_s:
            current = period
    if current is None:
        return None
    return Limit(current.limit, profile.rate_unit, current.number_phases or DEFAULT_NUMBER_PHASES)


def _schedule_start(
    profile: ChargingProfile, at: datetime, transaction: TransactionContext | None
) -> datetime:
    charging_start = transaction.started_at if transaction is not None else profile.installed_at
    if profile.kind is ProfileKind.RELATIVE:
        return charging_start
    if profile.kind is ProfileKind.ABSOLUTE:
        # §7.13: "If absent the schedule will be relative to start of charging."
        return profile.start_schedule or charging_start
    base = profile.start_schedule or profile.installed_at
    period = _RECURRENCY_PERIOD[profile.recurrency or Recurrency.DAILY]
    cycles = math.floor((at - base) / period)
    return base + cycles * period


def _schedule_starts(
    profile: ChargingProfile, start: datetime, end: datetime, transaction: TransactionContext
) -> list[datetime]:
    if profile.kind is not ProfileKind.RECURRING:
        return [_schedule_start(profile, start, transaction)]
    period = _RECURRENCY_PERIOD[profile.recurrency or Recurrency.DAILY]
    first = _schedule_start(profile, start, transaction)
    starts = []
    moment = first
    while moment < end:
        starts.append(moment)
        moment += period
    return starts
