"""SimulatedStation201 (OCPP 2.0.1 and 2.1) against a small 2.x CSMS: messages, order, behaviour."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from volthub.simulator.ev import ElectricVehicle
from volthub.simulator.v16 import SessionError, StationTimings
from volthub.simulator.v201 import SimulatedStation201

from .fake_csms2 import CallErrorReply, FakeCsms2

FAST = StationTimings(reboot_s=0.05, unplug_s=0.05, firmware_step_s=0.05, upload_step_s=0.05)
StationFactory = Callable[..., SimulatedStation201]


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def three_phase_ev(soc_percent: float = 30.0) -> ElectricVehicle:
    return ElectricVehicle(battery_capacity_wh=60_000, soc_percent=soc_percent, max_ac_power_w=22_080)


@pytest.fixture(params=["2.0.1", "2.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def csms() -> AsyncIterator[FakeCsms2]:
    server = FakeCsms2()
    yield server
    await server.stop()


@pytest.fixture
async def make_station(csms: FakeCsms2, version: str) -> AsyncIterator[StationFactory]:
    url = await csms.start()
    made: list[SimulatedStation201] = []

    def factory(station_id: str = "CS-1", **options: Any) -> SimulatedStation201:
        options.setdefault("timings", FAST)
        options.setdefault("rng", random.Random(1))
        options.setdefault("version", version)
        station = SimulatedStation201(station_id, url, **options)
        made.append(station)
        return station

    yield factory
    for station in made:
        await station.close()


def transaction_events(csms: FakeCsms2, transaction_id: str | None = None) -> list[dict[str, Any]]:
    return [
        p
        for p in csms.calls("TransactionEvent")
        if transaction_id is None or p["transactionInfo"]["transactionId"] == transaction_id
    ]


async def test_boot_then_a_status_per_evse(
    csms: FakeCsms2, make_station: StationFactory, version: str
) -> None:
    station = make_station(connectors=2)
    await station.start()
    assert station.registered and station.boot_status == "Accepted"
    assert csms.actions()[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
    boot = csms.calls("BootNotification")[0]
    assert boot["reason"] == "PowerUp"
    assert boot["chargingStation"] == {
        "model": "SimCharger-22",
        "vendorName": "VoltHub",
        "serialNumber": "CS-1",
        "firmwareVersion": "sim-1.0.0",
    }
    statuses = csms.calls("StatusNotification")
    assert [(p["evseId"], p["connectorId"], p["connectorStatus"]) for p in statuses] == [
        (1, 1, "Available"),
        (2, 1, "Available"),
    ]
    ws = csms.sockets["CS-1"]
    assert ws.subprotocol == ("ocpp2.1" if version == "2.1" else "ocpp2.0.1")


async def test_pending_boot_retries_after_the_interval(csms: FakeCsms2, make_station: StationFactory) -> None:
    csms.boot_statuses = ["Pending"]
    csms.interval_s = 1
    station = make_station()
    starting = asyncio.create_task(station.start())
    await csms.wait_for("BootNotification")
    await asyncio.sleep(0.1)
    assert not station.registered
    assert csms.calls("StatusNotification") == []  # nothing but the boot while Pending
    refused = await csms.call(
        "CS-1",
        "RequestStartTransaction",
        {
            "idToken": {"idToken": "APP", "type": "ISO14443"},
            "remoteStartId": 1,
        },
    )
    assert refused["status"] == "Rejected"
    await asyncio.wait_for(starting, 4)
    assert station.registered
    assert len(csms.calls("BootNotification")) == 2


async def test_a_rejected_station_answers_csms_calls_with_security_error(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    csms.boot_statuses = ["Rejected", "Rejected"]
    csms.interval_s = 1
    station = make_station()
    starting = asyncio.create_task(station.start())
    await csms.wait_for("BootNotification")
    await csms.wait_until(lambda: station.boot_status == "Rejected")
    with pytest.raises(CallErrorReply) as error:
        await csms.call(
            "CS-1",
            "GetVariables",
            {
                "getVariableData": [
                    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                ]
            },
        )
    assert error.value.code == "SecurityError"
    await asyncio.wait_for(starting, 5)
    assert station.registered


async def test_heartbeats_follow_the_interval_given_at_boot(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    csms.interval_s = 1
    station = make_station()
    await station.start()
    assert station.heartbeat_interval_s == 1
    assert station.device_model.get("OCPPCommCtrlr.HeartbeatInterval") == "1"
    await csms.wait_for("Heartbeat", timeout_s=3.5)


async def test_a_session_sends_started_updated_ended_with_increasing_seq_no(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(meter_interval_s=1, time_scale=60)
    await station.start()
    transaction_id = await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    assert uuid.UUID(transaction_id) and station.transaction_id(1) == transaction_id
    await csms.wait_for("TransactionEvent", count=2)
    await station.stop_session(1)
    await csms.wait_until(lambda: csms.statuses(1)[-1:] == ["Available"] and len(csms.statuses(1)) == 3)

    actions = csms.actions()
    first_event = actions.index("TransactionEvent")
    assert actions[first_event - 2 : first_event] == ["StatusNotification", "Authorize"]
    assert csms.statuses(1) == ["Available", "Occupied", "Available"]
    authorize = csms.calls("Authorize")[0]
    assert authorize == {"idToken": {"idToken": "TAG", "type": "ISO14443"}}

    events = transaction_events(csms, transaction_id)
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert [e["eventType"] for e in events] == ["Started", *["Updated"] * (len(events) - 2), "Ended"]
    started, updated, ended = events[0], events[1], events[-1]
    assert started["triggerReason"] == "Authorized"
    assert started["transactionInfo"] == {"transactionId": transaction_id, "chargingState": "Charging"}
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["idToken"] == {"idToken": "TAG", "type": "ISO14443"}
    begin = started["meterValue"][0]["sampledValue"]
    assert begin == [
        {
            "value": begin[0]["value"],
            "context": "Transaction.Begin",
            "measurand": "Energy.Active.Import.Register",
            "location": "Outlet",
            "unitOfMeasure": {"unit": "Wh"},
        }
    ]
    assert "offline" not in started

    assert updated["triggerReason"] == "MeterValuePeriodic"
    values = updated["meterValue"][0]["sampledValue"]
    assert [v["measurand"] for v in values] == [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
        "Current.Import",
        "Current.Import",
        "Voltage",
        "Voltage",
        "Voltage",
        "SoC",
    ]
    assert {v["context"] for v in values} == {"Sample.Periodic"}
    power = next(v for v in values if v["measurand"] == "Power.Active.Import")
    assert power["value"] == 22080 and power["unitOfMeasure"] == {"unit": "W"}
    current = next(v for v in values if v["measurand"] == "Current.Import")
    assert current["value"] == 32.0 and current["phase"] == "L1"
    soc = next(v for v in values if v["measurand"] == "SoC")
    assert soc["location"] == "EV" and soc["unitOfMeasure"] == {"unit": "Percent"}

    assert ended["triggerReason"] == "StopAuthorized"
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["transactionInfo"]["chargingState"] == "EVConnected"
    end_value = ended["meterValue"][-1]["sampledValue"][0]
    assert end_value["context"] == "Transaction.End"
    assert end_value["value"] > begin[0]["value"]
    # 22 kW for the simulated time, as the register shows it.
    assert station.stats.energy_wh == pytest.approx(end_value["value"] - begin[0]["value"], abs=1.0)


async def test_a_refused_token_starts_no_transaction(csms: FakeCsms2, make_station: StationFactory) -> None:
    csms.refused_tokens.add("BAD")
    station = make_station()
    await station.start()
    with pytest.raises(SessionError):
        await station.plug_in_and_charge(1, "BAD")
    assert transaction_events(csms) == []
    assert station.status(1) == "Available"
    assert csms.statuses(1) == ["Available", "Occupied", "Available"]
    assert station.stats.auth_rejected == 1


async def test_remote_start_carries_the_remote_start_id_and_remote_stop_ends_it(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(connectors=2)
    await station.start()
    token = {"idToken": "APP", "type": "Central"}
    result = await csms.call(
        "CS-1", "RequestStartTransaction", {"idToken": token, "evseId": 2, "remoteStartId": 42}
    )
    assert result["status"] == "Accepted"
    started = await csms.wait_for("TransactionEvent", eventType="Started")
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 42
    assert started["evse"]["id"] == 2 and started["idToken"] == token
    assert csms.calls("Authorize") == []  # AuthCtrlr.AuthorizeRemoteStart is false
    busy = await csms.call(
        "CS-1", "RequestStartTransaction", {"idToken": token, "evseId": 2, "remoteStartId": 43}
    )
    assert busy["status"] == "Rejected"
    unknown = await csms.call("CS-1", "RequestStopTransaction", {"transactionId": "nope"})
    assert unknown["status"] == "Rejected"
    transaction_id = started["transactionInfo"]["transactionId"]
    status = await csms.call("CS-1", "GetTransactionStatus", {"transactionId": transaction_id})
    assert status == {"messagesInQueue": False, "ongoingIndicator": True}
    stopped = await csms.call("CS-1", "RequestStopTransaction", {"transactionId": transaction_id})
    assert stopped["status"] == "Accepted"
    ended = await csms.wait_for("TransactionEvent", eventType="Ended")
    assert ended["triggerReason"] == "RemoteStop"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert "idToken" not in ended


async def test_trigger_message_answers_first_then_sends_the_message(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    before = len(csms.frames)
    result = await csms.call(
        "CS-1",
        "TriggerMessage",
        {
            "requestedMessage": "StatusNotification",
            "evse": {"id": 1, "connectorId": 1},
        },
    )
    assert result["status"] == "Accepted"
    await csms.wait_for("StatusNotification", count=2)
    after = csms.frames[before:]
    answer = next(i for i, f in enumerate(after) if f.kind == 3 and f.direction == "in")
    notification = next(i for i, f in enumerate(after) if f.action == "StatusNotification")
    assert answer < notification
    wrong = await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "Heartbeat", "evse": {"id": 9}})
    assert wrong["status"] == "Rejected"
    again = await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "BootNotification"})
    assert again["status"] == "Rejected"  # F06.FR.17: already accepted
    no_tx = await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "TransactionEvent"})
    assert no_tx["status"] == "Rejected"
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    triggered = await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "TransactionEvent"})
    assert triggered["status"] == "Accepted"
    event = await csms.wait_for("TransactionEvent", triggerReason="Trigger")
    assert event["eventType"] == "Updated" and event["seqNo"] == 1
    assert event["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


async def test_get_base_report_is_answered_then_reported_in_parts(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(connectors=2, password="a-secret-password-16")
    await station.start()
    result = await csms.call("CS-1", "GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"})
    assert result["status"] == "Accepted"
    await csms.wait_until(lambda: any(not p.get("tbc") for p in csms.calls("NotifyReport")))
    reports = csms.calls("NotifyReport")
    assert [p["seqNo"] for p in reports] == list(range(len(reports)))
    assert len(reports) > 1
    assert all(p["tbc"] for p in reports[:-1]) and "tbc" not in reports[-1]
    assert {p["requestId"] for p in reports} == {7}
    data = [entry for p in reports for entry in p["reportData"]]
    assert len(data) == len(station.device_model.variables)
    by_name = {
        (d["component"]["name"], d["variable"]["name"], d["variable"].get("instance")): d for d in data
    }
    heartbeat = by_name[("OCPPCommCtrlr", "HeartbeatInterval", None)]
    assert heartbeat["variableAttribute"] == [
        {"type": "Actual", "mutability": "ReadWrite", "persistent": True, "constant": False, "value": "300"}
    ]
    assert heartbeat["variableCharacteristics"]["unit"] == "s"
    assert heartbeat["variableCharacteristics"]["dataType"] == "integer"
    password = by_name[("SecurityCtrlr", "BasicAuthPassword", None)]
    assert password["variableAttribute"][0]["mutability"] == "WriteOnly"
    assert "value" not in password["variableAttribute"][0]
    evses = [
        d for d in data if d["component"]["name"] == "EVSE" and d["variable"]["name"] == "AvailabilityState"
    ]
    assert [(d["component"]["evse"], d["variableAttribute"][0]["value"]) for d in evses] == [
        ({"id": 1}, "Available"),
        ({"id": 2}, "Available"),
    ]
    summary = await csms.call("CS-1", "GetBaseReport", {"requestId": 8, "reportBase": "SummaryInventory"})
    assert summary["status"] == "Accepted"
    report = await csms.wait_for("NotifyReport", requestId=8)
    names = {d["variable"]["name"] for d in report["reportData"]}
    assert "AvailabilityState" in names and "HeartbeatInterval" not in names


async def test_get_report_selects_components_and_variables(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(connectors=2)
    await station.start()
    result = await csms.call(
        "CS-1",
        "GetReport",
        {
            "requestId": 3,
            "componentVariable": [{"component": {"name": "EVSE"}, "variable": {"name": "Power"}}],
        },
    )
    assert result["status"] == "Accepted"
    report = await csms.wait_for("NotifyReport", requestId=3)
    assert [d["component"]["evse"]["id"] for d in report["reportData"]] == [1, 2]
    empty = await csms.call(
        "CS-1",
        "GetReport",
        {
            "requestId": 4,
            "componentVariable": [{"component": {"name": "NoSuchCtrlr"}}],
        },
    )
    assert empty["status"] == "EmptyResultSet"


async def test_get_and_set_variables_over_the_device_model(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()

    def entry(component: Any, variable: str, **extra: Any) -> dict[str, Any]:
        comp = component if isinstance(component, dict) else {"name": component}
        return {"component": comp, "variable": {"name": variable}, **extra}

    result = await csms.call(
        "CS-1",
        "SetVariables",
        {
            "setVariableData": [
                entry("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="60"),
                entry("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="-1"),
                entry("ChargingStation", "Model", attributeValue="X"),
                entry("NoSuchCtrlr", "Foo", attributeValue="1"),
                entry("TxCtrlr", "NoSuchVariable", attributeValue="1"),
                entry(
                    "SampledDataCtrlr",
                    "TxUpdatedMeasurands",
                    attributeValue="Energy.Active.Import.Register,Power.Offered",
                ),
                entry("SampledDataCtrlr", "TxUpdatedMeasurands", attributeValue="Temperature"),
                entry("OCPPCommCtrlr", "WebSocketPingInterval", attributeValue="30"),
                entry("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="60", attributeType="Target"),
            ]
        },
    )
    statuses = [
        (r["attributeStatus"], r.get("attributeStatusInfo", {}).get("reasonCode"))
        for r in result["setVariableResult"]
    ]
    assert statuses == [
        ("Accepted", None),
        ("Rejected", "ValueTooLow"),
        ("Rejected", "ReadOnly"),
        ("UnknownComponent", None),
        ("UnknownVariable", None),
        ("Accepted", None),
        ("Rejected", "InvalidValue"),
        ("RebootRequired", None),
        ("NotSupportedAttributeType", None),
    ]
    assert station.heartbeat_interval_s == 60
    result = await csms.call(
        "CS-1",
        "GetVariables",
        {
            "getVariableData": [
                entry("OCPPCommCtrlr", "HeartbeatInterval"),
                entry("SecurityCtrlr", "BasicAuthPassword"),
                entry({"name": "EVSE", "evse": {"id": 1}}, "AvailabilityState"),
                entry({"name": "EVSE", "evse": {"id": 5}}, "AvailabilityState"),
                entry("DeviceDataCtrlr", "ItemsPerMessage"),
                {
                    "component": {"name": "DeviceDataCtrlr"},
                    "variable": {"name": "ItemsPerMessage", "instance": "GetVariables"},
                },
                entry("ChargingStation", "Power", attributeType="MaxSet"),
            ]
        },
    )
    got = [(r["attributeStatus"], r.get("attributeValue")) for r in result["getVariableResult"]]
    assert got == [
        ("Accepted", "60"),
        ("Rejected", None),
        ("Accepted", "Available"),
        ("UnknownComponent", None),
        ("UnknownVariable", None),
        ("Accepted", "32"),
        ("Accepted", "22080"),
    ]
    too_many = {"getVariableData": [entry("OCPPCommCtrlr", "HeartbeatInterval")] * 33}
    with pytest.raises(CallErrorReply) as error:
        await csms.call("CS-1", "GetVariables", too_many)
    assert error.value.code == "OccurrenceConstraintViolation"


async def test_a_new_basic_auth_password_reconnects_with_it(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(password="first-password-0001")
    await station.start()
    assert csms.authorization["CS-1"] is not None
    first = csms.authorization["CS-1"]
    result = await csms.call(
        "CS-1",
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                    "attributeValue": "second-password-0002",
                }
            ]
        },
    )
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
    await csms.wait_until(lambda: csms.authorization["CS-1"] != first and station.connected)
    assert len(csms.calls("BootNotification")) == 1  # a reconnect, not a reboot
    event = await csms.wait_for("SecurityEventNotification")
    assert event["type"] == "ReconfigurationOfSecurityParameters"


def _sign(csr_pem: str, ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name) -> str:
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_name)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


async def test_triggered_csr_names_the_station_and_the_signed_chain_is_kept(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    result = await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    assert result["status"] == "Accepted"
    request = await csms.wait_for("SignCertificate")
    assert request["certificateType"] == "ChargingStationCertificate"
    csr = x509.load_pem_x509_csr(request["csr"].encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "VoltHub Simulator"

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CSMS CA")])
    # A certificate for some other key is refused (and reported).
    stranger = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(csr.subject)
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )
    wrong = _sign(stranger.public_bytes(serialization.Encoding.PEM).decode(), ca_key, ca_name)
    refused = await csms.call("CS-1", "CertificateSigned", {"certificateChain": wrong})
    assert refused["status"] == "Rejected"
    assert (await csms.wait_for("SecurityEventNotification"))["type"] == "InvalidChargingStationCertificate"

    chain = _sign(request["csr"], ca_key, ca_name)
    accepted = await csms.call(
        "CS-1",
        "CertificateSigned",
        {
            "certificateChain": chain,
            "certificateType": "ChargingStationCertificate",
        },
    )
    assert accepted["status"] == "Accepted"
    kept = station.signed_chains["ChargingStationCertificate"]
    assert len(kept) == 1 and kept[0].public_key == csr.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


async def test_display_messages_round_trip(csms: FakeCsms2, make_station: StationFactory) -> None:
    station = make_station()
    await station.start()
    message = {
        "id": 5,
        "priority": "InFront",
        "state": "Idle",
        "message": {"format": "UTF8", "language": "en", "content": "Welcome!"},
    }
    assert (await csms.call("CS-1", "SetDisplayMessage", {"message": message}))["status"] == "Accepted"
    second = {**message, "id": 6, "priority": "NormalCycle", "message": {"format": "ASCII", "content": "2"}}
    assert (await csms.call("CS-1", "SetDisplayMessage", {"message": second}))["status"] == "Accepted"
    unknown_tx = {**message, "id": 7, "transactionId": "nope"}
    assert (await csms.call("CS-1", "SetDisplayMessage", {"message": unknown_tx}))[
        "status"
    ] == "UnknownTransaction"

    result = await csms.call("CS-1", "GetDisplayMessages", {"requestId": 11, "priority": "InFront"})
    assert result["status"] == "Accepted"
    notified = await csms.wait_for("NotifyDisplayMessages", requestId=11)
    assert notified["messageInfo"] == [message]
    everything = await csms.call("CS-1", "GetDisplayMessages", {"requestId": 12})
    assert everything["status"] == "Accepted"
    notified = await csms.wait_for("NotifyDisplayMessages", requestId=12)
    assert [m["id"] for m in notified["messageInfo"]] == [5, 6]

    assert (await csms.call("CS-1", "ClearDisplayMessage", {"id": 5}))["status"] == "Accepted"
    assert (await csms.call("CS-1", "ClearDisplayMessage", {"id": 5}))["status"] == "Unknown"
    gone = await csms.call("CS-1", "GetDisplayMessages", {"requestId": 13, "id": [5]})
    assert gone["status"] == "Unknown"
    assert set(station.display_messages) == {6}


async def test_an_outage_queues_transaction_events_and_replays_them_in_order(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(meter_interval_s=1, time_scale=60)
    await station.start()
    transaction_id = await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    await csms.wait_for("TransactionEvent", eventType="Updated")
    await station.wait_queue_empty()  # its answer is in as well
    await station.go_offline()
    assert not station.connected
    delivered_before = len(transaction_events(csms))
    # Meter values go on while offline; then the driver stops.
    await station.wait_queue(lambda queued: queued >= 1)
    await station.stop_session(1)
    queued = [p for action, p in station.queued_messages if action == "TransactionEvent"]
    assert len(queued) >= 2 and queued[0]["eventType"] == "Updated" and queued[-1]["eventType"] == "Ended"
    # Made while offline (an event in flight as the connection went may have been made before).
    assert all(p["offline"] is True for p in queued[1:])
    assert len(transaction_events(csms)) == delivered_before

    await station.go_online()
    await station.wait_queue_empty()
    events = transaction_events(csms, transaction_id)
    seq_nos = [e["seqNo"] for e in events]
    # In order and none lost (an event in flight at the outage may arrive twice).
    assert seq_nos == sorted(seq_nos) and sorted(set(seq_nos)) == list(range(len(set(seq_nos))))
    replayed = events[-len(queued) :]
    assert replayed == queued
    assert replayed[-1]["transactionInfo"]["stoppedReason"] == "Local"
    assert len(csms.calls("BootNotification")) == 1  # the reconnect does not boot again
    status = await csms.call("CS-1", "GetTransactionStatus", {"transactionId": transaction_id})
    assert status == {"messagesInQueue": False, "ongoingIndicator": False}


async def test_offline_a_locally_listed_token_starts_a_transaction(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    result = await csms.call(
        "CS-1",
        "SendLocalList",
        {
            "versionNumber": 3,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idToken": {"idToken": "LOCAL", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}},
            ],
        },
    )
    assert result["status"] == "Accepted"
    assert (await csms.call("CS-1", "GetLocalListVersion", {}))["versionNumber"] == 3
    await station.go_offline()
    transaction_id = await station.plug_in_and_charge(1, "LOCAL", ev=three_phase_ev())
    with pytest.raises(SessionError):
        await station.plug_in_and_charge(2 if len(station.connectors) > 1 else 1, "STRANGER")
    await station.go_online()
    started = await csms.wait_for("TransactionEvent", eventType="Started")
    assert started["offline"] is True and started["transactionInfo"]["transactionId"] == transaction_id
    assert csms.calls("Authorize") == []


async def test_reset_immediate_ends_transactions_and_boots_again(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    result = await csms.call("CS-1", "Reset", {"type": "Immediate"})
    assert result["status"] == "Accepted"
    boot = await csms.wait_for("BootNotification", count=2)
    assert boot["reason"] == "RemoteReset"
    ended = await csms.wait_for("TransactionEvent", eventType="Ended")
    assert ended["triggerReason"] == "ResetCommand"
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    event = await csms.wait_for("SecurityEventNotification", type="ResetOrReboot")
    assert event["type"] == "ResetOrReboot"
    await csms.wait_until(lambda: station.registered)


async def test_reset_on_idle_waits_for_the_transaction(csms: FakeCsms2, make_station: StationFactory) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    result = await csms.call("CS-1", "Reset", {"type": "OnIdle"})
    assert result["status"] == "Scheduled"
    await asyncio.sleep(0.1)
    assert len(csms.calls("BootNotification")) == 1
    await station.stop_session(1)
    boot = await csms.wait_for("BootNotification", count=2)
    assert boot["reason"] == "RemoteReset"


async def test_a_reservation_expires_with_a_status_update(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(connectors=2)
    await station.start()
    token = {"idToken": "RES", "type": "ISO14443"}
    result = await csms.call(
        "CS-1", "ReserveNow", {"id": 9, "expiryDateTime": iso_in(1), "idToken": token, "evseId": 2}
    )
    assert result["status"] == "Accepted"
    await csms.wait_until(lambda: csms.statuses(2)[-1] == "Reserved")
    update = await csms.wait_for("ReservationStatusUpdate", timeout_s=4)
    assert update == {"reservationId": 9, "reservationUpdateStatus": "Expired"}
    await csms.wait_until(lambda: csms.statuses(2)[-1] == "Available")
    # A reservation used by its token ends with the transaction, which names it.
    await csms.call(
        "CS-1", "ReserveNow", {"id": 10, "expiryDateTime": iso_in(60), "idToken": token, "evseId": 1}
    )
    with pytest.raises(SessionError):
        await station.plug_in_and_charge(1, "OTHER")
    await station.plug_in_and_charge(1, "RES", ev=three_phase_ev())
    started = await csms.wait_for("TransactionEvent", eventType="Started")
    assert started["reservationId"] == 10
    assert (await csms.call("CS-1", "CancelReservation", {"reservationId": 10}))["status"] == "Rejected"


async def test_firmware_update_reports_each_step_with_the_request_id(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    result = await csms.call(
        "CS-1",
        "UpdateFirmware",
        {
            "requestId": 77,
            "firmware": {"location": "https://example.com/fw/sim-2.0.0.bin", "retrieveDateTime": iso_in(-1)},
        },
    )
    assert result["status"] == "Accepted"
    await csms.wait_for("FirmwareStatusNotification", status="Installed", timeout_s=5)
    statuses = [(p["status"], p.get("requestId")) for p in csms.calls("FirmwareStatusNotification")]
    assert statuses == [
        ("Downloading", 77),
        ("Downloaded", 77),
        ("Installing", 77),
        ("InstallRebooting", 77),
        ("Installed", 77),
    ]
    boots = csms.calls("BootNotification")
    assert boots[-1]["reason"] == "FirmwareUpdate"
    assert boots[-1]["chargingStation"]["firmwareVersion"] == "sim-2.0.0"
    assert station.firmware_version == "sim-2.0.0"


async def test_get_log_reports_upload_status(csms: FakeCsms2, make_station: StationFactory) -> None:
    station = make_station()
    await station.start()
    result = await csms.call(
        "CS-1",
        "GetLog",
        {
            "log": {"remoteLocation": "ftp://example.com/logs"},
            "logType": "DiagnosticsLog",
            "requestId": 4,
        },
    )
    assert result["status"] == "Accepted" and result["filename"] == "diagnostics-CS-1-4.log"
    await csms.wait_for("LogStatusNotification", status="Uploaded")
    assert [(p["status"], p["requestId"]) for p in csms.calls("LogStatusNotification")] == [
        ("Uploading", 4),
        ("Uploaded", 4),
    ]


async def test_charging_profiles_limit_report_and_clear(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    transaction_id = await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    assert station.offered_power_w(1) == pytest.approx(22_080.0)
    profile = {
        "id": 7,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
            }
        ],
    }
    result = await csms.call("CS-1", "SetChargingProfile", {"evseId": 1, "chargingProfile": profile})
    assert result["status"] == "Accepted"
    assert station.offered_power_w(1) == pytest.approx(6 * 230 * 3)
    composite = await csms.call("CS-1", "GetCompositeSchedule", {"evseId": 1, "duration": 600})
    assert composite["status"] == "Accepted"
    assert composite["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 6.0, "numberPhases": 3}
    ]
    reported = await csms.call("CS-1", "GetChargingProfiles", {"requestId": 2, "chargingProfile": {}})
    assert reported["status"] == "Accepted"
    report = await csms.wait_for("ReportChargingProfiles", requestId=2)
    assert report["evseId"] == 1 and report["chargingLimitSource"] == "CSO"
    assert report["chargingProfile"] == [{**profile, "transactionId": transaction_id}]
    none = await csms.call(
        "CS-1",
        "GetChargingProfiles",
        {
            "requestId": 3,
            "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"},
        },
    )
    assert none["status"] == "NoProfiles"
    max_on_evse = {**profile, "id": 8, "chargingProfilePurpose": "ChargingStationMaxProfile"}
    refused = await csms.call("CS-1", "SetChargingProfile", {"evseId": 1, "chargingProfile": max_on_evse})
    assert refused["status"] == "Rejected"
    cleared = await csms.call("CS-1", "ClearChargingProfile", {"chargingProfileId": 7})
    assert cleared["status"] == "Accepted"
    assert station.charging_limit_w(1) is None
    again = await csms.call("CS-1", "ClearChargingProfile", {"chargingProfileId": 7})
    assert again["status"] == "Unknown"


async def test_a_zero_limit_suspends_charging_with_a_charging_state_event(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}]}
        ],
    }
    await csms.call("CS-1", "SetChargingProfile", {"evseId": 0, "chargingProfile": profile})
    event = await csms.wait_for("TransactionEvent", triggerReason="ChargingStateChanged")
    assert event["transactionInfo"]["chargingState"] == "SuspendedEVSE"
    assert station.power_w(1) == 0.0


async def test_monitors_are_set_reported_and_cleared(
    csms: FakeCsms2, make_station: StationFactory, version: str
) -> None:
    station = make_station()
    await station.start()
    result = await csms.call(
        "CS-1",
        "SetVariableMonitoring",
        {
            "setMonitoringData": [
                {
                    "value": 10000,
                    "type": "UpperThreshold",
                    "severity": 5,
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power"},
                },
                {
                    "value": 1,
                    "type": "UpperThreshold",
                    "severity": 5,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                },
                {
                    "value": 1,
                    "type": "Delta",
                    "severity": 5,
                    "component": {"name": "NoSuch"},
                    "variable": {"name": "Power"},
                },
            ]
        },
    )
    outcomes = [r["status"] for r in result["setMonitoringResult"]]
    assert outcomes == ["Accepted", "Rejected", "UnknownComponent"]
    monitor_id = result["setMonitoringResult"][0]["id"]
    report = await csms.call(
        "CS-1",
        "GetMonitoringReport",
        {
            "requestId": 5,
            "componentVariable": [{"component": {"name": "EVSE"}, "variable": {"name": "Power"}}],
        },
    )
    assert report["status"] == "Accepted"
    notified = await csms.wait_for("NotifyMonitoringReport", requestId=5)
    monitors = notified["monitor"][0]["variableMonitoring"]
    custom = next(m for m in monitors if m["id"] == monitor_id)
    assert custom["value"] == 10000 and custom["type"] == "UpperThreshold"
    assert ("eventNotificationType" in custom) == (version == "2.1")
    cleared = await csms.call("CS-1", "ClearVariableMonitoring", {"id": [monitor_id, 999]})
    assert [r["status"] for r in cleared["clearMonitoringResult"]] == ["Accepted", "NotFound"]
    assert (await csms.call("CS-1", "SetMonitoringLevel", {"severity": 4}))["status"] == "Accepted"
    base = await csms.call("CS-1", "SetMonitoringBase", {"monitoringBase": "HardWiredOnly"})
    assert base["status"] == "Accepted"
    hard_wired = await csms.call(
        "CS-1",
        "GetMonitoringReport",
        {
            "requestId": 6,
            "monitoringCriteria": ["ThresholdMonitoring"],
        },
    )
    assert hard_wired["status"] == "EmptyResultSet"


async def test_change_availability_makes_evses_unavailable_and_schedules_busy_ones(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station(connectors=2)
    await station.start()
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    result = await csms.call("CS-1", "ChangeAvailability", {"operationalStatus": "Inoperative"})
    assert result["status"] == "Scheduled"
    await csms.wait_until(lambda: csms.statuses(2)[-1] == "Unavailable")
    await station.stop_session(1)
    await csms.wait_until(lambda: csms.statuses(1)[-1] == "Unavailable")
    back = await csms.call("CS-1", "ChangeAvailability", {"operationalStatus": "Operative"})
    assert back["status"] == "Accepted"
    await csms.wait_until(lambda: csms.statuses(1)[-1] == csms.statuses(2)[-1] == "Available")
    one = await csms.call(
        "CS-1", "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}}
    )
    assert one["status"] == "Accepted"
    await csms.wait_until(lambda: csms.statuses(2)[-1] == "Unavailable")
    assert csms.statuses(1)[-1] == "Available"


async def test_unlock_connector(csms: FakeCsms2, make_station: StationFactory) -> None:
    station = make_station()
    await station.start()
    assert (await csms.call("CS-1", "UnlockConnector", {"evseId": 1, "connectorId": 1}))[
        "status"
    ] == "Unlocked"
    assert (await csms.call("CS-1", "UnlockConnector", {"evseId": 3, "connectorId": 1}))[
        "status"
    ] == "UnknownConnector"
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    busy = await csms.call("CS-1", "UnlockConnector", {"evseId": 1, "connectorId": 1})
    assert busy["status"] == "OngoingAuthorizedTransaction"


async def test_customer_information_is_reported(csms: FakeCsms2, make_station: StationFactory) -> None:
    station = make_station()
    await station.start()
    await station.authorize("TAG")
    invalid = await csms.call("CS-1", "CustomerInformation", {"requestId": 1, "report": True, "clear": False})
    assert invalid["status"] == "Invalid"
    result = await csms.call(
        "CS-1",
        "CustomerInformation",
        {
            "requestId": 2,
            "report": True,
            "clear": True,
            "idToken": {"idToken": "TAG", "type": "ISO14443"},
        },
    )
    assert result["status"] == "Accepted"
    notified = await csms.wait_for("NotifyCustomerInformation", requestId=2)
    assert notified["seqNo"] == 0 and "idToken TAG" in notified["data"]


@pytest.mark.parametrize("frame_action", ["NoSuchAction", "BootNotification"])
async def test_an_unhandled_call_is_answered_with_a_call_error(
    csms: FakeCsms2, make_station: StationFactory, version: str, frame_action: str
) -> None:
    """The ``ocpp`` library leaves such a CALL unanswered on 2.1 (ADR 0002); the station does not."""
    station = make_station()
    await station.start()
    reply = await csms.send_raw("CS-1", [2, "raw-1", frame_action, {}])
    assert reply[0] == 4 and reply[1] == "raw-1"
    # OCPP-J: NotImplemented for an action the receiver does not know, NotSupported for one it
    # knows but does not take (BootNotification goes the other way).
    assert reply[2] == ("NotImplemented" if frame_action == "NoSuchAction" else "NotSupported")
    # The station goes on answering.
    answer = await csms.call("CS-1", "GetLocalListVersion", {})
    assert answer == {"versionNumber": 0}


async def test_an_invalid_payload_is_answered_with_a_call_error(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    reply = await csms.send_raw("CS-1", [2, "raw-2", "Reset", {"type": "Sideways"}])
    assert reply[0] == 4 and reply[2] in (
        "FormatViolation",
        "PropertyConstraintViolation",
        "FormationViolation",
    )


async def test_a_faulted_connector_reports_it_and_takes_nothing(
    csms: FakeCsms2, make_station: StationFactory
) -> None:
    station = make_station()
    await station.start()
    await station.plug_in_and_charge(1, "TAG", ev=three_phase_ev())
    await station.set_faulted(1)
    ended = await csms.wait_for("TransactionEvent", eventType="Ended")
    assert ended["triggerReason"] == "AbnormalCondition"
    assert csms.statuses(1)[-1] == "Faulted" and station.status(1) == "Faulted"
    token = {"idToken": "APP", "type": "ISO14443"}
    reserve = await csms.call(
        "CS-1", "ReserveNow", {"id": 1, "expiryDateTime": iso_in(60), "idToken": token, "evseId": 1}
    )
    assert reserve["status"] == "Faulted"
    start = await csms.call(
        "CS-1", "RequestStartTransaction", {"idToken": token, "evseId": 1, "remoteStartId": 1}
    )
    assert start["status"] == "Rejected"
    await station.set_faulted(1, False)
    assert csms.statuses(1)[-1] == "Available"
