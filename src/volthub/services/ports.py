"""Ports the services call out through: the clock and the gateway to connected stations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from volthub.domain.commands import Command
from volthub.domain.model import Authorization, JsonObject, LocalListEntry, Transaction


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
    # 2.x correlation ids, drawn by the CSMS: requestId of reports/logs, remoteStartId (F01).
    request_id: int | None = None
    remote_start_id: int | None = None
    id_token_type: str | None = None  # the stored type of the command's id_token, if known


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

    async def enforce_security_profile(self, station_id: str, profile: int) -> bool:
        """Close the station's connection if it offers less than `profile`; True if closed."""
        ...


class CostProvider(Protocol):
    """Prices for drivers (2.x block I): the tariff engine implements this in its own module."""

    async def tariff_message(self, station_id: str, evse_id: int | None,
                             id_token: str) -> str | None:
        """Text shown to the driver at authorization (2.0.1 I01: personalMessage), or None."""
        ...

    async def running_cost(self, transaction_id: int) -> Decimal | None:
        """Cost so far incl. VAT in the station's currency, or None when not priced."""
        ...


class NoCostProvider:
    """Until a tariff is configured nothing is priced: no message, no cost."""

    async def tariff_message(self, station_id: str, evse_id: int | None,
                             id_token: str) -> str | None:
        return None

    async def running_cost(self, transaction_id: int) -> Decimal | None:
        return None


class SessionListener(Protocol):
    """Told when a transaction starts and ends (billing fixes the tariff, issues the CDR)."""

    async def session_started(self, txn: Transaction) -> None: ...

    async def session_ended(self, txn: Transaction) -> None: ...


class NoSessionListener:
    async def session_started(self, txn: Transaction) -> None:
        return None

    async def session_ended(self, txn: Transaction) -> None:
        return None


class RoamingAuthorizer(Protocol):
    """Real-time authorization of a roaming token at the eMSP that issued it (OCPI CPO role,
    mod_tokens §Real-time authorization); implemented outside the services (volthub.ocpi)."""

    async def authorize(self, id_token: str,
                        station_id: str | None = None) -> Authorization | None:
        """The eMSP's answer (stored for the session that follows), or None when no eMSP gave
        one (unknown everywhere, unreachable without an offline allowance, no partner)."""
        ...
