"""Domain records: stations, connectors, tokens, transactions, readings, reservations, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from volthub.domain.enums import (
    AuthStatus,
    Direction,
    MessageType,
    RegistrationStatus,
    ReservationStatus,
    TokenStatus,
    TokenType,
    TransactionStatus,
)

JsonObject = dict[str, Any]


@dataclass(slots=True)
class StationIdentity:
    """What a station says about itself at boot (1.6 BootNotification, 2.x ChargingStation)."""

    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    charge_box_serial_number: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(slots=True)
class Station:
    """A charging station as the CSMS knows it."""

    id: str
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED
    security_profile: int = 0
    password_hash: str | None = None
    ocpp_version: str | None = None
    identity: StationIdentity = field(default_factory=StationIdentity)
    location_id: str | None = None
    last_seen: datetime | None = None
    last_boot_at: datetime | None = None
    local_list_version: int = 0
    configuration: JsonObject | None = None
    configuration_at: datetime | None = None
    firmware_status: str | None = None
    diagnostics_status: str | None = None
    log_status: str | None = None
    publish_firmware_status: str | None = None
    boot_reason: str | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class ConnectorState:
    """Status and metadata of one connector; evse_id 0 / connector_id 0 is the station itself."""

    station_id: str
    evse_id: int
    connector_id: int
    status: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    status_at: datetime | None = None
    standard: str | None = None
    format: str | None = None
    power_type: str | None = None
    max_voltage: int | None = None
    max_amperage: int | None = None
    max_electric_power: int | None = None


@dataclass(slots=True)
class IdToken:
    """An identifier a driver uses to authorize (RFID card, app, roaming token)."""

    id_token: str
    type: TokenType = TokenType.ISO14443
    status: TokenStatus = TokenStatus.ACCEPTED
    expires_at: datetime | None = None
    group_id: str | None = None


@dataclass(slots=True, frozen=True)
class Authorization:
    """The answer of the one authorization rule."""

    status: AuthStatus
    expires_at: datetime | None = None
    group_id: str | None = None


@dataclass(slots=True)
class MeterReading:
    """One sampled value normalised to integer-friendly base units (Wh, W, varh, A, V...)."""

    timestamp: datetime
    value: float | None
    raw_value: str
    measurand: str = "Energy.Active.Import.Register"
    unit: str = "Wh"
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    format: str | None = None
    signed_data: str | None = None


@dataclass(slots=True)
class Transaction:
    """A charging transaction, with our id and the station's reference."""

    id: int
    station_id: str
    station_transaction_id: str
    evse_id: int
    connector_id: int
    id_token: str | None
    status: TransactionStatus
    started_at: datetime
    auth_status: AuthStatus | None = None
    stopped_at: datetime | None = None
    meter_start_wh: int | None = None
    meter_stop_wh: int | None = None
    energy_wh: int | None = None
    stop_reason: str | None = None
    stop_id_token: str | None = None
    reservation_id: int | None = None
    # OCPP 2.x only: what TransactionEvents reported last.
    remote_start_id: int | None = None
    id_token_type: str | None = None
    charging_state: str | None = None
    trigger_reason: str | None = None
    number_of_phases: int | None = None
    cable_max_current_a: int | None = None
    offline: bool = False
    last_seq_no: int | None = None


@dataclass(slots=True)
class Reservation:
    """A reservation of an EVSE (or the whole station) for a token until it expires."""

    id: int
    station_id: str
    evse_id: int
    id_token: str
    expires_at: datetime
    status: ReservationStatus
    parent_id_token: str | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class SecurityEvent:
    """A security event, reported by a station or raised by the CSMS about one."""

    station_id: str
    timestamp: datetime
    type: str
    tech_info: str | None = None
    source: str = "station"


@dataclass(slots=True)
class MessageRecord:
    """One OCPP frame in or out, as kept in the message log."""

    station_id: str
    timestamp: datetime
    direction: Direction
    message_type: MessageType
    message_id: str
    action: str | None
    payload: Any


@dataclass(slots=True)
class Location:
    """A site where stations stand; also the OCPI location."""

    id: str
    name: str
    address: str
    city: str
    country: str
    latitude: float
    longitude: float
    postal_code: str | None = None
    time_zone: str | None = None
    # When the location (or, see station_admin, the stations in it) last changed; set by storage.
    updated_at: datetime | None = field(default=None, compare=False)


@dataclass(slots=True)
class LocalListEntry:
    """A token as last sent to a station's local authorization list."""

    id_token: str
    status: AuthStatus
    expires_at: datetime | None = None
    group_id: str | None = None
    # 2.x IdTokenEnumType; not part of what a differential update compares (1.6 has no type).
    type: str = field(default="ISO14443", compare=False)


@dataclass(slots=True)
class ChargingProfileRecord:
    """A charging profile the station accepted, kept in the version-neutral form."""

    station_id: str
    profile_id: int
    evse_id: int
    stack_level: int
    purpose: str
    profile: JsonObject
    transaction_id: int | None = None


@dataclass(slots=True)
class DeviceVariable:
    """One attribute of one variable of one component of a 2.x station's device model."""

    component: str
    variable: str
    attribute_type: str = "Actual"
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None
    value: str | None = None
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    characteristics: JsonObject | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class StationReport:
    """A notification a station sent (or a setting we gave it), kept verbatim per action."""

    station_id: str
    action: str
    received_at: datetime
    payload: JsonObject
    request_id: int | None = None
    evse_id: int | None = None
    id: int = 0


@dataclass(slots=True)
class TransactionEventRecord:
    """The identity of one 2.x TransactionEvent: applied once per (transaction, seqNo)."""

    station_id: str
    station_transaction_id: str
    seq_no: int
    event_type: str
    trigger_reason: str
    timestamp: datetime
    offline: bool
    received_at: datetime
