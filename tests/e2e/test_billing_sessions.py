"""Simulated station sessions end in a CDR with the exact expected cost (1.6, 2.0.1, 2.1).

The tariff is the spec's example "€ 0.25 per kWh + parking fee + start fee"
(examples/tariff_10_025kwh_parking_start.json): 20 kWh and 40 minutes of parking cost
€ 7.00 excl. VAT / € 7.90 incl. VAT (parking billed per 15 minutes: 45 minutes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station2x import connect2x
from tests.support.station16 import connect16

EXAMPLES = Path(__file__).resolve().parents[3] / "shared/specs/ocpi-2.2.1/examples"
T0 = "2026-03-02T08:00:00Z"  # a Monday, 09:00 in Amsterdam
T_CHARGING_1H = "2026-03-02T09:00:00Z"
T_FULL = "2026-03-02T10:00:00Z"  # EV full after 2 h: parking starts
T_STOP = "2026-03-02T10:40:00Z"  # 40 minutes of parking


def spec_tariff(name: str, tariff_id: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    body["id"] = tariff_id
    for key in ("country_code", "party_id", "last_updated"):
        body.pop(key, None)
    return body


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(database_url, cost_update_interval_s=0.0)) as running:
        yield running


async def _setup(server: RunningServer, station_id: str, tariff_id: str = "T10") -> None:
    location = {"id": f"LOC-{station_id}", "name": "Depot", "address": "Main St 1",
                "city": "Amsterdam", "country": "NLD", "latitude": 52.37, "longitude": 4.89,
                "time_zone": "Europe/Amsterdam"}
    assert (await server.api.post("/locations", json=location)).status_code == 201
    r = await server.api.post("/stations", json={"id": station_id,
                                                 "location_id": location["id"]})
    assert r.status_code == 201, r.text
    if (await server.api.get(f"/tariffs/{tariff_id}")).status_code == 404:
        r = await server.api.post("/tariffs", json=spec_tariff(
            "tariff_10_025kwh_parking_start.json", tariff_id))
        assert r.status_code == 201, r.text
    r = await server.api.post("/tariff-assignments", json={"tariff_id": tariff_id,
                                                           "location_id": location["id"]})
    assert r.status_code == 201, r.text
    await server.api.post("/id-tokens", json={"id_token": "DRIVER-1"})


async def _cdr_of(server: RunningServer, transaction_id: int) -> dict[str, Any]:
    for _ in range(50):
        r = await server.api.get(f"/transactions/{transaction_id}/cdrs")
        assert r.status_code == 200, r.text
        if r.json():
            [cdr] = r.json()
            return dict(cdr)
        await asyncio.sleep(0.1)
    raise AssertionError("no CDR")


def _meter(wh: int, at: str) -> list[dict[str, Any]]:
    return [{"timestamp": at, "sampledValue": [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]


def _assert_spec_cost(cdr: dict[str, Any]) -> None:
    assert cdr["total_cost"] == {"excl_vat": 7.0, "incl_vat": 7.9}
    ocpi = cdr["cdr"]
    assert ocpi["total_cost"] == {"excl_vat": 7.0, "incl_vat": 7.9}
    assert ocpi["total_fixed_cost"] == {"excl_vat": 0.5, "incl_vat": 0.6}
    assert ocpi["total_energy_cost"] == {"excl_vat": 5.0, "incl_vat": 5.5}
    assert ocpi["total_parking_cost"] == {"excl_vat": 1.5, "incl_vat": 1.8}
    assert ocpi["total_energy"] == 20.0
    assert ocpi["total_time"] == pytest.approx(2 + 40 / 60, abs=1e-4)
    assert ocpi["total_parking_time"] == pytest.approx(40 / 60, abs=1e-4)
    assert ocpi["currency"] == "EUR"
    assert ocpi["start_date_time"] == T0 and ocpi["end_date_time"] == T_STOP
    kinds = [[d["type"] for d in p["dimensions"]][:2] for p in ocpi["charging_periods"]]
    assert ["ENERGY", "TIME"] in kinds and ["ENERGY", "PARKING_TIME"] in kinds
    charging = ocpi["charging_periods"][0]
    assert {d["type"]: d["volume"] for d in charging["dimensions"]}["MAX_POWER"] == 10.0
    parking = next(p for p in ocpi["charging_periods"]
                   if p["dimensions"][1]["type"] == "PARKING_TIME")
    assert parking["start_date_time"] == T_FULL
    assert [t["id"] for t in ocpi["tariffs"]] == ["T10"]


async def _session_16(station: Any, station_id: str) -> int:
    await station.call(call.Authorize(id_tag="DRIVER-1"))
    started = await station.call(call.StartTransaction(
        connector_id=1, id_tag="DRIVER-1", meter_start=1000, timestamp=T0))
    txn = started.transaction_id
    await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                               status="Charging", timestamp=T0))
    await station.call(call.MeterValues(connector_id=1, transaction_id=txn,
                                        meter_value=_meter(11000, T_CHARGING_1H)))
    await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                               status="SuspendedEV", timestamp=T_FULL))
    await station.call(call.MeterValues(connector_id=1, transaction_id=txn,
                                        meter_value=_meter(21000, T_FULL)))
    await station.call(call.StopTransaction(meter_stop=21000, timestamp=T_STOP,
                                            transaction_id=txn, reason="EVDisconnected"))
    return int(txn)


async def test_a_16_session_gets_a_cdr_with_the_spec_cost(server: RunningServer) -> None:
    await _setup(server, "CP-B16")
    async with connect16(server.ocpp_url, "CP-B16") as station:
        txn = await _session_16(station, "CP-B16")
        cdr = await _cdr_of(server, txn)
        _assert_spec_cost(cdr)
        # California Pricing (OCA application note for 1.6): the price at authorization, the
        # running cost after meter values, the final cost after the stop.
        for _ in range(50):
            if any(kw.get("message_id") == "FinalCost" for a, kw in station.received):
                break
            await asyncio.sleep(0.1)
    messages = {kw["message_id"]: json.loads(kw["data"]) for a, kw in station.received
                if a == "DataTransfer" and kw["vendor_id"] == "org.openchargealliance.costmsg"}
    assert messages["SetUserPrice"]["idToken"] == "DRIVER-1"
    assert "EUR/kWh" in messages["SetUserPrice"]["priceText"]
    assert messages["RunningCost"]["transactionId"] == txn
    assert messages["RunningCost"]["cost"] > 0
    assert messages["FinalCost"] == {"transactionId": txn, "cost": 7.9,
                                     "priceText": "Total 7.90 EUR incl. VAT"}


async def test_a_16_station_without_the_cost_extension_is_not_asked_again(
    server: RunningServer,
) -> None:
    await _setup(server, "CP-B16X")
    async with connect16(server.ocpp_url, "CP-B16X") as station:
        station.answers["DataTransfer"] = {"status": "UnknownVendorId"}
        await _session_16(station, "CP-B16X")
        await asyncio.sleep(0.5)
    cost_messages = [kw for a, kw in station.received if a == "DataTransfer"]
    assert len(cost_messages) == 1  # SetUserPrice refused: nothing more was sent


async def test_changing_the_tariff_after_start_does_not_change_the_cdr(
    server: RunningServer,
) -> None:
    await _setup(server, "CP-BCHG")
    async with connect16(server.ocpp_url, "CP-BCHG") as station:
        started = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER-1", meter_start=1000, timestamp=T0))
        # The operator doubles the energy price and adds a time price mid-session.
        changed = spec_tariff("tariff_10_025kwh_parking_start.json", "T10")
        changed["elements"][0]["price_components"][1]["price"] = 0.50
        changed["elements"][0]["price_components"].append(
            {"type": "TIME", "price": 3.0, "step_size": 1})
        r = await server.api.put("/tariffs/T10", json=changed)
        assert r.status_code == 200, r.text
        await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                   status="SuspendedEV", timestamp=T_FULL))
        await station.call(call.StopTransaction(meter_stop=21000, timestamp=T_STOP,
                                                transaction_id=started.transaction_id))
    cdr = await _cdr_of(server, started.transaction_id)
    _assert_spec_cost_without_periods(cdr)
    [snapshot] = cdr["cdr"]["tariffs"]
    assert snapshot["elements"][0]["price_components"][1]["price"] == 0.25
    # A session started after the change is priced with the new tariff.
    async with connect16(server.ocpp_url, "CP-BCHG", boot=False) as station:
        later = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER-1", meter_start=0, timestamp=T_STOP))
        await station.call(call.StopTransaction(meter_stop=1000, timestamp="2026-03-02T11:40:00Z",
                                                transaction_id=later.transaction_id))
    second = await _cdr_of(server, later.transaction_id)
    # FLAT 0.50 + 1 kWh at 0.50 + 1 h at 3.00 = 4.00 excl. VAT
    assert second["total_cost"]["excl_vat"] == 4.0


def _assert_spec_cost_without_periods(cdr: dict[str, Any]) -> None:
    """Same money as _assert_spec_cost; energy here is linear from start to stop."""
    assert cdr["total_cost"] == {"excl_vat": 7.0, "incl_vat": 7.9}
    assert cdr["cdr"]["total_parking_cost"] == {"excl_vat": 1.5, "incl_vat": 1.8}


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_a_2x_session_gets_a_cdr_and_the_final_cost(server: RunningServer,
                                                          version: str) -> None:
    station_id = f"CP-B2X-{version}"
    await _setup(server, station_id)

    def event(kind: str, seq: int, at: str, trigger: str, state: str | None,
              wh: int | None, context: str = "Sample.Periodic") -> dict[str, Any]:
        body: dict[str, Any] = {"eventType": kind, "timestamp": at, "triggerReason": trigger,
                                "seqNo": seq, "transactionInfo": {"transactionId": "TX-B"},
                                "evse": {"id": 1, "connectorId": 1}}
        if state is not None:
            body["transactionInfo"]["chargingState"] = state
        if wh is not None:
            body["meterValue"] = [{"timestamp": at, "sampledValue": [
                {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context}]}]
        return body

    async with connect2x(server.ocpp_url, station_id, version) as station:
        auth = await station.send("Authorize", {"idToken": {"idToken": "DRIVER-1",
                                                            "type": "ISO14443"}})
        assert "EUR/kWh" in auth["idTokenInfo"]["personalMessage"]["content"]
        started = event("Started", 0, T0, "Authorized", "Charging", 1000, "Transaction.Begin")
        started["idToken"] = {"idToken": "DRIVER-1", "type": "ISO14443"}
        await station.send("TransactionEvent", started)
        await station.send("TransactionEvent", event("Updated", 1, T_CHARGING_1H,
                                                     "MeterValuePeriodic", None, 11000))
        update = await station.wait_for("CostUpdated")
        assert update["transactionId"] == "TX-B" and update["totalCost"] > 0
        await station.send("TransactionEvent", event("Updated", 2, T_FULL, "ChargingStateChanged",
                                                     "SuspendedEV", 21000))
        ended = event("Ended", 3, T_STOP, "EVCommunicationLost", "Idle", 21000,
                      "Transaction.End")
        ended["transactionInfo"]["stoppedReason"] = "EVDisconnected"
        answer = await station.send("TransactionEvent", ended)
    # I03: the final cost incl. VAT in the Ended answer.
    assert answer["totalCost"] == 7.9
    r = await server.api.get("/transactions", params={"station_id": station_id})
    [txn] = r.json()["items"]
    cdr = await _cdr_of(server, txn["id"])
    _assert_spec_cost(cdr)
    assert cdr["cdr"]["session_id"] == str(txn["id"])


async def test_a_session_stopped_while_billing_lagged_gets_its_cdr_from_the_sweep(
    database_url: str,
) -> None:
    """A transaction that finished without a CDR (server stopped before issuing, or closed
    late) gets one at the next start."""
    settings = test_settings(database_url, cdr_sweep_interval_s=0.2)
    async with run_server(settings) as server:
        await _setup(server, "CP-BSWP")
        async with connect16(server.ocpp_url, "CP-BSWP") as station:
            started = await station.call(call.StartTransaction(
                connector_id=1, id_tag="DRIVER-1", meter_start=1000, timestamp=T0))
            await station.call(call.StopTransaction(meter_stop=21000, timestamp=T_STOP,
                                                    transaction_id=started.transaction_id))
        txn = started.transaction_id
        first = await _cdr_of(server, txn)
        # Simulate the crash window: the CDR row is gone as if never written.
        container = server.container
        from sqlalchemy import delete

        from volthub.storage.sql import tables as t

        async with container.services.storage.engine.begin() as conn:
            await conn.execute(delete(t.cdrs).where(t.cdrs.c.transaction_id == txn))
    async with run_server(settings) as server:
        again = await _cdr_of(server, txn)
    assert again["id"] == first["id"]
    assert again["total_cost"] == first["total_cost"]
