"""The electric-vehicle model: battery, state of charge and the power it accepts (pure, no I/O)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

#: Nominal line-to-neutral voltage of AC charging. OCPP 1.6 §7.12 converts current and power with
#: "the set voltage for the area (hence, 230 or 110 volt)", not the measured one.
NOMINAL_VOLTAGE_V = 230.0

SECONDS_PER_HOUR = 3600.0


@dataclass
class ElectricVehicle:
    """An EV on AC charging: a battery whose acceptance tapers linearly above a state of charge.

    Below ``taper_start_soc_percent`` the EV takes up to ``max_ac_power_w``; above it the acceptance
    falls linearly to ``taper_floor_fraction`` of the maximum at 100 %, where the battery is full and
    takes nothing. The floor makes "full" reachable in finite time, as real battery managers end
    the constant-voltage phase at a cut-off current instead of approaching 100 % forever.
    """

    battery_capacity_wh: float
    soc_percent: float
    max_ac_power_w: float
    phases: int = 3
    taper_start_soc_percent: float = 80.0
    taper_floor_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.battery_capacity_wh <= 0:
            raise ValueError("battery_capacity_wh must be positive")
        if not 0.0 <= self.soc_percent <= 100.0:
            raise ValueError("soc_percent must be within 0..100")
        if self.max_ac_power_w <= 0:
            raise ValueError("max_ac_power_w must be positive")
        if self.phases not in (1, 2, 3):
            raise ValueError("phases must be 1, 2 or 3")
        if not 0.0 <= self.taper_start_soc_percent < 100.0:
            raise ValueError("taper_start_soc_percent must be within 0..100 (exclusive)")
        if not 0.0 < self.taper_floor_fraction < 1.0:
            raise ValueError("taper_floor_fraction must be within 0..1 (exclusive)")

    @property
    def is_full(self) -> bool:
        return self.soc_percent >= 100.0

    @property
    def stored_energy_wh(self) -> float:
        return self.battery_capacity_wh * self.soc_percent / 100.0

    def acceptance_power_w(self) -> float:
        """The most power the EV takes at its present state of charge."""
        return self._acceptance_at(self.soc_percent)

    def power_w(self, offered_power_w: float) -> float:
        """The power drawn when the station offers ``offered_power_w``: the lower of the two."""
        return max(0.0, min(offered_power_w, self.acceptance_power_w()))

    def charge(self, offered_power_w: float, duration_s: float) -> float:
        """Charge for ``duration_s`` seconds at up to ``offered_power_w``; return the energy in Wh.

        Integrates exactly (piecewise closed form), so the result does not depend on how a caller
        slices time: charging 2 x 30 min gives the same energy as 1 x 60 min.
        """
        remaining_s = max(0.0, duration_s)
        offered_w = max(0.0, offered_power_w)
        start_soc = self.soc_percent
        taper_start = self.taper_start_soc_percent
        soc_per_ws = 100.0 / (self.battery_capacity_wh * SECONDS_PER_HOUR)
        # Bounded: each pass ends at a region boundary or uses up the remaining time.
        for _ in range(8):
            if remaining_s <= 0.0 or offered_w <= 0.0 or self.is_full:
                break
            soc = self.soc_percent
            acceptance_w = self._acceptance_at(soc)
            if soc < taper_start or offered_w < acceptance_w:
                # Constant power: the EV takes its maximum below the taper, or the station's
                # offer limits it; this lasts until the acceptance curve meets that power.
                power_w = min(offered_w, acceptance_w)
                boundary = taper_start if power_w >= self.max_ac_power_w else self._soc_where(power_w)
                step_s = min(remaining_s, (boundary - soc) / (soc_per_ws * power_w))
                self.soc_percent = (
                    boundary if step_s < remaining_s else min(boundary, soc + soc_per_ws * power_w * step_s)
                )
            else:
                # The EV's acceptance limits: power ∝ u = acceptance / max falls as SoC rises, so
                # du/dt = -λ·u and u decays exponentially until it reaches the floor at 100 %.
                slope = (1.0 - self.taper_floor_fraction) / (100.0 - taper_start)
                decay_per_s = slope * soc_per_ws * self.max_ac_power_w
                u0 = acceptance_w / self.max_ac_power_w
                to_full_s = math.log(u0 / self.taper_floor_fraction) / decay_per_s
                if to_full_s <= remaining_s:
                    step_s = to_full_s
                    self.soc_percent = 100.0
                else:
                    step_s = remaining_s
                    u1 = u0 * math.exp(-decay_per_s * step_s)
                    self.soc_percent = min(100.0, taper_start + (1.0 - u1) / slope)
            remaining_s -= step_s
        return (self.soc_percent - start_soc) / 100.0 * self.battery_capacity_wh

    def _acceptance_at(self, soc_percent: float) -> float:
        if soc_percent >= 100.0:
            return 0.0
        if soc_percent < self.taper_start_soc_percent:
            return self.max_ac_power_w
        fraction_of_taper = (soc_percent - self.taper_start_soc_percent) / (
            100.0 - self.taper_start_soc_percent
        )
        return self.max_ac_power_w * (1.0 - (1.0 - self.taper_floor_fraction) * fraction_of_taper)

    def _soc_where(self, power_w: float) -> float:
        """The SoC above the taper start at which the acceptance falls to ``power_w`` (≤ 100)."""
        if power_w <= self.taper_floor_fraction * self.max_ac_power_w:
            return 100.0
        fraction_of_taper = (1.0 - power_w / self.max_ac_power_w) / (1.0 - self.taper_floor_fraction)
        return self.taper_start_soc_percent + fraction_of_taper * (100.0 - self.taper_start_soc_percent)


def phase_current_a(power_w: float, phases: int, voltage_v: float = NOMINAL_VOLTAGE_V) -> float:
    """The current on each phase when ``power_w`` is spread over ``phases`` (OCPP 1.6 §7.12)."""
    return power_w / (voltage_v * phases)


def power_from_current_w(current_a: float, phases: int, voltage_v: float = NOMINAL_VOLTAGE_V) -> float:
    """The total power of ``current_a`` on each of ``phases`` phases (OCPP 1.6 §7.12)."""
    return current_a * voltage_v * phases


@dataclass(frozen=True)
class _EvType:
    battery_capacity_wh: float
    max_ac_power_w: float
    phases: int
    weight: float


# A small spread of AC charging behaviours: plug-in hybrids and small cars on one phase, most
# battery EVs on 11 kW three-phase, a few on 22 kW.
_EV_TYPES = (
    _EvType(13_000, 3_680, 1, 0.10),
    _EvType(40_000, 7_360, 1, 0.20),
    _EvType(58_000, 11_040, 3, 0.35),
    _EvType(77_000, 11_040, 3, 0.25),
    _EvType(100_000, 22_080, 3, 0.10),
)


def random_ev(rng: random.Random) -> ElectricVehicle:
    """An EV arriving at a station: a type drawn from a typical mix, with 10 to 70 % charge left."""
    ev_type = rng.choices(_EV_TYPES, weights=[t.weight for t in _EV_TYPES])[0]
    return ElectricVehicle(
        battery_capacity_wh=ev_type.battery_capacity_wh,
        soc_percent=round(rng.uniform(10.0, 70.0), 1),
        max_ac_power_w=ev_type.max_ac_power_w,
        phases=ev_type.phases,
    )
