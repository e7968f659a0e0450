"""Request and response bodies of the admin API, and their mapping from domain records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from volthub.domain.enums import RegistrationStatus, TokenStatus, TokenType
from volthub.domain.model import ConnectorState, IdToken, Location, MessageRecord, Transaction
from volthub.services.station_admin import StationView


def _utc_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcTime = Annotated[datetime, PlainSerializer(_utc_z, return_type=str)]
T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# stations ---------------------------------------------------------------------------------
class ConnectorIn(Strict):
    connector_id: int = Field(ge=1)
    standard: str | None = Field(default=None, max_length=40)
    format: str | None = Field(default=None, max_length=16)
    power_type: str | None = Field(default=None, max_length=16)
    max_voltage: int | None = Field(default=None, ge=0)
    max_amperage: int | None = Field(default=None, ge=0)
    max_electric_power: int | None = Field(default=None, ge=0)


class EvseIn(Strict):
    evse_id: int = Field(ge=1)
    connectors: list[ConnectorIn] = Field(default_factory=list)


class StationPatch(Strict):
    location_id: str | None = Field(default=None, max_length=36)
    password: str | None = Field(default=None, min_length=8, max_length=64)
    registration_status: RegistrationStatus | None = None
    security_profile: int | None = Field(default=None, ge=0, le=3)
    evses: list[EvseIn] | None = None


class StationCreate(StationPatch):
    id: str = Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9*\-_=:+|@.]+$")


class ConnectorOut(BaseModel):
    connector_id: int
    status: str | None
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    status_at: UtcTime | None
    standard: str | None
    format: str | None
    power_type: str | None
    max_voltage: int | None
    max_amperage: int | None
    max_electric_power: int | None

    @classmethod
    def of(cls, c: ConnectorState) -> ConnectorOut:
        return cls.model_validate(
            {k: getattr(c, k) for k in cls.model_fields}
        )


class EvseOut(BaseModel):
    evse_id: int
    connectors: list[ConnectorOut]


class StationOut(BaseModel):
    id: str
    connected: bool
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    charge_box_serial_number: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None
    last_seen: UtcTime | None
    last_boot_at: UtcTime | None
    location_id: str | None
    registration_status: RegistrationStatus
    security_profile: int
    has_password: bool
    status: str | None
    error_code: str | None
    firmware_status: str | None
    diagnostics_status: str | None
    log_status: str | None
    publish_firmware_status: str | None
    boot_reason: str | None
    local_list_version: int
    configuration: dict[str, Any] | None
    evses: list[EvseOut]

    @classmethod
    def of(cls, view: StationView) -> StationOut:
        s = view.station
        ident = s.identity
        return cls(
            id=s.id, connected=view.connected, ocpp_version=s.ocpp_version,
            vendor=ident.vendor, model=ident.model, serial_number=ident.serial_number,
            firmware_version=ident.firmware_version,
            charge_box_serial_number=ident.charge_box_serial_number, iccid=ident.iccid,
            imsi=ident.imsi, meter_type=ident.meter_type,
            meter_serial_number=ident.meter_serial_number, last_seen=s.last_seen,
            last_boot_at=s.last_boot_at, location_id=s.location_id,
            registration_status=s.registration_status, security_profile=s.security_profile,
            has_password=s.password_hash is not None,
            status=view.status.status if view.status else None,
            error_code=view.status.error_code if view.status else None,
            firmware_status=s.firmware_status, diagnostics_status=s.diagnostics_status,
            log_status=s.log_status, local_list_version=s.local_list_version,
            publish_firmware_status=s.publish_firmware_status, boot_reason=s.boot_reason,
            configuration=s.configuration,
            evses=[
                EvseOut(evse_id=evse_id, connectors=[ConnectorOut.of(c) for c in conns])
                for evse_id, conns in sorted(view.evses.items())
            ],
        )


# id tokens --------------------------------------------------------------------------------
class IdTokenPatch(Strict):
    type: TokenType | None = None
    status: TokenStatus | None = None
    expires_at: datetime | None = None
    group_id: str | None = Field(default=None, max_length=255)


class IdTokenCreate(Strict):
    id_token: str = Field(min_length=1, max_length=255)
    type: TokenType = TokenType.ISO14443
    status: TokenStatus = TokenStatus.ACCEPTED
    expires_at: datetime | None = None
    group_id: str | None = Field(default=None, max_length=255)


class IdTokenOut(BaseModel):
    id_token: str
    type: TokenType
    status: TokenStatus
    expires_at: UtcTime | None
    group_id: str | None

    @classmethod
    def of(cls, t: IdToken) -> IdTokenOut:
        return cls(id_token=t.id_token, type=t.type, status=t.status, expires_at=t.expires_at,
                   group_id=t.group_id)


# transactions -----------------------------------------------------------------------------
class TransactionOut(BaseModel):
    id: int
    station_transaction_id: str
    station_id: str
    evse_id: int
    connector_id: int
    id_token: str | None
    auth_status: str | None
    status: str
    started_at: UtcTime
    stopped_at: UtcTime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int | None
    stop_reason: str | None
    stop_id_token: str | None
    reservation_id: int | None
    remote_start_id: int | None
    id_token_type: str | None
    charging_state: str | None
    trigger_reason: str | None
    number_of_phases: int | None
    cable_max_current_a: int | None
    offline: bool
    last_seq_no: int | None

    @classmethod
    def of(cls, t: Transaction) -> TransactionOut:
        return cls.model_validate({k: getattr(t, k) for k in cls.model_fields})


class MeterReadingOut(BaseModel):
    timestamp: UtcTime
    measurand: str
    value: float | None
    unit: str | None
    phase: str | None
    location: str | None
    context: str | None
    format: str | None
    raw_value: str


# locations --------------------------------------------------------------------------------
class LocationPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    address: str | None = Field(default=None, min_length=1, max_length=255)
    city: str | None = Field(default=None, min_length=1, max_length=64)
    postal_code: str | None = Field(default=None, max_length=16)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    time_zone: str | None = Field(default=None, max_length=64)


class LocationCreate(Strict):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=255)
    address: str = Field(min_length=1, max_length=255)
    city: str = Field(min_length=1, max_length=64)
    postal_code: str | None = Field(default=None, max_length=16)
    country: str = Field(pattern=r"^[A-Z]{3}$")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    time_zone: str | None = Field(default=None, max_length=64)


class LocationOut(BaseModel):
    id: str
    name: str
    address: str
    city: str
    postal_code: str | None
    country: str
    latitude: float
    longitude: float
    time_zone: str | None

    @classmethod
    def of(cls, loc: Location) -> LocationOut:
        return cls.model_validate({k: getattr(loc, k) for k in cls.model_fields})


# commands and message log -----------------------------------------------------------------
class CommandOut(BaseModel):
    status: str | None
    response: dict[str, Any]
    # What the CSMS made of the answer: request_id to find a later report, joined variables...
    data: dict[str, Any] = {}


class MessageOut(BaseModel):
    timestamp: UtcTime
    direction: str
    message_type: str
    action: str | None
    message_id: str
    payload: Any

    @classmethod
    def of(cls, m: MessageRecord) -> MessageOut:
        return cls(timestamp=m.timestamp, direction=m.direction.value,
                   message_type=m.message_type.value, action=m.action, message_id=m.message_id,
                   payload=m.payload)


class SecurityEventOut(BaseModel):
    timestamp: UtcTime
    type: str
    tech_info: str | None
    source: str


class ReservationOut(BaseModel):
    id: int
    evse_id: int
    id_token: str
    parent_id_token: str | None
    expires_at: UtcTime
    status: str
    created_at: UtcTime | None


# 2.x device model and station reports ----------------------------------------------------
class DeviceVariableOut(BaseModel):
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    attribute_type: str
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None
    characteristics: dict[str, Any] | None
    updated_at: UtcTime | None


class StationReportOut(BaseModel):
    id: int
    action: str
    received_at: UtcTime
    request_id: int | None
    evse_id: int | None
    payload: dict[str, Any]


class ChargingProfileOut(BaseModel):
    profile_id: int
    evse_id: int
    stack_level: int
    purpose: str
    transaction_id: int | None
    profile: dict[str, Any]
