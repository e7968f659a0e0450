"""Every CSMS-initiated action of OCPP 2.0.1 and 2.1 gets a schema-valid answer from the station,
and what it sends after answering is schema-valid as well (the fake CSMS validates both ways)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from volthub.simulator.ev import ElectricVehicle
from volthub.simulator.v16 import StationTimings
from volthub.simulator.v201 import SimulatedStation201

from .fake_csms2 import FakeCsms2

FAST = StationTimings(reboot_s=0.05, unplug_s=0.05, firmware_step_s=0.05, upload_step_s=0.05)
TOKEN = {"idToken": "TAG", "type": "ISO14443"}
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "ab", "issuerKeyHash": "cd", "serialNumber": "01"}
TX_PROFILE = {
    "id": 3,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {"id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}]}
    ],
}


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def requests_201(transaction_id: str) -> list[tuple[str, dict[str, Any]]]:
    """One valid request of each CSMS-initiated 2.0.1 action (EVSE 1 in a transaction)."""
    component = {"name": "OCPPCommCtrlr"}
    variable = {"name": "HeartbeatInterval"}
    return [
        ("GetVariables", {"getVariableData": [{"component": component, "variable": variable}]}),
        (
            "SetVariables",
            {"setVariableData": [{"component": component, "variable": variable, "attributeValue": "120"}]},
        ),
        ("GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"}),
        ("GetReport", {"requestId": 2, "componentCriteria": ["Available"]}),
        (
            "SetNetworkProfile",
            {
                "configurationSlot": 2,
                "connectionData": {
                    "ocppVersion": "OCPP20",
                    "ocppTransport": "JSON",
                    "ocppCsmsUrl": "wss://csms.example.com/ocpp",
                    "messageTimeout": 30,
                    "securityProfile": 2,
                    "ocppInterface": "Wired0",
                },
            },
        ),
        ("ClearCache", {}),
        (
            "SendLocalList",
            {
                "versionNumber": 1,
                "updateType": "Full",
                "localAuthorizationList": [{"idToken": TOKEN, "idTokenInfo": {"status": "Accepted"}}],
            },
        ),
        ("GetLocalListVersion", {}),
        ("CostUpdated", {"totalCost": 1.25, "transactionId": transaction_id}),
        ("GetTransactionStatus", {"transactionId": transaction_id}),
        ("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 2}}),
        ("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}),
        ("TriggerMessage", {"requestedMessage": "LogStatusNotification"}),
        ("TriggerMessage", {"requestedMessage": "PublishFirmwareStatusNotification"}),
        ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
        ("TriggerMessage", {"requestedMessage": "SignV2GCertificate"}),
        ("TriggerMessage", {"requestedMessage": "SignCombinedCertificate"}),
        ("DataTransfer", {"vendorId": "com.volthub.simulator", "messageId": "Echo", "data": {"x": [1, 2]}}),
        ("DataTransfer", {"vendorId": "com.other"}),
        ("ReserveNow", {"id": 1, "expiryDateTime": iso_in(600), "idToken": TOKEN, "evseId": 2}),
        ("CancelReservation", {"reservationId": 1}),
        ("SetChargingProfile", {"evseId": 0, "chargingProfile": TX_PROFILE}),
        (
            "GetChargingProfiles",
            {"requestId": 3, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}},
        ),
        ("GetCompositeSchedule", {"evseId": 0, "duration": 3600, "chargingRateUnit": "W"}),
        ("GetCompositeSchedule", {"evseId": 1, "duration": 3600}),
        ("ClearChargingProfile", {"chargingProfileCriteria": {"evseId": 0}}),
        (
            "UpdateFirmware",
            {
                "requestId": 4,
                "firmware": {
                    "location": "https://example.com/fw/sim-9.bin",
                    "retrieveDateTime": iso_in(3600),
                },
            },
        ),
        (
            "PublishFirmware",
            {"location": "https://example.com/fw/sim-9.bin", "checksum": "0" * 32, "requestId": 5},
        ),
        ("UnpublishFirmware", {"checksum": "1" * 32}),
        (
            "InstallCertificate",
            {"certificateType": "CSMSRootCertificate", "certificate": "not a certificate"},
        ),
        ("GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]}),
        ("DeleteCertificate", {"certificateHashData": HASH}),
        ("CertificateSigned", {"certificateChain": "not a chain"}),
        (
            "GetLog",
            {"log": {"remoteLocation": "https://example.com/up"}, "logType": "SecurityLog", "requestId": 6},
        ),
        ("SetMonitoringBase", {"monitoringBase": "FactoryDefault"}),
        ("SetMonitoringLevel", {"severity": 8}),
        (
            "SetVariableMonitoring",
            {
                "setMonitoringData": [
                    {
                        "value": 5000,
                        "type": "UpperThreshold",
                        "severity": 3,
                        "component": {"name": "ChargingStation"},
                        "variable": {"name": "Power"},
                    }
                ]
            },
        ),
        ("GetMonitoringReport", {"requestId": 7}),
        ("ClearVariableMonitoring", {"id": [1, 2, 1000]}),
        (
            "CustomerInformation",
            {"requestId": 8, "report": True, "clear": False, "customerIdentifier": "C-1"},
        ),
        (
            "SetDisplayMessage",
            {
                "message": {
                    "id": 1,
                    "priority": "AlwaysFront",
                    "transactionId": transaction_id,
                    "message": {"format": "ASCII", "content": "Charging"},
                }
            },
        ),
        ("GetDisplayMessages", {"requestId": 9}),
        ("ClearDisplayMessage", {"id": 1}),
        ("UnlockConnector", {"evseId": 2, "connectorId": 1}),
        ("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}}),
        ("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 2}}),
        ("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 11, "evseId": 2}),
        ("RequestStopTransaction", {"transactionId": transaction_id}),
        ("Reset", {"type": "OnIdle", "evseId": 2}),
    ]


def requests_21(transaction_id: str) -> list[tuple[str, dict[str, Any]]]:
    """One valid request of each CSMS-initiated action that 2.1 added."""
    tariff = {"tariffId": "T1", "currency": "EUR", "energy": {"prices": [{"priceKwh": 0.3}]}}
    return [
        (
            "SetDERControl",
            {
                "isDefault": True,
                "controlId": "D1",
                "controlType": "FixedPFAbsorb",
                "fixedPFAbsorb": {"priority": 1, "displacement": 0.9, "excitation": True},
            },
        ),
        (
            "SetDERControl",
            {
                "isDefault": True,
                "controlId": "D2",
                "controlType": "VoltVar",
                "curve": {
                    "priority": 1,
                    "yUnit": "PctMaxVar",
                    "curveData": [{"x": 95, "y": 30}, {"x": 105, "y": -30}],
                },
            },
        ),
        ("SetDERControl", {"isDefault": False, "controlId": "D3", "controlType": "Gradients"}),
        ("GetDERControl", {"requestId": 20}),
        ("GetDERControl", {"requestId": 21, "controlId": "nope"}),
        ("ClearDERControl", {"isDefault": True, "controlId": "D1"}),
        (
            "NotifyAllowedEnergyTransfer",
            {"transactionId": transaction_id, "allowedEnergyTransfer": ["AC_three_phase"]},
        ),
        ("SetDefaultTariff", {"evseId": 0, "tariff": tariff}),
        ("GetTariffs", {"evseId": 1}),
        (
            "ChangeTransactionTariff",
            {"transactionId": transaction_id, "tariff": {**tariff, "tariffId": "T2"}},
        ),
        ("ClearTariffs", {"tariffIds": ["T1", "T9"]}),
        ("UsePriorityCharging", {"transactionId": transaction_id, "activate": True}),
        ("UpdateDynamicSchedule", {"chargingProfileId": 3, "scheduleUpdate": {"limit": 10}}),
        ("AFRRSignal", {"timestamp": iso_in(0), "signal": 5}),
        ("RequestBatterySwap", {"idToken": TOKEN, "requestId": 22}),
        ("NotifyWebPaymentStarted", {"evseId": 1, "timeout": 60}),
        ("AdjustPeriodicEventStream", {"id": 1, "params": {"interval": 10}}),
        ("GetPeriodicEventStream", {}),
    ]


@pytest.fixture
async def csms() -> AsyncIterator[FakeCsms2]:
    server = FakeCsms2()
    server.responders["ReportDERControl"] = lambda _s, _p: {}
    yield server
    await server.stop()


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_every_csms_initiated_action_gets_a_valid_answer(csms: FakeCsms2, version: str) -> None:
    url = await csms.start()
    station = SimulatedStation201(
        "CS-1", url, version=version, connectors=2, timings=FAST, rng=random.Random(3), meter_interval_s=0
    )
    try:
        await station.start()
        transaction_id = await station.plug_in_and_charge(
            1, "TAG", ev=ElectricVehicle(battery_capacity_wh=60_000, soc_percent=30, max_ac_power_w=22_080)
        )
        requests = (requests_21(transaction_id) if version == "2.1" else []) + requests_201(transaction_id)
        handled = {action for action, _payload in requests}
        assert handled == set(station._handlers), "one example for each action the station answers"
        answers: dict[str, list[dict[str, Any]]] = {}
        for action, payload in requests:
            answers.setdefault(action, []).append(await csms.call("CS-1", action, payload))
        await asyncio.sleep(0.3)  # the follow-ups (reports, notifications) go out
        errors = [f.message for f in csms.frames if f.kind == 4]
        assert errors == []
    finally:
        await station.close()

    assert answers["SetVariables"][0]["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert answers["SetNetworkProfile"] == [{"status": "Accepted"}]
    assert answers["TriggerMessage"][-1]["status"] == "NotImplemented"  # SignCombinedCertificate
    assert answers["DataTransfer"] == [
        {"status": "Accepted", "data": {"x": [1, 2]}},
        {"status": "UnknownVendorId"},
    ]
    assert answers["ReserveNow"][0]["status"] == "Accepted"
    assert answers["CancelReservation"][0]["status"] == "Accepted"
    assert answers["SetChargingProfile"][0]["status"] == "Accepted"
    station_wide, evse = answers["GetCompositeSchedule"]
    assert station_wide["schedule"]["chargingRateUnit"] == "W"
    # EVSE 1 charges by the station-wide default profile: 11 kW on three phases, in amperes.
    assert evse["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 15.9, "numberPhases": 3}
    ]
    assert answers["ClearChargingProfile"][0]["status"] == "Accepted"
    assert answers["InstallCertificate"][0]["status"] == "Rejected"
    assert answers["GetInstalledCertificateIds"][0]["status"] == "NotFound"
    assert answers["DeleteCertificate"][0]["status"] == "NotFound"
    assert answers["CertificateSigned"][0]["status"] == "Rejected"
    assert answers["SetDisplayMessage"][0]["status"] == "Accepted"
    assert answers["RequestStartTransaction"][0]["status"] == "Accepted"
    assert answers["RequestStopTransaction"][0]["status"] == "Accepted"
    assert [p["status"] for p in csms.calls("PublishFirmwareStatusNotification")][-1] == "Published"
    assert any(p["status"] == "DownloadScheduled" for p in csms.calls("FirmwareStatusNotification"))
    assert csms.calls("NotifyReport") and csms.calls("NotifyMonitoringReport")
    assert csms.calls("NotifyCustomerInformation")[0]["data"] == "customer C-1: no data kept"
    assert csms.calls("SignCertificate")[0]["certificateType"] == "V2GCertificate"
    if version == "2.1":
        assert answers["SetDERControl"][2]["status"] == "Rejected"  # no gradient settings
        assert [a["status"] for a in answers["GetDERControl"]] == ["Accepted", "NotFound"]
        report = csms.calls("ReportDERControl")[0]
        assert report["fixedPFAbsorb"][0]["id"] == "D1" and report["curve"][0]["curveType"] == "VoltVar"
        assert answers["GetTariffs"][0]["tariffAssignments"][0]["tariffId"] == "T1"
        assert answers["ClearTariffs"][0]["clearTariffsResult"] == [
            {"tariffId": "T1", "status": "Accepted"},
            {"tariffId": "T9", "status": "NoTariff"},
        ]
        assert answers["UsePriorityCharging"][0]["status"] == "NoProfile"
