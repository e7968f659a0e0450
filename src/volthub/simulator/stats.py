"""Counters shared by the simulated stations of one run, and how they are shown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimStats:
    """Live figures of a run; stations update them as things happen (one event loop, no locks)."""

    stations: int = 0
    connected: int = 0
    booted: int = 0
    active_sessions: int = 0
    sessions_completed: int = 0
    energy_wh: float = 0.0
    calls_sent: int = 0
    call_errors: int = 0
    timeouts: int = 0
    connection_failures: int = 0
    auth_rejected: int = 0
    commands_received: int = 0
    #: Figures taken when the run was told to end, before stations stop sessions and disconnect.
    at_end: tuple[int, int, int] | None = None

    def mark_end(self) -> None:
        """Remember connected, booted and active sessions as the run ends."""
        self.at_end = (self.connected, self.booted, self.active_sessions)

    @property
    def errors(self) -> int:
        return self.call_errors + self.timeouts + self.connection_failures

    def progress_line(self, elapsed_s: float) -> str:
        rate = self.calls_sent / elapsed_s if elapsed_s > 0 else 0.0
        return (
            f"[{elapsed_s:6.0f}s] stations {self.connected}/{self.stations} connected, "
            f"{self.booted} booted | sessions {self.active_sessions} active, "
            f"{self.sessions_completed} done | {self.energy_wh / 1000:.3f} kWh | "
            f"calls {self.calls_sent} ({rate:.0f}/s) | errors {self.errors}"
        )

    def summary(self, elapsed_s: float) -> str:
        rate = self.calls_sent / elapsed_s if elapsed_s > 0 else 0.0
        connected, booted, active = self.at_end or (self.connected, self.booted, self.active_sessions)
        lines = [
            f"simulated {self.stations} station(s) for {elapsed_s:.1f} s",
            f"  connected at the end   {connected}",
            f"  booted at the end      {booted}",
            f"  sessions completed     {self.sessions_completed}"
            f" ({active} were active at the end and stopped)",
            f"  energy delivered       {self.energy_wh / 1000:.3f} kWh",
            f"  OCPP calls sent        {self.calls_sent} ({rate:.1f}/s)",
            f"  CSMS commands answered {self.commands_received}",
            f"  authorizations refused {self.auth_rejected}",
            f"  CALLERRORs received    {self.call_errors}",
            f"  call timeouts          {self.timeouts}",
            f"  connection failures    {self.connection_failures}",
        ]
        return "\n".join(lines)
