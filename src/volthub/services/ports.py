"""Ports the services call out through: the clock and the gateway to connected stations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from volthub.domain.commands import Command
from volthub.domain.model import JsonObject, LocalListEntry


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class LocalListUpdate:
    """A local authorization list update, full or differential (entry without status = remove)."""

    version: int
    update_type: str  # "full" | "differential"
    entries: list[LocalListEntry]
    removed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PreparedCommand:
    """A command plus what the services resolved for it (ids, lists) before it is sent."""

    command: Command
    transaction_reference: str | None = None
    reservation_id: int | None = None
    local_list: LocalListUpdate | None = None


@dataclass(slots=True)
class CommandOutcome:
    """The station's answer: its status word, its raw payload and neutral extracted data."""

    status: str | None
    response: JsonObject
    data: dict[str, Any] = field(default_factory=dict)


class StationGateway(Protocol):
    """How services reach connected stations, whatever their OCPP version."""

    def is_connected(self, station_id: str) -> bool: ...

    def connected_version(self, station_id: str) -> str | None: ...

    async def execute(self, station_id: str, prepared: PreparedCommand) -> CommandOutcome: ...

    async def send_raw(self, station_id: str, action: str, payload: JsonObject) -> JsonObject: ...

    def registration_changed(self, station_id: str, accepted: bool) -> None: ...
