"""Security profiles (OCPP 1.6 whitepaper / 2.0.1 A00): what a connection offers, and station
passwords changed over OCPP (A01) that take effect only once the station accepts them.

Profiles: 0 none; 1 HTTP Basic auth; 2 TLS + Basic auth; 3 TLS + a client certificate whose
CN is the station identity (Basic auth not needed). A station's `security_profile` is the least
a connection of it must offer.
"""

from __future__ import annotations

import asyncio
import copy
import re
from dataclasses import dataclass
from typing import Any

from volthub.domain import commands as c
from volthub.domain.model import JsonObject, SecurityEvent
from volthub.services.passwords import hash_password, verify_password
from volthub.services.ports import Clock, CommandOutcome, StationGateway
from volthub.storage.interface import Repositories, Storage

# The 1.6 configuration key and the 2.x variable that carry the Basic-auth password.
AUTHORIZATION_KEY = "AuthorizationKey"
BASIC_AUTH_COMPONENT, BASIC_AUTH_VARIABLE = "SecurityCtrlr", "BasicAuthPassword"
BASIC_AUTH_KEY = f"{BASIC_AUTH_COMPONENT}.{BASIC_AUTH_VARIABLE}"
MASK = "********"
# Whitepaper A00.FR.205 / §7.2: a 16 to 20 octet password, written as 32 to 40 hex digits.
_HEX_KEY = re.compile(rb"(?:[0-9A-Fa-f]{2}){16,20}")

# Security events the CSMS raises about a station's connection.
EVENT_BAD_CERTIFICATE = "InvalidChargingStationCertificate"
EVENT_WEAKER_CONNECTION = "SecurityProfileViolation"
EVENT_PASSWORD_CHANGED = "BasicAuthPasswordChanged"
EVENT_PASSWORD_REJECTED = "BasicAuthPasswordChangeRejected"


# passwords ------------------------------------------------------------------------------------
def authorization_key_password(value: str) -> bytes:
    """The Basic-auth password a 1.6 AuthorizationKey stands for: 32 to 40 hex digits are the
    hex form of 16 to 20 octets (whitepaper A00.FR.205, OCTT TC_085_CS: the header carries the
    non-hex form); any other text is the password itself."""
    raw = value.encode()
    return bytes.fromhex(value) if _HEX_KEY.fullmatch(raw) else raw


def password_matches(presented: str | bytes, stored_hash: str) -> bool:
    """The Basic-auth password against the stored hash. A 1.6 key may be presented in either
    form, the octets or their hex text (stations differ), whichever form was stored."""
    octets = presented if isinstance(presented, bytes) else presented.encode()
    if verify_password(octets, stored_hash):
        return True
    if _HEX_KEY.fullmatch(octets):
        return verify_password(bytes.fromhex(octets.decode()), stored_hash)
    if 16 <= len(octets) <= 20:
        return verify_password(octets.hex().encode(), stored_hash)
    return False


@dataclass(slots=True, frozen=True)
class PasswordChange:
    """A command that sets a station's Basic-auth password, and the password it sets."""

    password: bytes


def password_change(command: c.Command) -> PasswordChange | None:
    """The new password a set-configuration (or 2.x set-variables) command gives the station."""
    if isinstance(command, c.SetConfiguration):
        if command.key == AUTHORIZATION_KEY:
            return PasswordChange(authorization_key_password(command.value))
        if command.key == BASIC_AUTH_KEY:
            # 2.0.1 appendix 3.1.15: a UTF-8 string, not octets or base64.
            return PasswordChange(command.value.encode())
    if isinstance(command, c.SetVariables):
        found = [v for v in command.variables if v.key() == BASIC_AUTH_KEY
                 and v.attribute_type in (None, "Actual") and v.value is not None]
        if len(found) == 1 and found[0].value is not None:
            return PasswordChange(found[0].value.encode())
    return None


def raw_password_change(action: str, payload: JsonObject) -> PasswordChange | None:
    """The new password a raw ChangeConfiguration or SetVariables call sets."""
    if action == "ChangeConfiguration" and payload.get("key") == AUTHORIZATION_KEY:
        return PasswordChange(authorization_key_password(str(payload.get("value", ""))))
    if action == "SetVariables":
        found = [d for d in payload.get("setVariableData", []) if _is_basic_auth_data(d)]
        if len(found) == 1:
            return PasswordChange(str(found[0].get("attributeValue", "")).encode())
    return None


def raw_password_accepted(action: str, answer: JsonObject) -> bool:
    if action == "ChangeConfiguration":
        return answer.get("status") == "Accepted"
    results = [r for r in answer.get("setVariableResult", []) if _is_basic_auth_data(r)]
    return len(results) == 1 and results[0].get("attributeStatus") == "Accepted"


def _is_basic_auth_data(item: Any) -> bool:
    return (isinstance(item, dict)
            and (item.get("component") or {}).get("name") == BASIC_AUTH_COMPONENT
            and (item.get("variable") or {}).get("name") == BASIC_AUTH_VARIABLE)


@dataclass(slots=True, frozen=True)
class PasswordOutcome:
    """A password change the station answered: the new hash if it accepted."""

    accepted: bool
    password_hash: str | None

    async def apply(self, repos: Repositories, station_id: str, clock: Clock) -> None:
        """The new password counts from now on if the station accepted (whitepaper A01.FR.03:
        the old one is no longer accepted), else the old one stays (A01.FR.04). The password
        itself is kept only as a salted hash (A01.FR.08)."""
        if self.accepted:
            await repos.update_station(station_id, {"password_hash": self.password_hash})
        await repos.insert_security_event(SecurityEvent(
            station_id=station_id, timestamp=clock(),
            type=EVENT_PASSWORD_CHANGED if self.accepted else EVENT_PASSWORD_REJECTED,
            tech_info=None if self.accepted else "the station kept its password: the old one "
                                                 "stays valid",
            source="csms",
        ))


async def command_password_outcome(
    command: c.Command, outcome: CommandOutcome
) -> PasswordOutcome | None:
    """What to record once the station answered a command (None: it set no password)."""
    change = password_change(command)
    if change is None:
        return None
    if isinstance(command, c.SetVariables):
        accepted = raw_password_accepted("SetVariables", outcome.response)
    else:
        accepted = outcome.status == "Accepted"
    return await _outcome(change, accepted)


async def raw_password_outcome(
    action: str, payload: JsonObject, answer: JsonObject
) -> PasswordOutcome | None:
    """The same for a raw OCPP call (POST /stations/{id}/ocpp/{Action})."""
    change = raw_password_change(action, payload)
    if change is None:
        return None
    return await _outcome(change, raw_password_accepted(action, answer))


async def _outcome(change: PasswordChange, accepted: bool) -> PasswordOutcome:
    # scrypt takes some 20 ms: off the event loop.
    digest = await asyncio.to_thread(hash_password, change.password) if accepted else None
    return PasswordOutcome(accepted, digest)


def mask_secrets(action: str | None, payload: Any) -> Any:
    """The payload as the message log keeps it: Basic-auth passwords replaced (A01.FR.09)."""
    if action == "ChangeConfiguration" and isinstance(payload, dict) \
            and payload.get("key") == AUTHORIZATION_KEY and "value" in payload:
        return {**payload, "value": MASK}
    if action == "SetVariables" and isinstance(payload, dict) \
            and any(_is_basic_auth_data(d) for d in payload.get("setVariableData", [])):
        masked = copy.deepcopy(payload)
        for item in masked["setVariableData"]:
            if _is_basic_auth_data(item) and "attributeValue" in item:
                item["attributeValue"] = MASK
        return masked
    return payload


# connections ----------------------------------------------------------------------------------
def connection_level(tls: bool, certificate_ok: bool, password_ok: bool) -> int:
    """The security profile a connection offers."""
    if tls and certificate_ok:
        return 3
    if password_ok:
        return 2 if tls else 1
    return 0


def shortfall(required: int, offered: int) -> tuple[int, str] | None:
    """Why a connection offering profile `offered` is refused for a station of `required`."""
    if offered >= required:
        return None
    if required >= 3:
        return 403, "station requires TLS with a client certificate (security profile 3)"
    if required == 2 and offered >= 1:
        return 403, "station requires TLS"
    return 401, "station requires a password but has none set"


async def enforce_profile(
    storage: Storage, clock: Clock, gateway: StationGateway, station_id: str, profile: int
) -> bool:
    """After an operator changed a station's profile: a live connection that offers less is
    closed and a security event recorded (the station reconnects and must then meet the new
    profile). True if a connection was closed."""
    if not await gateway.enforce_security_profile(station_id, profile):
        return False
    event = SecurityEvent(
        station_id=station_id, timestamp=clock(), type=EVENT_WEAKER_CONNECTION,
        tech_info=f"connection closed: it offers less than security profile {profile}",
        source="csms",
    )
    await storage.write(lambda r: r.insert_security_event(event))
    return True
