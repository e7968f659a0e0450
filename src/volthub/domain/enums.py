"""Version-neutral enumerations shared by every protocol adapter."""

from __future__ import annotations

from enum import StrEnum


class RegistrationStatus(StrEnum):
    """What a station's next BootNotification is answered."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class Admission(StrEnum):
    """How the CSMS treats a station id it has never seen (VOLTHUB_STATION_ADMISSION)."""

    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


class AuthStatus(StrEnum):
    """Outcome of authorizing an id token; adapters map UNKNOWN per OCPP version."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    UNKNOWN = "Unknown"


class TokenType(StrEnum):
    """OCPP 2.0.1 IdTokenEnumType, the richest token typing of all versions."""

    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    EMAID = "eMAID"
    CENTRAL = "Central"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


class TokenStatus(StrEnum):
    """Status an operator gives an id token."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class ConnectorStatus(StrEnum):
    """The domain's connector status; 1.6 ChargePointStatus and 2.x ConnectorStatus meet here."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    UNKNOWN = "Unknown"


class TransactionStatus(StrEnum):
    """Life cycle of a charging transaction."""

    ACTIVE = "active"
    COMPLETED = "completed"


class ReservationStatus(StrEnum):
    """Life cycle of a reservation."""

    REQUESTED = "Requested"
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    USED = "Used"


class Direction(StrEnum):
    """Direction of an OCPP frame as seen by the CSMS."""

    IN = "in"
    OUT = "out"


class MessageType(StrEnum):
    """OCPP-J message types."""

    CALL = "CALL"
    CALLRESULT = "CALLRESULT"
    CALLERROR = "CALLERROR"
    CALLRESULTERROR = "CALLRESULTERROR"  # 2.1
    SEND = "SEND"  # 2.1


class OcppVersion(StrEnum):
    """OCPP versions, named by their WebSocket subprotocol version."""

    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @property
    def subprotocol(self) -> str:
        return f"ocpp{self.value}"
