"""What a version adapter's handler may use: the station's identity, the services, the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from volthub.domain.model import JsonObject

if TYPE_CHECKING:
    from volthub.wiring import Services


@dataclass(slots=True)
class StationContext:
    """Per-connection state shared by the handlers of one station."""

    station_id: str
    version: str
    services: Services
    accepted: bool = False
    # Actions we asked for with TriggerMessage: allowed before the station is accepted.
    triggered: set[str] = field(default_factory=set)
    # Notifications that answer a request of ours (NotifyReport after GetBaseReport...): a
    # pending station may send them (2.0.1 B02.FR.xx), in as many parts as it needs.
    solicited: set[str] = field(default_factory=set)
    # The security profile this connection offers (0-3, services/security_profile.py).
    security_level: int = 0
    # Work a handler wants done once its answer is on the wire (e.g. CertificateSigned after
    # SignCertificate, GetTransactionStatus after a seqNo gap): the connection runs these.
    pending_after_reply: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.services.clock()

    def after_reply(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` in the background after the CALLRESULT of the current call is sent."""
        self.pending_after_reply.append(work)


Handler = Callable[[StationContext, JsonObject], Awaitable[JsonObject]]


def parse_time(value: str | None) -> datetime | None:
    """OCPP dateTime (RFC 3339); a naive value is taken as UTC."""
    if value is None:
        return None
    text = value.upper()  # RFC 3339 §5.6: "T" and "Z" may be lower case
    if text[17:19] == "60":  # a leap second (RFC 3339 §5.7): Python has none, take :59
        text = text[:17] + "59" + text[19:]
    parsed = datetime.fromisoformat(text)
    # Kept in UTC: SQLite stores no offset, so a +01:00 time would read back an hour off.
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """UTC with a Z and millisecond precision, as OCPP-J examples and most stations expect."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def drop_none(payload: dict[str, Any]) -> JsonObject:
    """OCPP schemas forbid null: optional fields are left out instead."""
    return {k: v for k, v in payload.items() if v is not None}
