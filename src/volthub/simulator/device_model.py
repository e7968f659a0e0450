"""The OCPP 2.x device model of a simulated station: components, variables, monitors (pure, no I/O).

A component is named by (name, instance, EVSE id, connector id); each of its variables (name,
instance) has up to four attributes (Actual, Target, MinSet, MaxSet) with a mutability, and
characteristics (data type, unit, limits, values list) that every written value is checked
against. Names compare case-insensitively. ``default_device_model`` builds the standardised
controllers of OCPP 2.0.1 part 2 appendix 3 that the simulator honours, plus ChargingStation,
EVSE and Connector components per EVSE.

Rules followed: B06 (GetVariables statuses), B05 (SetVariables statuses), B07/B08 (base reports
and GetReport selection with the wildcards of errata B08.FR.22-25), N02-N04 (monitors).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

#: Measurands the simulator samples that OCPP 2.x knows (2.x has no Temperature measurand).
SUPPORTED_MEASURANDS_2X = (
    "Energy.Active.Import.Register",
    "Energy.Active.Import.Interval",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "SoC",
)

#: B04/B05: how many entries a GetVariables / SetVariables request may hold.
ITEMS_PER_MESSAGE = 32
BYTES_PER_MESSAGE = 65_000
#: ``attributeValue`` of GetVariableResult is a string of at most 2500 characters.
VALUE_SIZE = 2500


class Mutability(StrEnum):
    READ_ONLY = "ReadOnly"
    WRITE_ONLY = "WriteOnly"
    READ_WRITE = "ReadWrite"


class DataType(StrEnum):
    STRING = "string"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE_TIME = "dateTime"
    BOOLEAN = "boolean"
    OPTION_LIST = "OptionList"
    SEQUENCE_LIST = "SequenceList"
    MEMBER_LIST = "MemberList"


class AttributeType(StrEnum):
    ACTUAL = "Actual"
    TARGET = "Target"
    MIN_SET = "MinSet"
    MAX_SET = "MaxSet"


class GetStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"


class SetStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"
    REBOOT_REQUIRED = "RebootRequired"


class ReportBase(StrEnum):
    CONFIGURATION_INVENTORY = "ConfigurationInventory"
    FULL_INVENTORY = "FullInventory"
    SUMMARY_INVENTORY = "SummaryInventory"


def _fold(text: str | None) -> str | None:
    return None if text is None else text.lower()


@dataclass(frozen=True)
class ComponentKey:
    """A component: name, optional instance, optional EVSE (and connector on that EVSE)."""

    name: str
    instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None

    @property
    def folded(self) -> tuple[str | None, str | None, int | None, int | None]:
        return (_fold(self.name), _fold(self.instance), self.evse_id, self.connector_id)

    def to_ocpp(self) -> dict[str, Any]:
        """ComponentType in OCPP's camelCase form."""
        data: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            data["instance"] = self.instance
        if self.evse_id is not None:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id is not None:
                evse["connectorId"] = self.connector_id
            data["evse"] = evse
        return data

    @classmethod
    def from_ocpp(cls, data: Mapping[str, Any]) -> ComponentKey:
        evse = data.get("evse") or {}
        return cls(
            name=str(data["name"]),
            instance=data.get("instance"),
            evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"),
        )

    def matches_selector(self, selector: ComponentKey, evse_given: bool) -> bool:
        """GetReport / GetMonitoringReport selection (errata B08.FR.22-25, N02.FR.18-21): a
        missing instance or EVSE in the selector matches every one; an EVSE without connector
        matches every connector of that EVSE."""
        if _fold(self.name) != _fold(selector.name):
            return False
        if selector.instance is not None and _fold(self.instance) != _fold(selector.instance):
            return False
        if not evse_given:
            return True
        if self.evse_id != selector.evse_id:
            return False
        return selector.connector_id is None or self.connector_id == selector.connector_id


@dataclass
class Attribute:
    type: AttributeType
    value: str | None
    mutability: Mutability = Mutability.READ_ONLY
    persistent: bool = True
    constant: bool = False


#: A live reading for an Actual value (e.g. AvailabilityState), computed when read.
Reader = Callable[[], str]
#: A further check of a written value: the value to store (normalised), or None to refuse it.
Check = Callable[[str], "str | None"]


@dataclass
class Variable:
    component: ComponentKey
    name: str
    data_type: DataType
    attributes: dict[AttributeType, Attribute]
    instance: str | None = None
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: tuple[str, ...] | None = None
    supports_monitoring: bool = False
    reboot_required: bool = False
    reader: Reader | None = None
    check: Check | None = None

    @property
    def folded(self) -> tuple[str | None, str | None]:
        return (_fold(self.name), _fold(self.instance))

    def variable_ocpp(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            data["instance"] = self.instance
        return data

    def read(self, attribute_type: AttributeType = AttributeType.ACTUAL) -> str | None:
        attribute = self.attributes.get(attribute_type)
        if attribute is None:
            return None
        if attribute_type is AttributeType.ACTUAL and self.reader is not None:
            return self.reader()
        return attribute.value

    def characteristics_ocpp(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dataType": str(self.data_type),
            "supportsMonitoring": self.supports_monitoring,
        }
        if self.unit is not None:
            data["unit"] = self.unit
        if self.min_limit is not None:
            data["minLimit"] = self.min_limit
        if self.max_limit is not None:
            data["maxLimit"] = self.max_limit
        if self.values_list is not None:
            data["valuesList"] = ",".join(self.values_list)[:1000]
        return data

    def report_data(self) -> dict[str, Any]:
        """ReportDataType: write-only values are never reported (B07.FR.?? / SecurityCtrlr)."""
        attributes = []
        for attribute in self.attributes.values():
            entry: dict[str, Any] = {
                "type": str(attribute.type),
                "mutability": str(attribute.mutability),
                "persistent": attribute.persistent,
                "constant": attribute.constant,
            }
            value = self.read(attribute.type)
            if attribute.mutability is not Mutability.WRITE_ONLY and value is not None:
                entry["value"] = value[:VALUE_SIZE]
            attributes.append(entry)
        return {
            "component": self.component.to_ocpp(),
            "variable": self.variable_ocpp(),
            "variableAttribute": attributes,
            "variableCharacteristics": self.characteristics_ocpp(),
        }

    def validate(self, value: str) -> tuple[str | None, str]:
        """The value to store, or (None, reason code) when the characteristics refuse it."""
        normalised: str | None = value
        kind = self.data_type
        if kind is DataType.INTEGER or kind is DataType.DECIMAL:
            try:
                number = float(int(value.strip())) if kind is DataType.INTEGER else float(value)
            except ValueError:
                return None, "InvalidValue"
            if self.min_limit is not None and number < self.min_limit:
                return None, "ValueTooLow"
            if self.max_limit is not None and number > self.max_limit:
                return None, "ValueTooHigh"
            normalised = value.strip()
        elif kind is DataType.BOOLEAN:
            if value.strip().lower() not in ("true", "false"):
                return None, "InvalidValue"
            normalised = value.strip().lower()
        elif kind is DataType.DATE_TIME:
            try:
                datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                return None, "InvalidValue"
        elif kind is DataType.OPTION_LIST:
            allowed = {v.lower(): v for v in self.values_list or ()}
            if value.strip().lower() not in allowed:
                return None, "InvalidValue"
            normalised = allowed[value.strip().lower()]
        elif kind is DataType.MEMBER_LIST or kind is DataType.SEQUENCE_LIST:
            allowed = {v.lower(): v for v in self.values_list or ()}
            items = [item.strip() for item in value.split(",") if item.strip()]
            if any(item.lower() not in allowed for item in items):
                return None, "InvalidValue"
            if len({item.lower() for item in items}) != len(items):
                return None, "InvalidValue"
            if self.max_limit is not None and len(items) > self.max_limit:
                return None, "ValueTooHigh"
            normalised = ",".join(allowed[item.lower()] for item in items)
        elif kind is DataType.STRING and self.max_limit is not None and len(value) > self.max_limit:
            return None, "ValueTooHigh"
        if self.check is not None and normalised is not None:
            normalised = self.check(normalised)
            if normalised is None:
                return None, "InvalidValue"
        return normalised, "NoError"


@dataclass(frozen=True)
class GetResult:
    status: GetStatus
    value: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SetResult:
    status: SetStatus
    reason: str | None = None


_KEY = re.compile(r"^(?P<component>[^.\[]+)\.(?P<variable>[^\[]+)(?:\[(?P<instance>[^\]]+)\])?$")


def parse_key(key: str) -> tuple[str, str, str | None]:
    """``Component.Variable`` or ``Component.Variable[Instance]`` → its three parts."""
    match = _KEY.match(key)
    if match is None:
        raise KeyError(key)
    return match["component"], match["variable"], match["instance"]


# --- monitoring ---------------------------------------------------------------------------------


class MonitorKind(StrEnum):
    """How a monitor came to be (EventNotificationEnumType)."""

    HARD_WIRED = "HardWiredMonitor"
    PRECONFIGURED = "PreconfiguredMonitor"
    CUSTOM = "CustomMonitor"


class MonitorType(StrEnum):
    UPPER_THRESHOLD = "UpperThreshold"
    LOWER_THRESHOLD = "LowerThreshold"
    DELTA = "Delta"
    PERIODIC = "Periodic"
    PERIODIC_CLOCK_ALIGNED = "PeriodicClockAligned"


@dataclass
class Monitor:
    monitor_id: int
    variable: Variable
    type: MonitorType
    value: float
    severity: int
    transaction: bool = False
    kind: MonitorKind = MonitorKind.CUSTOM

    def to_ocpp(self, with_notification_type: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.monitor_id,
            "transaction": self.transaction,
            "value": self.value,
            "type": str(self.type),
            "severity": self.severity,
        }
        if with_notification_type:
            data["eventNotificationType"] = str(self.kind)
        return data


@dataclass(frozen=True)
class MonitorResult:
    status: str
    monitor_id: int | None = None
    reason: str | None = None


# --- the model ----------------------------------------------------------------------------------


class DeviceModel:
    """Components and variables of one station, and its variable monitors."""

    def __init__(self) -> None:
        self.variables: list[Variable] = []
        self.monitors: dict[int, Monitor] = {}
        self.monitoring_base = "All"
        self.monitoring_level = 9
        self._listeners: list[Callable[[Variable, str], None]] = []
        self._next_monitor_id = 1
        self._index: dict[tuple[Any, ...], Variable] = {}
        self._components: set[tuple[Any, ...]] = set()

    def add(self, variable: Variable) -> Variable:
        key = (*variable.component.folded, *variable.folded)
        if key in self._index:
            raise ValueError(f"duplicate variable {variable.component} {variable.name}")
        self.variables.append(variable)
        self._index[key] = variable
        self._components.add(variable.component.folded)
        return variable

    def on_change(self, listener: Callable[[Variable, str], None]) -> None:
        """Call ``listener(variable, value)`` after each SetVariables that is accepted."""
        self._listeners.append(listener)

    def find(self, component: ComponentKey, name: str, instance: str | None = None) -> Variable | None:
        return self._index.get((*component.folded, _fold(name), _fold(instance)))

    def has_component(self, component: ComponentKey) -> bool:
        return component.folded in self._components

    # --- the station's own reads and writes (no access check) ---

    def lookup(self, key: str) -> Variable:
        """A top-level component's variable by ``Component.Variable[Instance]``."""
        component, name, instance = parse_key(key)
        variable = self.find(ComponentKey(component), name, instance)
        if variable is None:
            raise KeyError(key)
        return variable

    def get(self, key: str) -> str | None:
        return self.lookup(key).read()

    def get_int(self, key: str, default: int) -> int:
        try:
            value = self.get(key)
            return int(float(value)) if value is not None else default
        except (KeyError, ValueError):
            return default

    def get_bool(self, key: str, default: bool) -> bool:
        try:
            value = self.get(key)
        except KeyError:
            return default
        return default if value is None else value.lower() == "true"

    def get_list(self, key: str) -> list[str]:
        try:
            value = self.get(key) or ""
        except KeyError:
            return []
        return [item.strip() for item in value.split(",") if item.strip()]

    def put(self, key: str, value: str, attribute_type: AttributeType = AttributeType.ACTUAL) -> None:
        """Set a value from inside the station (e.g. the interval a BootNotification gave)."""
        self.lookup(key).attributes[attribute_type].value = value

    # --- GetVariables / SetVariables ---

    def get_variable(
        self, component: ComponentKey, name: str, instance: str | None, attribute_type: AttributeType
    ) -> GetResult:
        """B06: the value, or why not."""
        variable = self.find(component, name, instance)
        if variable is None:
            if not self.has_component(component):
                return GetResult(GetStatus.UNKNOWN_COMPONENT)
            return GetResult(GetStatus.UNKNOWN_VARIABLE)
        attribute = variable.attributes.get(attribute_type)
        if attribute is None:
            return GetResult(GetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE)
        if attribute.mutability is Mutability.WRITE_ONLY:
            # B06.FR.?: write-only values are never read back (BasicAuthPassword).
            return GetResult(GetStatus.REJECTED, reason="WriteOnly")
        value = variable.read(attribute_type)
        return GetResult(GetStatus.ACCEPTED, "" if value is None else value[:VALUE_SIZE])

    def set_variable(
        self,
        component: ComponentKey,
        name: str,
        instance: str | None,
        attribute_type: AttributeType,
        value: str,
    ) -> SetResult:
        """B05: store ``value`` when the variable exists, is writable and the value fits."""
        variable = self.find(component, name, instance)
        if variable is None:
            if not self.has_component(component):
                return SetResult(SetStatus.UNKNOWN_COMPONENT)
            return SetResult(SetStatus.UNKNOWN_VARIABLE)
        attribute = variable.attributes.get(attribute_type)
        if attribute is None:
            return SetResult(SetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE)
        if attribute.mutability is Mutability.READ_ONLY:
            return SetResult(SetStatus.REJECTED, "ReadOnly")
        normalised, reason = variable.validate(value)
        if normalised is None:
            return SetResult(SetStatus.REJECTED, reason)
        attribute.value = normalised
        if attribute_type is AttributeType.ACTUAL:
            for listener in self._listeners:
                listener(variable, normalised)
        if variable.reboot_required:
            return SetResult(SetStatus.REBOOT_REQUIRED)
        return SetResult(SetStatus.ACCEPTED)

    # --- reports ---

    def base_report(self, base: ReportBase) -> list[Variable]:
        """B07: FullInventory is everything; ConfigurationInventory the writable variables;
        SummaryInventory the components' state (AvailabilityState, Available, Problem …)."""
        if base is ReportBase.FULL_INVENTORY:
            return list(self.variables)
        if base is ReportBase.CONFIGURATION_INVENTORY:
            return [
                v
                for v in self.variables
                if any(a.mutability is not Mutability.READ_ONLY for a in v.attributes.values())
            ]
        summary = {"availabilitystate", "available", "problem", "tripped", "active", "enabled"}
        return [v for v in self.variables if v.name.lower() in summary]

    def select(
        self,
        component_variables: Iterable[Mapping[str, Any]] | None,
        criteria: Iterable[str] | None,
    ) -> list[Variable]:
        """B08: variables named by ``component_variables`` (all when absent) of components that
        meet every one of ``criteria`` (Active, Available, Enabled, Problem: that variable of the
        component reads true)."""
        selected = self._select_components(component_variables)
        wanted = [c.lower() for c in criteria or ()]
        if not wanted:
            return selected
        passing = {
            v.component.folded
            for v in self.variables
            if v.name.lower() in wanted and (v.read() or "").lower() == "true"
        }
        meets_all = {
            component
            for component in passing
            if all(
                (v := self._index.get((*component, criterion, None))) is not None
                and (v.read() or "").lower() == "true"
                for criterion in wanted
            )
        }
        return [v for v in selected if v.component.folded in meets_all]

    def _select_components(self, component_variables: Iterable[Mapping[str, Any]] | None) -> list[Variable]:
        entries = list(component_variables or [])
        if not entries:
            return list(self.variables)
        chosen: list[Variable] = []
        seen: set[int] = set()
        for entry in entries:
            component = entry["component"]
            selector = ComponentKey.from_ocpp(component)
            evse_given = component.get("evse") is not None
            variable = entry.get("variable")
            for candidate in self.variables:
                if not candidate.component.matches_selector(selector, evse_given):
                    continue
                if variable is not None:
                    if candidate.name.lower() != str(variable["name"]).lower():
                        continue
                    wanted_instance = variable.get("instance")
                    if wanted_instance is not None and _fold(candidate.instance) != _fold(wanted_instance):
                        continue
                if id(candidate) not in seen:
                    seen.add(id(candidate))
                    chosen.append(candidate)
        return chosen

    # --- monitoring (N02-N04) ---

    def add_monitor(
        self,
        variable: Variable,
        monitor_type: MonitorType,
        value: float,
        severity: int,
        *,
        kind: MonitorKind,
        transaction: bool = False,
    ) -> Monitor:
        monitor = Monitor(self._next_monitor_id, variable, monitor_type, value, severity, transaction, kind)
        self._next_monitor_id += 1
        self.monitors[monitor.monitor_id] = monitor
        return monitor

    def set_monitor(self, data: Mapping[str, Any], allowed_types: Iterable[str]) -> MonitorResult:
        """One SetMonitoringData (N04): Accepted with the monitor's id, or why not."""
        component = ComponentKey.from_ocpp(data["component"])
        variable_data = data["variable"]
        variable = self.find(component, str(variable_data["name"]), variable_data.get("instance"))
        if variable is None:
            status = "UnknownComponent" if not self.has_component(component) else "UnknownVariable"
            return MonitorResult(status)
        type_name = str(data["type"])
        if type_name not in set(allowed_types):
            return MonitorResult("UnsupportedMonitorType")
        monitor_type = MonitorType(type_name)
        if not variable.supports_monitoring:
            return MonitorResult("Rejected", reason="UnsupportedParam")
        numeric = variable.data_type in (DataType.INTEGER, DataType.DECIMAL)
        value = float(data["value"])
        severity = int(data["severity"])
        if not 0 <= severity <= 9:
            return MonitorResult("Rejected", reason="ValueOutOfRange")
        if monitor_type in (MonitorType.UPPER_THRESHOLD, MonitorType.LOWER_THRESHOLD) and not numeric:
            return MonitorResult("Rejected", reason="UnsupportedParam")
        if monitor_type is MonitorType.DELTA and (value < 0 or (value == 0 and numeric)):
            return MonitorResult("Rejected", reason="ValuePositiveOnly")
        if monitor_type in (MonitorType.PERIODIC, MonitorType.PERIODIC_CLOCK_ALIGNED) and value <= 0:
            return MonitorResult("Rejected", reason="ValuePositiveOnly")
        transaction = bool(data.get("transaction", False))
        existing_id = data.get("id")
        if existing_id is not None:
            # N04.FR.?: an id replaces that monitor; an unknown id is rejected.
            existing = self.monitors.get(int(existing_id))
            if existing is None or existing.variable is not variable:
                return MonitorResult("Rejected", reason="NotFound")
            if existing.kind is MonitorKind.HARD_WIRED:
                return MonitorResult("Rejected", reason="ReadOnly")
            existing.type, existing.value, existing.severity = monitor_type, value, severity
            existing.transaction = transaction
            return MonitorResult("Accepted", existing.monitor_id)
        for monitor in self.monitors.values():
            if (
                monitor.variable is variable
                and monitor.type is monitor_type
                and (monitor.severity == severity and monitor.value == value)
            ):
                return MonitorResult("Duplicate", monitor.monitor_id)
        monitor = self.add_monitor(
            variable, monitor_type, value, severity, kind=MonitorKind.CUSTOM, transaction=transaction
        )
        return MonitorResult("Accepted", monitor.monitor_id)

    def clear_monitor(self, monitor_id: int) -> str:
        """N06: Accepted, NotFound, or Rejected for a hard-wired monitor."""
        monitor = self.monitors.get(monitor_id)
        if monitor is None:
            return "NotFound"
        if monitor.kind is MonitorKind.HARD_WIRED:
            return "Rejected"
        del self.monitors[monitor_id]
        return "Accepted"

    def set_monitoring_base(self, base: str, preconfigured: Callable[[DeviceModel], None]) -> None:
        """N03: All keeps every monitor, FactoryDefault drops custom monitors and restores the
        preconfigured ones, HardWiredOnly keeps only hard-wired monitors."""
        if base == "FactoryDefault":
            self.monitors = {i: m for i, m in self.monitors.items() if m.kind is MonitorKind.HARD_WIRED}
            preconfigured(self)
        elif base == "HardWiredOnly":
            self.monitors = {i: m for i, m in self.monitors.items() if m.kind is MonitorKind.HARD_WIRED}
        self.monitoring_base = base

    def select_monitors(
        self,
        component_variables: Iterable[Mapping[str, Any]] | None,
        criteria: Iterable[str] | None,
    ) -> list[tuple[Variable, list[Monitor]]]:
        """N02: monitors of the selected variables of the wanted kinds, grouped by variable."""
        variables = self._select_components(component_variables)
        kinds = set(criteria or ())
        groups: dict[int, tuple[Variable, list[Monitor]]] = {}
        for monitor in sorted(self.monitors.values(), key=lambda m: m.monitor_id):
            if not any(monitor.variable is v for v in variables):
                continue
            if kinds and _criterion(monitor.type) not in kinds:
                continue
            groups.setdefault(id(monitor.variable), (monitor.variable, []))[1].append(monitor)
        return list(groups.values())


def _criterion(monitor_type: MonitorType) -> str:
    if monitor_type in (MonitorType.UPPER_THRESHOLD, MonitorType.LOWER_THRESHOLD):
        return "ThresholdMonitoring"
    if monitor_type is MonitorType.DELTA:
        return "DeltaMonitoring"
    return "PeriodicMonitoring"


# --- the standard model ---------------------------------------------------------------------------


@dataclass
class StationFacts:
    """What the default device model describes and reads live from the station."""

    evse_count: int
    vendor: str
    model: str
    serial_number: str
    firmware_version: str
    max_current_a: float
    phases: int
    heartbeat_interval_s: int
    meter_interval_s: int
    basic_auth_password: str | None
    organization_name: str = "VoltHub Simulator"
    #: Live values: AvailabilityState of the station (evse None) or an EVSE's connector.
    availability: Callable[[int | None], str] = lambda _evse: "Available"
    #: Live values: the power an EVSE delivers now, W.
    power_w: Callable[[int], float] = lambda _evse: 0.0
    counts: Mapping[str, Callable[[], int]] = field(default_factory=dict)


def _password(value: str) -> str | None:
    """SecurityCtrlr.BasicAuthPassword is a passwordString of 16 to 40 characters (A01)."""
    if not 16 <= len(value) <= 40 or not value.isprintable():
        return None
    return value


def default_device_model(facts: StationFacts) -> DeviceModel:
    """The simulator's device model: the standardised controllers it honours, with realistic
    mutability, data types, units and limits, and ChargingStation/EVSE/Connector components."""
    model = DeviceModel()
    rw, ro, wo = Mutability.READ_WRITE, Mutability.READ_ONLY, Mutability.WRITE_ONLY
    measurands = SUPPORTED_MEASURANDS_2X

    def var(
        component: str | ComponentKey,
        name: str,
        value: str | None,
        data_type: DataType,
        mutability: Mutability = ro,
        *,
        instance: str | None = None,
        unit: str | None = None,
        min_limit: float | None = None,
        max_limit: float | None = None,
        values: tuple[str, ...] | None = None,
        monitoring: bool = False,
        reboot: bool = False,
        reader: Reader | None = None,
        check: Check | None = None,
        constant: bool = False,
    ) -> Variable:
        key = component if isinstance(component, ComponentKey) else ComponentKey(component)
        actual = Attribute(AttributeType.ACTUAL, value, mutability, True, constant)
        attributes = {AttributeType.ACTUAL: actual}
        physical = not key.name.endswith("Ctrlr")
        if physical and max_limit is not None and unit is not None:
            # Physical quantities report their design limit as a MaxSet attribute as well.
            attributes[AttributeType.MAX_SET] = Attribute(
                AttributeType.MAX_SET, _number(max_limit), Mutability.READ_ONLY, True, True
            )
        return model.add(
            Variable(
                component=key,
                name=name,
                data_type=data_type,
                attributes=attributes,
                instance=instance,
                unit=unit,
                min_limit=min_limit,
                max_limit=max_limit,
                values_list=values,
                supports_monitoring=monitoring,
                reboot_required=reboot,
                reader=reader,
                check=check,
            )
        )

    b, i, s = DataType.BOOLEAN, DataType.INTEGER, DataType.STRING
    ml, ol = DataType.MEMBER_LIST, DataType.OPTION_LIST
    count = facts.counts

    def counter(name: str) -> Reader | None:
        reader = count.get(name)
        return None if reader is None else (lambda: str(reader()))

    # AlignedDataCtrlr
    var("AlignedDataCtrlr", "Enabled", "true", b, rw)
    var("AlignedDataCtrlr", "Available", "true", b, constant=True)
    var("AlignedDataCtrlr", "Interval", "900", i, rw, unit="s", min_limit=0, max_limit=86_400)
    var("AlignedDataCtrlr", "Measurands", "Energy.Active.Import.Register", ml, rw, values=measurands)
    var("AlignedDataCtrlr", "SendDuringIdle", "false", b, rw)
    var("AlignedDataCtrlr", "SignReadings", "false", b, ro)
    var("AlignedDataCtrlr", "TxEndedInterval", "0", i, rw, unit="s", min_limit=0, max_limit=86_400)
    var("AlignedDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register", ml, rw, values=measurands)
    # AuthCtrlr
    var("AuthCtrlr", "Enabled", "true", b, rw)
    var("AuthCtrlr", "AdditionalInfoItemsPerMessage", "5", i, ro)
    var("AuthCtrlr", "AuthorizeRemoteStart", "false", b, rw)
    var("AuthCtrlr", "DisableRemoteAuthorization", "false", b, rw)
    var("AuthCtrlr", "LocalAuthorizeOffline", "true", b, rw)
    var("AuthCtrlr", "LocalPreAuthorize", "false", b, rw)
    var("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "false", b, rw)
    var("AuthCtrlr", "MasterPassGroupId", "", s, rw, max_limit=36)
    # AuthCacheCtrlr
    var("AuthCacheCtrlr", "Enabled", "true", b, rw)
    var("AuthCacheCtrlr", "Available", "true", b, constant=True)
    var("AuthCacheCtrlr", "LifeTime", "86400", i, rw, unit="s", min_limit=0)
    var("AuthCacheCtrlr", "Policy", "LRU", ol, rw, values=("LRU", "LFU"))
    var("AuthCacheCtrlr", "Storage", "0", i, ro, unit="B", reader=counter("AuthCacheStorage"))
    var("AuthCacheCtrlr", "DisablePostAuthorize", "false", b, rw)
    # ClockCtrlr
    var("ClockCtrlr", "DateTime", None, DataType.DATE_TIME, ro, reader=_now_iso)
    var(
        "ClockCtrlr",
        "TimeSource",
        "Heartbeat",
        DataType.SEQUENCE_LIST,
        rw,
        values=("Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork", "RadioTimeTransmitter"),
    )
    var("ClockCtrlr", "TimeZone", "Etc/UTC", s, rw, max_limit=50)
    # CustomizationCtrlr
    var("CustomizationCtrlr", "CustomImplementationEnabled", "true", b, rw, instance="com.volthub.simulator")
    # DeviceDataCtrlr
    for message in ("GetReport", "GetVariables", "SetVariables"):
        var(
            "DeviceDataCtrlr",
            "ItemsPerMessage",
            str(ITEMS_PER_MESSAGE),
            i,
            ro,
            instance=message,
            max_limit=ITEMS_PER_MESSAGE,
        )
        var(
            "DeviceDataCtrlr",
            "BytesPerMessage",
            str(BYTES_PER_MESSAGE),
            i,
            ro,
            instance=message,
            unit="B",
            max_limit=BYTES_PER_MESSAGE,
        )
    var("DeviceDataCtrlr", "ValueSize", str(VALUE_SIZE), i, ro, max_limit=VALUE_SIZE)
    # DisplayMessageCtrlr
    var("DisplayMessageCtrlr", "Enabled", "true", b, rw)
    var("DisplayMessageCtrlr", "Available", "true", b, constant=True)
    display_max = 20
    var(
        "DisplayMessageCtrlr",
        "DisplayMessages",
        "0",
        i,
        ro,
        max_limit=display_max,
        reader=counter("DisplayMessages"),
    )
    var("DisplayMessageCtrlr", "PersonalMessageSize", "64", i, ro)
    var(
        "DisplayMessageCtrlr",
        "SupportedFormats",
        "ASCII,UTF8,HTML,URI",
        ml,
        ro,
        values=("ASCII", "HTML", "URI", "UTF8"),
    )
    var(
        "DisplayMessageCtrlr",
        "SupportedPriorities",
        "AlwaysFront,InFront,NormalCycle",
        ml,
        ro,
        values=("AlwaysFront", "InFront", "NormalCycle"),
    )
    # LocalAuthListCtrlr
    var("LocalAuthListCtrlr", "Enabled", "true", b, rw)
    var("LocalAuthListCtrlr", "Available", "true", b, constant=True)
    var("LocalAuthListCtrlr", "Entries", "0", i, ro, max_limit=1000, reader=counter("LocalListEntries"))
    var("LocalAuthListCtrlr", "ItemsPerMessage", "250", i, ro)
    var("LocalAuthListCtrlr", "BytesPerMessage", str(BYTES_PER_MESSAGE), i, ro, unit="B")
    var("LocalAuthListCtrlr", "DisablePostAuthorize", "false", b, rw)
    # MonitoringCtrlr
    var("MonitoringCtrlr", "Enabled", "true", b, rw)
    var("MonitoringCtrlr", "Available", "true", b, constant=True)
    var("MonitoringCtrlr", "ItemsPerMessage", "20", i, ro, instance="SetVariableMonitoring")
    var("MonitoringCtrlr", "ItemsPerMessage", "20", i, ro, instance="ClearVariableMonitoring")
    var(
        "MonitoringCtrlr",
        "BytesPerMessage",
        str(BYTES_PER_MESSAGE),
        i,
        ro,
        instance="SetVariableMonitoring",
        unit="B",
    )
    var("MonitoringCtrlr", "OfflineQueuingSeverity", "2", i, rw, min_limit=0, max_limit=9)
    var(
        "MonitoringCtrlr",
        "ActiveMonitoringBase",
        "All",
        ol,
        ro,
        values=("All", "FactoryDefault", "HardWiredOnly"),
        reader=lambda: model.monitoring_base,
    )
    var(
        "MonitoringCtrlr",
        "ActiveMonitoringLevel",
        "9",
        i,
        ro,
        min_limit=0,
        max_limit=9,
        reader=lambda: str(model.monitoring_level),
    )
    # OCPPCommCtrlr
    var("OCPPCommCtrlr", "ActiveNetworkProfile", "1", s, ro)
    var(
        "OCPPCommCtrlr",
        "FileTransferProtocols",
        "HTTP,HTTPS,FTP",
        ml,
        ro,
        values=("FTP", "FTPS", "HTTP", "HTTPS", "SFTP"),
    )
    var(
        "OCPPCommCtrlr",
        "HeartbeatInterval",
        str(facts.heartbeat_interval_s),
        i,
        rw,
        unit="s",
        min_limit=0,
        max_limit=86_400,
    )
    var("OCPPCommCtrlr", "MessageTimeout", "30", i, ro, instance="Default", unit="s")
    var(
        "OCPPCommCtrlr", "MessageAttempts", "3", i, rw, instance="TransactionEvent", min_limit=0, max_limit=10
    )
    var(
        "OCPPCommCtrlr",
        "MessageAttemptInterval",
        "10",
        i,
        rw,
        instance="TransactionEvent",
        unit="s",
        min_limit=0,
        max_limit=3600,
    )
    var("OCPPCommCtrlr", "MinimumStatusDuration", "0", i, rw, unit="s", min_limit=0)
    var(
        "OCPPCommCtrlr",
        "NetworkConfigurationPriority",
        "1",
        DataType.SEQUENCE_LIST,
        rw,
        values=("1", "2", "3"),
    )
    var("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "3", i, rw, min_limit=1)
    var("OCPPCommCtrlr", "OfflineThreshold", "60", i, rw, unit="s", min_limit=0)
    var("OCPPCommCtrlr", "QueueAllMessages", "false", b, ro)
    var("OCPPCommCtrlr", "ResetRetries", "1", i, rw, min_limit=0)
    var("OCPPCommCtrlr", "RetryBackOffRandomRange", "10", i, rw, unit="s", min_limit=0)
    var("OCPPCommCtrlr", "RetryBackOffRepeatTimes", "5", i, rw, min_limit=0)
    var("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "1", i, rw, unit="s", min_limit=0)
    var("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "true", b, rw)
    # Applied when the next WebSocket connection opens.
    var("OCPPCommCtrlr", "WebSocketPingInterval", "0", i, rw, unit="s", min_limit=0, reboot=True)
    # ReservationCtrlr
    var("ReservationCtrlr", "Enabled", "true", b, rw)
    var("ReservationCtrlr", "Available", "true", b, constant=True)
    var("ReservationCtrlr", "NonEvseSpecific", "true", b, ro)
    # SampledDataCtrlr
    var("SampledDataCtrlr", "Enabled", "true", b, rw)
    var("SampledDataCtrlr", "Available", "true", b, constant=True)
    var("SampledDataCtrlr", "SignReadings", "false", b, ro)
    var("SampledDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register", ml, rw, values=measurands)
    var("SampledDataCtrlr", "TxEndedInterval", "0", i, rw, unit="s", min_limit=0, max_limit=86_400)
    var("SampledDataCtrlr", "TxStartedMeasurands", "Energy.Active.Import.Register", ml, rw, values=measurands)
    var(
        "SampledDataCtrlr",
        "TxUpdatedMeasurands",
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
        ml,
        rw,
        values=measurands,
    )
    var(
        "SampledDataCtrlr",
        "TxUpdatedInterval",
        str(facts.meter_interval_s),
        i,
        rw,
        unit="s",
        min_limit=0,
        max_limit=86_400,
    )
    var("SampledDataCtrlr", "RegisterValuesWithoutPhases", "true", b, ro)
    # SecurityCtrlr
    var("SecurityCtrlr", "BasicAuthPassword", facts.basic_auth_password or "", s, wo, check=_password)
    var("SecurityCtrlr", "Identity", facts.serial_number, s, ro, max_limit=48)
    var("SecurityCtrlr", "OrganizationName", facts.organization_name, s, rw, max_limit=64)
    var(
        "SecurityCtrlr",
        "SecurityProfile",
        "1" if facts.basic_auth_password else "0",
        i,
        ro,
        min_limit=0,
        max_limit=3,
    )
    var("SecurityCtrlr", "CertSigningWaitMinimum", "60", i, rw, unit="s", min_limit=1)
    var("SecurityCtrlr", "CertSigningRepeatTimes", "3", i, rw, min_limit=0)
    var("SecurityCtrlr", "AdditionalRootCertificateCheck", "false", b, ro)
    var("SecurityCtrlr", "MaxCertificateChainSize", "10000", i, ro, unit="B")
    var("SecurityCtrlr", "CertificateEntries", "0", i, ro, max_limit=20, reader=counter("Certificates"))
    # SmartChargingCtrlr
    var("SmartChargingCtrlr", "Enabled", "true", b, rw)
    var("SmartChargingCtrlr", "Available", "true", b, constant=True)
    var("SmartChargingCtrlr", "ACPhaseSwitchingSupported", "false", b, ro)
    var("SmartChargingCtrlr", "ProfileStackLevel", "10", i, ro)
    var("SmartChargingCtrlr", "RateUnit", "A,W", ml, ro, values=("A", "W"))
    var("SmartChargingCtrlr", "PeriodsPerSchedule", "24", i, ro)
    var("SmartChargingCtrlr", "ExternalControlSignalsEnabled", "false", b, ro)
    var("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules", "false", b, rw)
    var("SmartChargingCtrlr", "Phases3to1", "false", b, ro)
    var(
        "SmartChargingCtrlr",
        "Entries",
        "0",
        i,
        ro,
        max_limit=20,
        instance="ChargingProfiles",
        reader=counter("ChargingProfiles"),
    )
    var(
        "SmartChargingCtrlr",
        "LimitChangeSignificance",
        "10",
        DataType.DECIMAL,
        rw,
        unit="Percent",
        min_limit=0,
        max_limit=100,
    )
    # TariffCostCtrlr
    var("TariffCostCtrlr", "Enabled", "true", b, rw, instance="Tariff")
    var("TariffCostCtrlr", "Enabled", "true", b, rw, instance="Cost")
    var("TariffCostCtrlr", "Available", "true", b, instance="Tariff", constant=True)
    var("TariffCostCtrlr", "Available", "true", b, instance="Cost", constant=True)
    var("TariffCostCtrlr", "Currency", "EUR", s, rw, max_limit=3)
    var("TariffCostCtrlr", "TariffFallbackMessage", "Standard tariff applies", s, rw, max_limit=255)
    var("TariffCostCtrlr", "TotalCostFallbackMessage", "Cost not available", s, rw, max_limit=255)
    # TxCtrlr
    var("TxCtrlr", "EVConnectionTimeOut", "120", i, rw, unit="s", min_limit=0)
    var("TxCtrlr", "StopTxOnEVSideDisconnect", "true", b, ro)
    var("TxCtrlr", "StopTxOnInvalidId", "true", b, rw)
    var("TxCtrlr", "MaxEnergyOnInvalidId", "0", i, rw, unit="Wh", min_limit=0)
    var("TxCtrlr", "TxBeforeAcceptedEnabled", "false", b, rw)
    tx_points = (
        "ParkingBayOccupancy",
        "EVConnected",
        "Authorized",
        "DataSigned",
        "PowerPathClosed",
        "EnergyTransfer",
    )
    var("TxCtrlr", "TxStartPoint", "PowerPathClosed", ml, rw, values=tx_points)
    var("TxCtrlr", "TxStopPoint", "PowerPathClosed", ml, rw, values=tx_points)

    # ChargingStation
    station = ComponentKey("ChargingStation")
    station_power_w = facts.max_current_a * 230.0 * facts.phases * facts.evse_count
    var(
        station,
        "AvailabilityState",
        "Available",
        ol,
        values=_AVAILABILITY,
        monitoring=True,
        reader=lambda: facts.availability(None),
    )
    var(station, "Available", "true", b, constant=True)
    var(station, "Model", facts.model, s, constant=True)
    var(station, "VendorName", facts.vendor, s, constant=True)
    var(station, "SerialNumber", facts.serial_number, s, constant=True)
    var(station, "SupplyPhases", str(facts.phases), i, max_limit=3)
    var(
        station,
        "Power",
        "0",
        DataType.DECIMAL,
        unit="W",
        max_limit=station_power_w,
        monitoring=True,
        reader=lambda: _number(sum(facts.power_w(e) for e in range(1, facts.evse_count + 1))),
    )
    var(ComponentKey("Controller"), "FirmwareVersion", facts.firmware_version, s)
    # EVSE and Connector components, one connector per EVSE.
    for evse_id in range(1, facts.evse_count + 1):
        evse = ComponentKey("EVSE", evse_id=evse_id)
        connector = ComponentKey("Connector", evse_id=evse_id, connector_id=1)
        evse_power_w = facts.max_current_a * 230.0 * facts.phases
        var(
            evse,
            "AvailabilityState",
            "Available",
            ol,
            values=_AVAILABILITY,
            monitoring=True,
            reader=_availability_reader(facts, evse_id),
        )
        var(evse, "Available", "true", b, constant=True)
        var(evse, "EvseId", f"{facts.serial_number}*{evse_id}", s)
        var(
            evse,
            "Power",
            "0",
            DataType.DECIMAL,
            unit="W",
            max_limit=evse_power_w,
            monitoring=True,
            reader=_power_reader(facts, evse_id),
        )
        var(evse, "SupplyPhases", str(facts.phases), i, max_limit=3)
        var(evse, "AllowReset", "true", b)
        var(
            connector,
            "AvailabilityState",
            "Available",
            ol,
            values=_AVAILABILITY,
            monitoring=True,
            reader=_availability_reader(facts, evse_id),
        )
        var(connector, "Available", "true", b, constant=True)
        var(connector, "ConnectorType", "cType2", s, constant=True)
        var(connector, "SupplyPhases", str(facts.phases), i, max_limit=3)
    preconfigured_monitors(model)
    return model


def _availability_reader(facts: StationFacts, evse_id: int) -> Reader:
    return lambda: facts.availability(evse_id)


def _power_reader(facts: StationFacts, evse_id: int) -> Reader:
    return lambda: _number(facts.power_w(evse_id))


_AVAILABILITY = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")


def preconfigured_monitors(model: DeviceModel) -> None:
    """The monitors a station ships with: one on each EVSE's AvailabilityState going Faulted
    is hard-wired, an upper power threshold per EVSE is preconfigured (N03)."""
    for variable in model.variables:
        hard_wired = any(
            m.variable is variable and m.kind is MonitorKind.HARD_WIRED for m in model.monitors.values()
        )
        if variable.component.name == "EVSE" and variable.name == "AvailabilityState" and not hard_wired:
            model.add_monitor(variable, MonitorType.DELTA, 1, 2, kind=MonitorKind.HARD_WIRED)
        if variable.component.name == "EVSE" and variable.name == "Power" and variable.max_limit:
            model.add_monitor(
                variable, MonitorType.UPPER_THRESHOLD, variable.max_limit, 4, kind=MonitorKind.PRECONFIGURED
            )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _now_iso() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
