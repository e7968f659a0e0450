"""Version-neutral station behaviour: connectors, sessions, readings, reservations, auth lists.

Nothing here speaks a protocol: an OCPP 1.6 or 2.x station module keeps these as its state and
translates them into messages. Times are wall-clock UTC ``datetime``s plus ``time.monotonic()``
seconds for measuring elapsed time; the EV's simulated time runs ``time_scale`` times faster.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from volthub.simulator.ev import NOMINAL_VOLTAGE_V, ElectricVehicle, phase_current_a


class ConnectorStatus(StrEnum):
    """Connector states, spelled as OCPP 1.6 ChargePointStatus (2.x maps them down)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class StopReason(StrEnum):
    """Why a session ended, spelled as OCPP 1.6 Reason."""

    LOCAL = "Local"
    REMOTE = "Remote"
    EV_DISCONNECTED = "EVDisconnected"
    HARD_RESET = "HardReset"
    SOFT_RESET = "SoftReset"
    UNLOCK_COMMAND = "UnlockCommand"
    DE_AUTHORIZED = "DeAuthorized"
    REBOOT = "Reboot"
    OTHER = "Other"


class AuthStatus(StrEnum):
    """IdTagInfo status (1.6 §7.2), with the values only 2.x's AuthorizationStatusEnumType has."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"
    NO_CREDIT = "NoCredit"
    NOT_ALLOWED_TYPE_EVSE = "NotAllowedTypeEVSE"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"
    NOT_AT_THIS_TIME = "NotAtThisTime"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class AuthEntry:
    status: AuthStatus
    expires_at: datetime | None = None
    parent_id_tag: str | None = None

    def valid_at(self, at: datetime) -> bool:
        return self.status is AuthStatus.ACCEPTED and (self.expires_at is None or at < self.expires_at)


class LocalAuthList:
    """The Local Authorization List (1.6 §3.5.2) with its version."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.version = 0
        self.entries: dict[str, AuthEntry] = {}

    def update(self, version: int, full: bool, changes: list[tuple[str, AuthEntry | None]]) -> str:
        """SendLocalList: Accepted, Failed or VersionMismatch (1.6 §6.41, §7.47).

        In a differential update an entry without IdTagInfo removes the idTag.
        """
        if len({id_tag for id_tag, _ in changes}) != len(changes):
            return "Failed"  # §6.41: "All idTags ... MUST be unique".
        if not full and version <= self.version:
            return "VersionMismatch"
        entries = {} if full else dict(self.entries)
        for id_tag, entry in changes:
            if entry is None:
                entries.pop(id_tag, None)
            else:
                entries[id_tag] = entry
        if len(entries) > self.max_entries:
            return "Failed"
        self.entries = entries
        # §5.10: version 0 means the list is empty.
        self.version = version if entries or not full else 0
        return "Accepted"

    def lookup(self, id_tag: str) -> AuthEntry | None:
        return self.entries.get(id_tag)


@dataclass
class Reservation:
    reservation_id: int
    connector_id: int
    id_tag: str
    expires_at: datetime
    parent_id_tag: str | None = None

    def admits(self, id_tag: str, parent_id_tag: str | None = None) -> bool:
        """§5.13: the reserved idTag, or one with the reservation's parent idTag."""
        if id_tag == self.id_tag:
            return True
        return self.parent_id_tag is not None and parent_id_tag == self.parent_id_tag


@dataclass(frozen=True)
class Readings:
    """One instant's measurements at a connector."""

    energy_register_wh: float
    energy_interval_wh: float
    power_w: float
    offered_power_w: float
    phases: int
    current_a: float
    offered_current_a: float
    voltage_v: tuple[float, ...]
    frequency_hz: float
    temperature_c: float
    soc_percent: float | None


@dataclass(frozen=True)
class MeterSample:
    """Readings with the context they were taken in (e.g. Sample.Periodic)."""

    timestamp: datetime
    context: str
    measurands: tuple[str, ...]
    readings: Readings


@dataclass
class Session:
    """A plugged-in EV from authorization to the end of its transaction."""

    connector_id: int
    id_tag: str
    ev: ElectricVehicle
    started_at: datetime
    started_monotonic: float
    meter_start_wh: int
    #: Simulated seconds after which the driver ends the session; None: until told to stop.
    max_duration_s: float | None = None
    stop_when_full: bool = False
    transaction_id: str | None = None
    reservation_id: int | None = None
    remote: bool = False
    #: Energy delivery paused because the CSMS did not accept the idTag (1.6 §3.5.4).
    deauthorized: bool = False
    offered_power_w: float = 0.0
    power_w: float = 0.0
    energy_wh: float = 0.0
    last_advance_monotonic: float = 0.0
    full_since_monotonic: float | None = None
    samples: list[MeterSample] = field(default_factory=list)

    def advance(self, now_monotonic: float, time_scale: float) -> float:
        """Charge the EV from the last advance until now at the offered power; return the Wh."""
        elapsed_s = max(0.0, now_monotonic - self.last_advance_monotonic) * time_scale
        self.last_advance_monotonic = now_monotonic
        energy_wh = self.ev.charge(self.offered_power_w, elapsed_s) if elapsed_s else 0.0
        self.energy_wh += energy_wh
        self.power_w = self.ev.power_w(self.offered_power_w)
        return energy_wh

    def offer(self, offered_power_w: float) -> None:
        """Change the power on offer from now on (call ``advance`` first)."""
        self.offered_power_w = max(0.0, offered_power_w)
        self.power_w = self.ev.power_w(self.offered_power_w)


@dataclass
class Connector:
    connector_id: int
    max_current_a: float
    phases: int
    meter_register_wh: float = 0.0
    status: ConnectorStatus = ConnectorStatus.AVAILABLE
    operative: bool = True
    #: An availability change that waits for the running transaction to end (1.6 §5.2).
    scheduled_operative: bool | None = None
    reservation: Reservation | None = None
    session: Session | None = None
    last_sample_register_wh: float = 0.0

    @property
    def in_transaction(self) -> bool:
        return self.session is not None and self.session.transaction_id is not None

    @property
    def busy(self) -> bool:
        return self.session is not None

    def hardware_power_w(self, phases: int | None = None) -> float:
        used = self.phases if phases is None else min(self.phases, phases)
        return self.max_current_a * NOMINAL_VOLTAGE_V * used

    def idle_status(self, station_operative: bool) -> ConnectorStatus:
        """The status of a connector without an EV."""
        if not (self.operative and station_operative):
            return ConnectorStatus.UNAVAILABLE
        if self.reservation is not None:
            return ConnectorStatus.RESERVED
        return ConnectorStatus.AVAILABLE

    def readings(self, rng: random.Random) -> Readings:
        """Measurements now; the interval energy counts since the last periodic sample."""
        session = self.session
        phases = session.ev.phases if session is not None else self.phases
        power_w = session.power_w if session is not None else 0.0
        offered_w = session.offered_power_w if session is not None else self.hardware_power_w()
        voltages = tuple(round(NOMINAL_VOLTAGE_V + rng.uniform(-2.5, 2.5), 1) for _ in range(phases))
        return Readings(
            energy_register_wh=self.meter_register_wh,
            energy_interval_wh=self.meter_register_wh - self.last_sample_register_wh,
            power_w=power_w,
            offered_power_w=offered_w,
            phases=phases,
            current_a=phase_current_a(power_w, phases),
            offered_current_a=phase_current_a(offered_w, phases),
            voltage_v=voltages,
            frequency_hz=round(50.0 + rng.uniform(-0.05, 0.05), 2),
            # Electronics warm up under load.
            temperature_c=round(24.0 + power_w / 1000.0 + rng.uniform(-0.5, 0.5), 1),
            soc_percent=round(session.ev.soc_percent, 1) if session is not None else None,
        )


@dataclass
class SessionPlanner:
    """Random driver behaviour, in simulated seconds (divide by ``time_scale`` for wall time)."""

    rng: random.Random
    time_scale: float = 1.0

    def session_duration_s(self) -> float:
        """How long a driver stays: mostly 30 min to 4 h, a few all day."""
        return min(12 * 3600.0, max(15 * 60.0, self.rng.lognormvariate(9.0, 0.6)))

    def idle_pause_s(self) -> float:
        """The gap until the next EV plugs in."""
        return self.rng.uniform(5 * 60.0, 45 * 60.0)

    def dwell_after_full_s(self) -> float:
        """How long a full EV stays plugged in before the driver ends the session."""
        return self.rng.uniform(2 * 60.0, 15 * 60.0)

    def wall(self, simulated_s: float) -> float:
        return simulated_s / self.time_scale
