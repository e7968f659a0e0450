"""Roaming records: OCPI partners, the push outbox, objects received from partners."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from volthub.domain.model import JsonObject


class PartnerStatus(StrEnum):
    """CONTRACT.md's partner status."""

    PLANNED = "PLANNED"  # a registration token was issued or a registration is under way
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"  # pushes keep failing; they are kept and sent when it is back
    SUSPENDED = "SUSPENDED"  # unregistered (credentials DELETE) or disabled by the operator


@dataclass(slots=True)
class Partner:
    """One OCPI platform we exchanged credentials with (a peer or a hub, any number of roles)."""

    id: int
    status: PartnerStatus
    # Credentials roles of the partner: [{"role", "country_code", "party_id", ...}].
    roles: list[JsonObject] = field(default_factory=list)
    versions_url: str | None = None
    version: str | None = None
    # Version details endpoints: [{"identifier", "role", "url"}].
    endpoints: list[JsonObject] = field(default_factory=list)
    # The token we send to them (their credentials token); it must be kept in clear.
    token_out: str | None = None
    # SHA-256 of the token they send to us (token A before registration, then B or C).
    token_in_sha256: str | None = None
    # True once they sent a plain token instead of `Token <base64>` (accepted, noted).
    sends_plain_token: bool = False
    failures: int = 0
    last_error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def country_code(self) -> str | None:
        return str(self.roles[0]["country_code"]) if self.roles else None

    @property
    def party_id(self) -> str | None:
        return str(self.roles[0]["party_id"]) if self.roles else None

    def role_names(self) -> list[str]:
        return [str(r["role"]) for r in self.roles]

    def has_party(self, country_code: str, party_id: str) -> bool:
        # Both are CiStrings (types §CiString): a partner may send them in either case.
        return any(str(r["country_code"]).upper() == country_code.upper()
                   and str(r["party_id"]).upper() == party_id.upper() for r in self.roles)

    @property
    def is_hub(self) -> bool:
        return "HUB" in self.role_names()

    def endpoint(self, module: str, role: str) -> str | None:
        for e in self.endpoints:
            if e.get("identifier") == module and e.get("role") == role:
                return str(e["url"])
        return None


@dataclass(slots=True)
class OutboxEntry:
    """A push to a partner, stored before it is sent; sent in id order per object."""

    id: int
    partner_id: int
    module: str  # OCPI module identifier of the partner's endpoint (locations, sessions, ...)
    role: str  # the partner endpoint's role (RECEIVER for pushes)
    method: str
    path: str  # appended to the partner's endpoint URL
    body: Any
    object_key: str  # entries with the same key are delivered in order
    to_country_code: str | None = None
    to_party_id: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None
    failed: bool = False  # the partner refused it for good (4xx / 2xxx): not retried


@dataclass(slots=True)
class RoamingObject:
    """An OCPI object a partner pushed to us or we fetched (locations, sessions, cdrs, tariffs,
    tokens), kept as its document."""

    module: str
    country_code: str
    party_id: str
    object_id: str
    data: JsonObject
    last_updated: datetime
    partner_id: int | None = None


@dataclass(slots=True)
class RoamingAuthorization:
    """A real-time authorization (or a START_SESSION's) of a roaming token, kept for the
    session it allows (authorization_reference) and for OCPP authorization of that token."""

    uid: str
    allowed: str  # OCPI AllowedType
    authorization_reference: str | None
    created_at: datetime
    location_id: str | None = None
    evse_uid: str | None = None
    partner_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
