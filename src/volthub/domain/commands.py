"""Version-neutral commands to stations (CONTRACT.md); adapters map each to their OCPP version."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
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
    """soft/hard (1.6); on 2.x soft = OnIdle and hard = Immediate, optionally of one EVSE."""

    name: str = Field(default="reset", exclude=True)
    type: Literal["soft", "hard", "on_idle", "immediate"]
    evse_id: int | None = Field(default=None, ge=1)


class Unlock(Command):
    name: str = Field(default="unlock", exclude=True)
    evse_id: int = Field(ge=1)
    connector_id: int = Field(default=1, ge=1)


class ChangeAvailability(Command):
    name: str = Field(default="change-availability", exclude=True)
    evse_id: int | None = Field(default=None, ge=0)
    connector_id: int | None = Field(default=None, ge=1)
    operative: bool


class Trigger(Command):
    name: str = Field(default="trigger", exclude=True)
    message: str = Field(min_length=1)
    evse_id: int | None = Field(default=None, ge=0)
    connector_id: int | None = Field(default=None, ge=1)


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
    """A period; discharge and setpoint fields are OCPP 2.1 V2X (bidirectional) only."""

    model_config = ConfigDict(extra="forbid")
    start_period_s: int = Field(ge=0)
    limit: float = Field(ge=0)
    number_phases: int | None = Field(default=None, ge=1, le=3)
    phase_to_use: int | None = Field(default=None, ge=1, le=3)
    discharge_limit: float | None = Field(default=None, le=0)
    setpoint: float | None = None
    setpoint_reactive: float | None = None
    operation_mode: str | None = Field(default=None, max_length=32)

    def is_v2x(self) -> bool:
        return any(v is not None for v in (self.discharge_limit, self.setpoint,
                                           self.setpoint_reactive, self.operation_mode))


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
    # ChargePointMaxProfile is 2.x ChargingStationMaxProfile; the others exist on 2.x only.
    purpose: Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile",
                     "ChargingStationExternalConstraints", "PriorityCharging", "LocalGeneration"]
    kind: Literal["Absolute", "Recurring", "Relative", "Dynamic"]
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
    # 2.x: a reservation of any EVSE with this connector type (evse_id 0), H01.
    connector_type: str | None = Field(default=None, max_length=20)


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
    certificate_type: str = Field(min_length=1, max_length=50)
    certificate: str = Field(min_length=1, max_length=5500)


class GetInstalledCertificateIds(Command):
    name: str = Field(default="get-installed-certificate-ids", exclude=True)
    certificate_type: str | None = Field(default=None, min_length=1)
    # 2.x asks for several types at once; 1.6 for exactly one.
    certificate_types: list[str] | None = None


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
    certificate_type: Literal["ChargingStationCertificate", "V2GCertificate"] | None = None


class VariableRef(BaseModel):
    """A 2.x component variable (with a value for SetVariables)."""

    model_config = ConfigDict(extra="forbid")
    component: str = Field(min_length=1, max_length=50)
    variable: str = Field(min_length=1, max_length=50)
    component_instance: str | None = Field(default=None, max_length=50)
    variable_instance: str | None = Field(default=None, max_length=50)
    evse_id: int | None = Field(default=None, ge=1)
    connector_id: int | None = Field(default=None, ge=1)
    attribute_type: Literal["Actual", "Target", "MinSet", "MaxSet"] | None = None
    value: str | None = Field(default=None, max_length=2500)

    @classmethod
    def from_key(cls, key: str, value: str | None = None) -> VariableRef:
        """CONTRACT.md: on 2.x a configuration key is `Component.Variable`."""
        component, dot, variable = key.partition(".")
        if not dot or not component or not variable:
            raise ValueError(f"key {key!r} is not Component.Variable")
        return cls(component=component, variable=variable, value=value)

    def key(self) -> str:
        return f"{self.component}.{self.variable}"


class GetVariables(Command):
    name: str = Field(default="get-variables", exclude=True)
    variables: list[VariableRef] = Field(min_length=1)


class SetVariables(Command):
    name: str = Field(default="set-variables", exclude=True)
    variables: list[VariableRef] = Field(min_length=1)


class GetBaseReport(Command):
    name: str = Field(default="get-base-report", exclude=True)
    report_base: Literal["ConfigurationInventory", "FullInventory", "SummaryInventory"] = (
        "FullInventory")
    request_id: int | None = None


class GetReport(Command):
    name: str = Field(default="get-report", exclude=True)
    request_id: int | None = None
    component_criteria: list[Literal["Active", "Available", "Enabled", "Problem"]] | None = None
    variables: list[VariableRef] | None = None


class SetNetworkProfile(Command):
    """2.x B09: connection_data is the NetworkConnectionProfileType of the station's version."""

    name: str = Field(default="set-network-profile", exclude=True)
    configuration_slot: int
    connection_data: dict[str, Any]


class GetTransactionStatus(Command):
    name: str = Field(default="get-transaction-status", exclude=True)
    transaction_id: int | None = None  # ours; None = are there queued messages at all
    station_transaction_id: str | None = Field(default=None, max_length=36)


class GetChargingProfiles(Command):
    name: str = Field(default="get-charging-profiles", exclude=True)
    request_id: int | None = None
    evse_id: int | None = Field(default=None, ge=0)
    purpose: str | None = None
    stack_level: int | None = Field(default=None, ge=0)
    profile_ids: list[int] | None = None
    limit_sources: list[str] | None = None


class SetMonitoringBase(Command):
    name: str = Field(default="set-monitoring-base", exclude=True)
    monitoring_base: Literal["All", "FactoryDefault", "HardWiredOnly"]


class SetMonitoringLevel(Command):
    name: str = Field(default="set-monitoring-level", exclude=True)
    severity: int = Field(ge=0, le=9)


class SetVariableMonitoring(Command):
    """2.x N04: monitors in SetMonitoringDataType form (the station's version)."""

    name: str = Field(default="set-variable-monitoring", exclude=True)
    monitors: list[dict[str, Any]] = Field(min_length=1)


class ClearVariableMonitoring(Command):
    name: str = Field(default="clear-variable-monitoring", exclude=True)
    ids: list[int] = Field(min_length=1)


class GetMonitoringReport(Command):
    name: str = Field(default="get-monitoring-report", exclude=True)
    request_id: int | None = None
    criteria: list[Literal["ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring"]] | None \
        = None
    variables: list[VariableRef] | None = None


class CustomerInformation(Command):
    name: str = Field(default="customer-information", exclude=True)
    request_id: int | None = None
    report: bool = True
    clear: bool = False
    id_token: str | None = Field(default=None, max_length=36)
    customer_identifier: str | None = Field(default=None, max_length=64)


class SetDisplayMessage(Command):
    name: str = Field(default="set-display-message", exclude=True)
    id: int
    priority: Literal["AlwaysFront", "InFront", "NormalCycle"] = "NormalCycle"
    content: str = Field(min_length=1, max_length=512)
    format: Literal["ASCII", "HTML", "URI", "UTF8"] = "UTF8"
    language: str | None = Field(default=None, max_length=8)
    state: Literal["Charging", "Faulted", "Idle", "Unavailable"] | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    transaction_id: int | None = None  # ours


class GetDisplayMessages(Command):
    name: str = Field(default="get-display-messages", exclude=True)
    request_id: int | None = None
    ids: list[int] | None = None
    priority: Literal["AlwaysFront", "InFront", "NormalCycle"] | None = None
    state: Literal["Charging", "Faulted", "Idle", "Unavailable"] | None = None


class ClearDisplayMessage(Command):
    name: str = Field(default="clear-display-message", exclude=True)
    id: int


class PublishFirmware(Command):
    name: str = Field(default="publish-firmware", exclude=True)
    location: str = Field(min_length=1, max_length=512)
    checksum: str = Field(min_length=1, max_length=32)
    request_id: int | None = None
    retries: int | None = Field(default=None, ge=0)
    retry_interval_s: int | None = Field(default=None, ge=0)


class UnpublishFirmware(Command):
    name: str = Field(default="unpublish-firmware", exclude=True)
    checksum: str = Field(min_length=1, max_length=32)


class CostUpdated(Command):
    """2.x I02: the running cost of a transaction shown to the driver (incl. VAT)."""

    name: str = Field(default="cost-updated", exclude=True)
    transaction_id: int  # ours
    total_cost: Decimal


class NotifyAllowedEnergyTransfer(Command):
    """2.1 V2X: which energy transfer modes (e.g. AC_BPT) a transaction may use."""

    name: str = Field(default="notify-allowed-energy-transfer", exclude=True)
    transaction_id: int  # ours
    allowed: list[str] = Field(min_length=1)


class SetDerControl(Command):
    """2.1 R04: a DER control in SetDERControlRequest form, kept once the station accepts."""

    name: str = Field(default="set-der-control", exclude=True)
    control: dict[str, Any]


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
        GetVariables,
        SetVariables,
        GetBaseReport,
        GetReport,
        SetNetworkProfile,
        GetTransactionStatus,
        GetChargingProfiles,
        SetMonitoringBase,
        SetMonitoringLevel,
        SetVariableMonitoring,
        ClearVariableMonitoring,
        GetMonitoringReport,
        CustomerInformation,
        SetDisplayMessage,
        GetDisplayMessages,
        ClearDisplayMessage,
        PublishFirmware,
        UnpublishFirmware,
        CostUpdated,
        NotifyAllowedEnergyTransfer,
        SetDerControl,
    )
}

RemoteStart.model_rebuild()


def parse_command(name: str, body: dict[str, Any]) -> Command:
    """Validate a command body; raises KeyError for an unknown name, ValidationError for a body."""
    return COMMANDS[name].model_validate(body)
