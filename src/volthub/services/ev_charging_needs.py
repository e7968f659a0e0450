"""Answering an EV's charging needs (2.0.1 K15-K17) with a TxProfile inside the limits we know."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from volthub.domain import commands as c
from volthub.domain.enums import TransactionStatus
from volthub.domain.model import ChargingProfileRecord, ConnectorState, JsonObject
from volthub.services.ports import Clock
from volthub.storage.interface import Storage

# Profile ids the CSMS uses for its own EV-needs profiles: one per EVSE, so a new need replaces
# the profile sent for the previous one instead of stacking up.
EV_NEEDS_PROFILE_ID_BASE = 900_000
STATION_MAX_PURPOSES = {"ChargePointMaxProfile", "ChargingStationMaxProfile"}


@dataclass(slots=True, frozen=True)
class Limits:
    """The tightest caps we know for one EVSE, per unit."""

    amps: float | None = None
    watts: float | None = None


def _min(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def known_limits(evse_id: int, profiles: list[ChargingProfileRecord],
                 connectors: list[ConnectorState]) -> Limits:
    """Caps from station-max profiles (evse 0 or this EVSE) and the connectors' ratings."""
    amps = watts = None
    for record in profiles:
        if record.purpose not in STATION_MAX_PURPOSES or record.evse_id not in (0, evse_id):
            continue
        schedule = record.profile.get("schedule", {})
        periods = schedule.get("periods") or []
        if not periods:
            continue
        lowest = min(float(p["limit"]) for p in periods)
        if schedule.get("charging_rate_unit") == "A":
            amps = _min(amps, lowest)
        else:
            watts = _min(watts, lowest)
    for connector in connectors:
        if connector.evse_id != evse_id:
            continue
        amps = _min(amps, connector.max_amperage)
        watts = _min(watts, connector.max_electric_power)
    return Limits(amps, watts)


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.upper())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def plan(needs: JsonObject, evse_id: int, limits: Limits, now: datetime,
         transaction_id: int) -> c.ChargingProfile | None:
    """A TxProfile serving `needs` (ChargingNeedsType) within `limits`; None if nothing fits."""
    ac: dict[str, Any] = needs.get("acChargingParameters") or {}
    dc: dict[str, Any] = needs.get("dcChargingParameters") or {}
    departure = _time(needs.get("departureTime"))
    seconds_left = (departure - now).total_seconds() if departure else None
    if ac:
        unit: Literal["A", "W"] = "A"
        limit = _min(float(ac["evMaxCurrent"]), limits.amps)
        floor = float(ac.get("evMinCurrent", 0))
    elif dc:
        unit = "W"
        ev_max_w = dc.get("evMaxPower")
        if ev_max_w is None:
            ev_max_w = float(dc["evMaxCurrent"]) * float(dc["evMaxVoltage"])
        limit = _min(float(ev_max_w), limits.watts)
        floor = 0.0
        energy_wh = dc.get("energyAmount")
        if energy_wh is not None and seconds_left and seconds_left > 0 and limit is not None:
            # Enough to deliver the requested energy by departure, not more than allowed: the
            # rest of the site's capacity stays free for others.
            needed_w = float(energy_wh) * 3600 / seconds_left
            limit = min(limit, max(needed_w, floor))
    else:
        return None
    if limit is None or limit <= 0 or limit < floor:
        return None
    duration = int(seconds_left) if seconds_left and seconds_left > 0 else None
    return c.ChargingProfile(
        id=EV_NEEDS_PROFILE_ID_BASE + evse_id,
        stack_level=0,
        purpose="TxProfile",
        kind="Absolute",
        transaction_id=transaction_id,
        schedule=c.ChargingSchedule(
            charging_rate_unit=unit,
            start_schedule=now,
            duration_s=duration,
            periods=[c.ChargingSchedulePeriod(start_period_s=0, limit=round(limit, 1))],
        ),
    )


class EvChargingNeedsService:
    """Turns a NotifyEVChargingNeeds into the SetChargingProfile that serves it."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    async def profile_for(self, station_id: str, evse_id: int, needs: JsonObject
                          ) -> c.SetChargingProfile | None:
        now = self.clock()

        async def read(repos: Any) -> c.SetChargingProfile | None:
            active, _ = await repos.list_transactions(station_id, TransactionStatus.ACTIVE.value,
                                                      50, 0)
            txn = next((t for t in active if t.evse_id == evse_id), None)
            if txn is None:
                return None
            limits = known_limits(evse_id, await repos.list_charging_profiles(station_id),
                                  await repos.list_connectors([station_id]))
            profile = plan(needs, evse_id, limits, now, txn.id)
            return c.SetChargingProfile(evse_id=evse_id, profile=profile) if profile else None

        return await self.storage.read(read)
