"""Version-neutral commands to stations (CONTRACT.md); adapters map each to their OCPP version."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Command(BaseModel):
    """Base of every command body; unknown fields are refused so typos name themselves."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", exclude=True)


class RemoteStart(Command):
    name: str = Field(default="remote-start", exclude=True)
    id_token: str = Field(min_length=1, max_length=36)
    evse_id: int | None = Field(default=None, ge=1)
    charging_profile: ChargingProfile | None = None


class RemoteStop(Command):
    name: str = Field(default="remote-stop", exclude=True)
    transaction_id: int


class Reset(Command):
    name: str = Field(default="reset", exclude=True)
    type: Literal["soft", "hard"]


class Unlock(Command):
    name: str = Field(default="unlock", exclude=True)
    evse_id: int = Field(ge=1)
    connector_id: int = Field(default=1, ge=1)


class ChangeAvailability(Command):
    name: str = Field(default="change-availability", exclude=True)
    evse_id: int | None = Field(default=None, ge=0)
    operative: bool


class Trigger(Command):
    name: str = Field(default="trigger", exclude=True)
    message: str = Field(min_length=1)
    evse_id: int | None = Field(default=None, ge=0)


class GetConfiguration(Command):
    name: str = Field(default="get-configuration", exclude=True)
    keys: list[str] | None = None


class SetConfiguration(Command):
    name: str = Field(default="set-configuration", exclude=True)
    key: str = Field(min_length=1, max_length=50)
    value: str = Field(max_length=500)


class ClearCache(Command):
    name: str = Field(default="clear-cache", exclude=True)


class DataTransfer(Command):
    name: str = Field(default="data-transfer", exclude=True)
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: str | None = None


class UpdateFirmware(Command):
    """Plain firmware update, or a signed one (1.6 security extension) when signature is given."""

    name: str = Field(default="update-firmware", exclude=True)
    location: str = Field(min_length=1, max_length=512)
    retrieve_at: datetime
    retries: int | None = Field(default=None, ge=0)
    retry_interval_s: int | None = Field(default=None, ge=0)
    install_at: datetime | None = None
    signing_certificate: str | None = None
    signature: str | None = None
    request_id: int | None = None


class GetDiagnostics(Command):
    name: str = Field(default="get-diagnostics", exclude=True)
    location: str = Field(min_length=1, max_length=512)
    start_time: datetime | None = None
    stop_time: datetime | None = None
    retries: int | None = Field(default=None, ge=0)
    retry_interval_s: int | None = Field(default=None, ge=0)


class GetLog(Command):
    name: str = Field(default="get-log", exclude=True)
    log_type: Literal["DiagnosticsLog", "SecurityLog"]
    location: str = Field(min_length=1, max_length=512)
    request_id: int | None = None
    oldest_at: datetime | None = None
    latest_at: datetime | None = None
    retries: int | None = Field(default=None, ge=0)
    retry_interval_s: int | None = Field(default=None, ge=0)


class ChargingSchedulePeriod(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start_period_s: int = Field(ge=0)
    limit: float = Field(ge=0)
    number_phases: int | None = Field(default=None, ge=1, le=3)


class ChargingSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    charging_rate_unit: Literal["A", "W"]
    periods: list[ChargingSchedulePeriod] = Field(min_length=1)
    duration_s: int | None = Field(default=None, ge=0)
    start_schedule: datetime | None = None
    min_charging_rate: float | None = Field(default=None, ge=0)


class ChargingProfile(BaseModel):
    """A charging profile in one neutral shape, mapped to each version's profile type."""

    model_config = ConfigDict(extra="forbid")
    id: int = Field(ge=0)
    stack_level: int = Field(ge=0)
    purpose: Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
    kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency_kind: Literal["Daily", "Weekly"] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: int | None = None
    schedule: ChargingSchedule


class SetChargingProfile(Command):
    name: str = Field(default="set-charging-profile", exclude=True)
    evse_id: int = Field(ge=0)
    profile: ChargingProfile


class ClearChargingProfile(Command):
    name: str = Field(default="clear-charging-profile", exclude=True)
    id: int | None = None
    evse_id: int | None = Field(default=None, ge=0)
    purpose: Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"] | None = None
    stack_level: int | None = Field(default=None, ge=0)


class GetCompositeSchedule(Command):
    name: str = Field(default="get-composite-schedule", exclude=True)
    evse_id: int = Field(ge=0)
    duration_s: int = Field(ge=1)
    charging_rate_unit: Literal["A", "W"] | None = None


class ReserveNow(Command):
    name: str = Field(default="reserve-now", exclude=True)
    evse_id: int = Field(ge=0)
    id_token: str = Field(min_length=1, max_length=36)
    expires_at: datetime
    parent_id_token: str | None = Field(default=None, max_length=36)


class CancelReservation(Command):
    name: str = Field(default="cancel-reservation", exclude=True)
    reservation_id: int


class SendLocalList(Command):
    """Send the local list built from the token table, fully or as the difference since last."""

    name: str = Field(default="send-local-list", exclude=True)
    update_type: Literal["full", "differential"] = "full"


class GetLocalListVersion(Command):
    name: str = Field(default="get-local-list-version", exclude=True)


class InstallCertificate(Command):
    name: str = Field(default="install-certificate", exclude=True)
    certificate_type: str = Field(min_length=1)
    certificate: str = Field(min_length=1, max_length=5500)


class GetInstalledCertificateIds(Command):
    name: str = Field(default="get-installed-certificate-ids", exclude=True)
    certificate_type: str = Field(min_length=1)


class CertificateHashData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: str = Field(max_length=128)
    issuer_key_hash: str = Field(max_length=128)
    serial_number: str = Field(max_length=40)


class DeleteCertificate(Command):
    name: str = Field(default="delete-certificate", exclude=True)
    certificate: CertificateHashData


class CertificateSigned(Command):
    name: str = Field(default="certificate-signed", exclude=True)
    certificate_chain: str = Field(min_length=1, max_length=10000)


COMMANDS: dict[str, type[Command]] = {
    model.model_fields["name"].default: model
    for model in (
        RemoteStart,
        RemoteStop,
        Reset,
        Unlock,
        ChangeAvailability,
        Trigger,
        GetConfiguration,
        SetConfiguration,
        ClearCache,
        DataTransfer,
        UpdateFirmware,
        GetDiagnostics,
        GetLog,
        SetChargingProfile,
        ClearChargingProfile,
        GetCompositeSchedule,
        ReserveNow,
        CancelReservation,
        SendLocalList,
        GetLocalListVersion,
        InstallCertificate,
        GetInstalledCertificateIds,
        DeleteCertificate,
        CertificateSigned,
    )
}

RemoteStart.model_rebuild()


def parse_command(name: str, body: dict[str, Any]) -> Command:
    """Validate a command body; raises KeyError for an unknown name, ValidationError for a body."""
    return COMMANDS[name].model_validate(body)
