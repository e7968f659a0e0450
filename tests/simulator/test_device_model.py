"""The 2.x device model: lookups, Get/SetVariables statuses, value checks, reports, monitors."""

from __future__ import annotations

import pytest

from volthub.simulator.device_model import (
    Attribute,
    AttributeType,
    ComponentKey,
    DataType,
    DeviceModel,
    GetStatus,
    MonitorKind,
    Mutability,
    ReportBase,
    SetStatus,
    StationFacts,
    Variable,
    default_device_model,
    parse_key,
    preconfigured_monitors,
)


def model(evses: int = 2, password: str | None = "sixteen-chars-pw") -> DeviceModel:
    return default_device_model(
        StationFacts(
            evse_count=evses,
            vendor="V",
            model="M",
            serial_number="CS-1",
            firmware_version="1.0",
            max_current_a=32,
            phases=3,
            heartbeat_interval_s=300,
            meter_interval_s=10,
            basic_auth_password=password,
            availability=lambda evse: "Occupied" if evse == 1 else "Available",
            power_w=lambda evse: 11_000.0 if evse == 1 else 0.0,
        )
    )


def test_keys_name_component_variable_and_instance() -> None:
    assert parse_key("OCPPCommCtrlr.HeartbeatInterval") == ("OCPPCommCtrlr", "HeartbeatInterval", None)
    assert parse_key("DeviceDataCtrlr.ItemsPerMessage[GetVariables]") == (
        "DeviceDataCtrlr",
        "ItemsPerMessage",
        "GetVariables",
    )
    with pytest.raises(KeyError):
        parse_key("NoDot")


def test_the_standard_model_has_the_controllers_and_a_component_per_evse() -> None:
    dm = model(evses=2)
    components = {v.component.name for v in dm.variables}
    for name in (
        "OCPPCommCtrlr",
        "SecurityCtrlr",
        "TxCtrlr",
        "AuthCtrlr",
        "SampledDataCtrlr",
        "DeviceDataCtrlr",
        "SmartChargingCtrlr",
        "ChargingStation",
        "EVSE",
        "Connector",
    ):
        assert name in components
    evses = {v.component.evse_id for v in dm.variables if v.component.name == "EVSE"}
    assert evses == {1, 2}
    connectors = {
        (v.component.evse_id, v.component.connector_id)
        for v in dm.variables
        if v.component.name == "Connector"
    }
    assert connectors == {(1, 1), (2, 1)}
    assert dm.get_int("DeviceDataCtrlr.ItemsPerMessage[GetVariables]", 0) == 32
    assert dm.get_list("TxCtrlr.TxStartPoint") == ["PowerPathClosed"]


def test_get_variable_statuses_follow_b06() -> None:
    dm = model()
    station = ComponentKey("OCPPCommCtrlr")
    actual = AttributeType.ACTUAL
    assert dm.get_variable(station, "HeartbeatInterval", None, actual).value == "300"
    # Names compare case-insensitively.
    assert dm.get_variable(ComponentKey("ocppcommctrlr"), "heartbeatinterval", None, actual).value == "300"
    assert dm.get_variable(ComponentKey("Nope"), "X", None, actual).status is GetStatus.UNKNOWN_COMPONENT
    assert dm.get_variable(station, "Nope", None, actual).status is GetStatus.UNKNOWN_VARIABLE
    assert (
        dm.get_variable(station, "HeartbeatInterval", None, AttributeType.TARGET).status
        is GetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE
    )
    password = dm.get_variable(ComponentKey("SecurityCtrlr"), "BasicAuthPassword", None, actual)
    assert password.status is GetStatus.REJECTED and password.value is None
    # Live values come from the station.
    evse1 = ComponentKey("EVSE", evse_id=1)
    assert dm.get_variable(evse1, "AvailabilityState", None, actual).value == "Occupied"
    assert dm.get_variable(evse1, "Power", None, actual).value == "11000"
    assert dm.get_variable(ComponentKey("ChargingStation"), "Power", None, actual).value == "11000"
    assert dm.get_variable(evse1, "Power", None, AttributeType.MAX_SET).value == "22080"
    # An EVSE component exists per EVSE only.
    assert (
        dm.get_variable(ComponentKey("EVSE", evse_id=3), "Power", None, actual).status
        is GetStatus.UNKNOWN_COMPONENT
    )


@pytest.mark.parametrize(
    ("key", "value", "status", "stored"),
    [
        ("OCPPCommCtrlr.HeartbeatInterval", "60", SetStatus.ACCEPTED, "60"),
        ("OCPPCommCtrlr.HeartbeatInterval", " 60 ", SetStatus.ACCEPTED, "60"),
        ("OCPPCommCtrlr.HeartbeatInterval", "6.5", SetStatus.REJECTED, "300"),
        ("OCPPCommCtrlr.HeartbeatInterval", "-1", SetStatus.REJECTED, "300"),
        ("OCPPCommCtrlr.HeartbeatInterval", "999999", SetStatus.REJECTED, "300"),
        ("AuthCtrlr.LocalPreAuthorize", "TRUE", SetStatus.ACCEPTED, "true"),
        ("AuthCtrlr.LocalPreAuthorize", "yes", SetStatus.REJECTED, "false"),
        ("AuthCacheCtrlr.Policy", "lfu", SetStatus.ACCEPTED, "LFU"),
        ("AuthCacheCtrlr.Policy", "FIFO", SetStatus.REJECTED, "LRU"),
        ("SampledDataCtrlr.TxEndedMeasurands", "soc, voltage", SetStatus.ACCEPTED, "SoC,Voltage"),
        (
            "SampledDataCtrlr.TxEndedMeasurands",
            "SoC,SoC",
            SetStatus.REJECTED,
            "Energy.Active.Import.Register",
        ),
        (
            "SampledDataCtrlr.TxEndedMeasurands",
            "Temperature",
            SetStatus.REJECTED,
            "Energy.Active.Import.Register",
        ),
        ("SampledDataCtrlr.TxEndedMeasurands", "", SetStatus.ACCEPTED, ""),
        ("SecurityCtrlr.OrganizationName", "x" * 65, SetStatus.REJECTED, "VoltHub Simulator"),
        ("SecurityCtrlr.Identity", "other", SetStatus.REJECTED, "CS-1"),
        ("OCPPCommCtrlr.WebSocketPingInterval", "30", SetStatus.REBOOT_REQUIRED, "30"),
        ("SmartChargingCtrlr.LimitChangeSignificance", "12.5", SetStatus.ACCEPTED, "12.5"),
        ("SmartChargingCtrlr.LimitChangeSignificance", "101", SetStatus.REJECTED, "10"),
    ],
)
def test_set_variable_checks_the_characteristics(
    key: str, value: str, status: SetStatus, stored: str
) -> None:
    dm = model()
    component, name, instance = parse_key(key)
    result = dm.set_variable(ComponentKey(component), name, instance, AttributeType.ACTUAL, value)
    assert result.status is status
    assert dm.get(key) == stored


def test_a_write_only_password_takes_16_to_40_characters() -> None:
    dm = model()
    security = ComponentKey("SecurityCtrlr")
    short = dm.set_variable(security, "BasicAuthPassword", None, AttributeType.ACTUAL, "short")
    assert short.status is SetStatus.REJECTED
    ok = dm.set_variable(security, "BasicAuthPassword", None, AttributeType.ACTUAL, "a-new-password-1234")
    assert ok.status is SetStatus.ACCEPTED
    assert dm.get("SecurityCtrlr.BasicAuthPassword") == "a-new-password-1234"  # the station reads it


def test_listeners_hear_accepted_changes_only() -> None:
    dm = model()
    heard: list[tuple[str, str]] = []
    dm.on_change(lambda variable, value: heard.append((variable.name, value)))
    dm.set_variable(ComponentKey("OCPPCommCtrlr"), "HeartbeatInterval", None, AttributeType.ACTUAL, "abc")
    dm.set_variable(ComponentKey("OCPPCommCtrlr"), "HeartbeatInterval", None, AttributeType.ACTUAL, "30")
    assert heard == [("HeartbeatInterval", "30")]


def test_base_reports() -> None:
    dm = model()
    full = dm.base_report(ReportBase.FULL_INVENTORY)
    assert len(full) == len(dm.variables)
    configuration = dm.base_report(ReportBase.CONFIGURATION_INVENTORY)
    assert configuration and all(
        any(a.mutability is not Mutability.READ_ONLY for a in v.attributes.values()) for v in configuration
    )
    assert any(v.name == "BasicAuthPassword" for v in configuration)
    summary = dm.base_report(ReportBase.SUMMARY_INVENTORY)
    assert {v.name for v in summary} <= {
        "AvailabilityState",
        "Available",
        "Problem",
        "Tripped",
        "Active",
        "Enabled",
    }


def test_report_data_hides_write_only_values_and_carries_characteristics() -> None:
    dm = model()
    password = dm.lookup("SecurityCtrlr.BasicAuthPassword").report_data()
    assert password["variableAttribute"] == [
        {"type": "Actual", "mutability": "WriteOnly", "persistent": True, "constant": False}
    ]
    measurands = dm.lookup("SampledDataCtrlr.TxUpdatedMeasurands").report_data()
    characteristics = measurands["variableCharacteristics"]
    assert characteristics["dataType"] == "MemberList"
    assert "SoC" in characteristics["valuesList"].split(",")
    power = dm.find(ComponentKey("EVSE", evse_id=2), "Power")
    assert power is not None
    data = power.report_data()
    assert data["component"] == {"name": "EVSE", "evse": {"id": 2}}
    assert data["variableCharacteristics"]["unit"] == "W"
    assert data["variableCharacteristics"]["maxLimit"] == 22_080


def test_get_report_selection_with_wildcards() -> None:
    dm = model(evses=2)
    every_evse = dm.select([{"component": {"name": "EVSE"}, "variable": {"name": "Power"}}], None)
    assert [v.component.evse_id for v in every_evse] == [1, 2]
    one_evse = dm.select([{"component": {"name": "EVSE", "evse": {"id": 2}}}], None)
    assert {v.component.evse_id for v in one_evse} == {2} and len(one_evse) > 1
    connectors = dm.select([{"component": {"name": "Connector", "evse": {"id": 1}}}], None)
    assert {(v.component.evse_id, v.component.connector_id) for v in connectors} == {(1, 1)}
    instances = dm.select(
        [{"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}}], None
    )
    assert {v.instance for v in instances} == {"GetReport", "GetVariables", "SetVariables"}
    one_instance = dm.select(
        [
            {
                "component": {"name": "DeviceDataCtrlr"},
                "variable": {"name": "ItemsPerMessage", "instance": "GetReport"},
            }
        ],
        None,
    )
    assert [v.instance for v in one_instance] == ["GetReport"]
    available = dm.select(None, ["Available"])
    assert {v.component.name for v in available} >= {
        "EVSE",
        "Connector",
        "ChargingStation",
        "SmartChargingCtrlr",
    }
    assert "TxCtrlr" not in {v.component.name for v in available}  # TxCtrlr has no Available
    assert dm.select([{"component": {"name": "Nope"}}], None) == []


def test_monitors_set_replace_clear_and_the_monitoring_base() -> None:
    dm = model(evses=1)
    shipped = {m.kind for m in dm.monitors.values()}
    assert shipped == {MonitorKind.HARD_WIRED, MonitorKind.PRECONFIGURED}
    power = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
    allowed = ["UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"]
    created = dm.set_monitor({**power, "type": "UpperThreshold", "value": 5000, "severity": 4}, allowed)
    assert created.status == "Accepted" and created.monitor_id is not None
    duplicate = dm.set_monitor({**power, "type": "UpperThreshold", "value": 5000, "severity": 4}, allowed)
    assert duplicate.status == "Duplicate"
    replaced = dm.set_monitor(
        {**power, "id": created.monitor_id, "type": "LowerThreshold", "value": 10, "severity": 2}, allowed
    )
    assert replaced.status == "Accepted" and replaced.monitor_id == created.monitor_id
    assert dm.monitors[created.monitor_id].type == "LowerThreshold"
    assert (
        dm.set_monitor({**power, "type": "Delta", "value": -1, "severity": 4}, allowed).status == "Rejected"
    )
    assert (
        dm.set_monitor({**power, "type": "Periodic", "value": 60, "severity": 10}, allowed).status
        == "Rejected"
    )
    not_monitored = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    assert (
        dm.set_monitor({**not_monitored, "type": "Delta", "value": 1, "severity": 1}, allowed).status
        == "Rejected"
    )
    assert dm.set_monitor({**power, "type": "TargetDelta", "value": 1, "severity": 1}, allowed).status == (
        "UnsupportedMonitorType"
    )
    hard_wired = next(i for i, m in dm.monitors.items() if m.kind is MonitorKind.HARD_WIRED)
    assert dm.clear_monitor(hard_wired) == "Rejected"
    assert dm.clear_monitor(999) == "NotFound"

    groups = dm.select_monitors(None, ["ThresholdMonitoring"])
    assert all(m.type in ("UpperThreshold", "LowerThreshold") for _v, monitors in groups for m in monitors)

    dm.set_monitoring_base("FactoryDefault", preconfigured_monitors)
    assert created.monitor_id not in dm.monitors
    assert {m.kind for m in dm.monitors.values()} == {MonitorKind.HARD_WIRED, MonitorKind.PRECONFIGURED}
    dm.set_monitoring_base("HardWiredOnly", preconfigured_monitors)
    assert {m.kind for m in dm.monitors.values()} == {MonitorKind.HARD_WIRED}
    assert dm.get("MonitoringCtrlr.ActiveMonitoringBase") == "HardWiredOnly"


def test_a_variable_is_added_once() -> None:
    dm = DeviceModel()
    variable = Variable(
        ComponentKey("X"), "Y", DataType.STRING, {AttributeType.ACTUAL: Attribute(AttributeType.ACTUAL, "1")}
    )
    dm.add(variable)
    with pytest.raises(ValueError):
        dm.add(
            Variable(
                ComponentKey("x"),
                "y",
                DataType.STRING,
                {AttributeType.ACTUAL: Attribute(AttributeType.ACTUAL, "")},
            )
        )
