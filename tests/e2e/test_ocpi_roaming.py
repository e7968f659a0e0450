"""Roaming end to end between two volthub instances, a CPO with a simulated OCPP 1.6 station
and an eMSP (issue 5, "done when"): registration, location push, token push, START_SESSION →
RemoteStartTransaction → session pushes → STOP_SESSION → CDR with its cost at the eMSP, then a
partner outage with recovery, also across a restart of the CPO."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ocpp.v16 import call

from tests.e2e.test_billing_sessions import spec_tariff
from tests.support.ocpi import ocpi_settings, register
from tests.support.ocpi_peer import free_port
from tests.support.server import RunningServer, run_server
from tests.support.station16 import connect16

STATION = "CS-ROAM"
LOCATION = "LOC-ROAM"
EVSE_UID = f"{STATION}-1"
DRIVER = "EMSP-DRIVER-1"


async def settle(*servers: RunningServer) -> None:
    """Deliver every queued event and push on both sides (pushes may cause pushes back)."""
    for _ in range(3):
        for server in servers:
            await server.container.services.events.drain()
            await server.container.roaming.outbox.deliver_due()


async def wait_until(what: str, check: Callable[[], Awaitable[bool]],
                     *servers: RunningServer, timeout_s: float = 20.0) -> None:
    for _ in range(int(timeout_s / 0.1)):
        await settle(*servers)
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def station_got(station: Any, action: str, *servers: RunningServer) -> dict[str, Any]:
    """The payload of the first `action` the station received (waiting for it)."""
    async def got() -> bool:
        return any(a == action for a, _ in station.received)

    await wait_until(action, got, *servers)
    payload: dict[str, Any] = next(kw for a, kw in station.received if a == action)
    return payload


async def received(emsp: RunningServer, module: str, object_id: str) -> dict[str, Any] | None:
    answer = await emsp.api.get(f"/ocpi/{module}/NL/CPO/{object_id}")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def setup_cpo(cpo: RunningServer) -> None:
    location = {"id": LOCATION, "name": "Roaming depot", "address": "Main St 1",
                "city": "Amsterdam", "country": "NLD", "latitude": 52.37, "longitude": 4.89,
                "time_zone": "Europe/Amsterdam"}
    assert (await cpo.api.post("/locations", json=location)).status_code == 201
    answer = await cpo.api.post("/stations", json={"id": STATION, "location_id": LOCATION})
    assert answer.status_code == 201, answer.text
    answer = await cpo.api.post("/tariffs", json=spec_tariff(
        "tariff_10_025kwh_parking_start.json", "T10"))
    assert answer.status_code == 201, answer.text
    answer = await cpo.api.post("/tariff-assignments", json={"tariff_id": "T10",
                                                             "location_id": LOCATION})
    assert answer.status_code == 201, answer.text


async def test_roaming_session_from_registration_to_cdr(tmp_path: Path,
                                                        database_url: str) -> None:
    async with run_server(ocpi_settings(database_url, "NL", "CPO", "CPO")) as cpo, \
            run_server(ocpi_settings(f"sqlite:///{tmp_path}/emsp.db", "DE", "MSP",
                                     "EMSP")) as emsp:
        await setup_cpo(cpo)
        _, emsp_side = await register(cpo, emsp)

        # Location push: the station's status reaches the eMSP.
        async with connect16(cpo.ocpp_url, STATION) as station:
            await station.boot()
            await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                       status="Available"))

            async def location_seen() -> bool:
                location = await received(emsp, "locations", LOCATION)
                return location is not None and \
                    location["data"]["evses"][0]["status"] == "AVAILABLE"

            await wait_until("location at the eMSP", location_seen, cpo, emsp)

            # Token push: the eMSP's driver becomes known at the CPO.
            answer = await emsp.api.post("/id-tokens", json={"id_token": DRIVER})
            assert answer.status_code == 201, answer.text

            async def token_known() -> bool:
                tokens = await cpo.container.services.storage.read(
                    lambda r: r.find_roaming_objects("tokens", DRIVER))
                return bool(tokens)

            await wait_until("token at the CPO", token_known, cpo, emsp)

            # START_SESSION from the eMSP's admin API → RemoteStartTransaction at the station.
            answer = await emsp.api.post("/ocpi/commands/START_SESSION", json={
                "partner_id": emsp_side, "location_id": LOCATION, "evse_uid": EVSE_UID,
                "id_token": DRIVER})
            assert answer.status_code in (200, 201), answer.text
            command = answer.json()
            assert command["response"]["result"] == "ACCEPTED", command
            remote_start = await station_got(station, "RemoteStartTransaction", cpo, emsp)
            assert remote_start["id_tag"] == DRIVER

            async def command_done() -> bool:
                state = (await emsp.api.get(f"/ocpi/commands/{command['id']}")).json()
                return (state.get("result") or {}).get("result") == "ACCEPTED"

            await wait_until("START_SESSION result", command_done, cpo, emsp)
            start = await station.call(call.StartTransaction(
                connector_id=1, id_tag=DRIVER, meter_start=0,
                timestamp="2026-03-02T08:00:00Z"))
            assert start.id_tag_info["status"] == "Accepted"
            # The OCPI session is named by our transaction id (not the station's).
            [txn] = (await cpo.api.get("/transactions",
                                       params={"station_id": STATION})).json()["items"]
            session_id = str(txn["id"])

            async def session_active() -> bool:
                session = await received(emsp, "sessions", session_id)
                return session is not None and session["data"]["status"] == "ACTIVE"

            await wait_until("ACTIVE session at the eMSP", session_active, cpo, emsp)
            await station.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                                meter_value=[{
                                                    "timestamp": "2026-03-02T09:00:00Z",
                                                    "sampledValue": [{"value": "10000"}]}]))

            # STOP_SESSION → RemoteStopTransaction → StopTransaction → COMPLETED + CDR.
            answer = await emsp.api.post("/ocpi/commands/STOP_SESSION", json={
                "partner_id": emsp_side, "session_id": session_id})
            assert answer.status_code in (200, 201), answer.text
            assert answer.json()["response"]["result"] == "ACCEPTED"
            remote_stop = await station_got(station, "RemoteStopTransaction", cpo, emsp)
            assert remote_stop["transaction_id"] == start.transaction_id
            await station.call(call.StopTransaction(
                transaction_id=start.transaction_id, meter_stop=20000,
                timestamp="2026-03-02T10:40:00Z", id_tag=DRIVER))

            async def cdr_arrived() -> bool:
                cdrs = (await emsp.api.get("/ocpi/cdrs")).json()["items"]
                return bool(cdrs)

            await wait_until("CDR at the eMSP", cdr_arrived, cpo, emsp)
            session = await received(emsp, "sessions", session_id)
            assert session is not None and session["data"]["status"] == "COMPLETED"
            [cdr] = (await emsp.api.get("/ocpi/cdrs")).json()["items"]
            document = cdr["data"]
            assert document["cdr_token"]["uid"] == DRIVER
            assert document["cdr_location"]["evse_uid"] == EVSE_UID
            assert document["total_energy"] == 20
            # tariff_10 without parking: start fee 0.50 + 20 kWh at 0.25 (VAT 20 % and 10 %),
            # priced by the CPO's tariff engine.
            assert document["total_cost"] == {"excl_vat": 5.5, "incl_vat": 6.1}
            assert document["currency"] == "EUR"


async def test_partner_outage_and_recovery_across_a_restart(tmp_path: Path) -> None:
    """A status change while the eMSP is down is delivered once it is back, even though the
    CPO restarted in between; the partner shows OFFLINE meanwhile."""
    emsp_port = free_port()
    emsp_db = f"sqlite:///{tmp_path}/emsp.db"
    cpo_db = f"sqlite:///{tmp_path}/cpo.db"
    emsp_settings = ocpi_settings(emsp_db, "DE", "MSP", "EMSP", port=emsp_port)
    cpo_settings = ocpi_settings(cpo_db, "NL", "CPO", "CPO", ocpi_offline_after_failures=2)
    async with run_server(emsp_settings) as emsp, run_server(cpo_settings) as cpo:
        await setup_cpo(cpo)
        cpo_side, _ = await register(cpo, emsp)
        async with connect16(cpo.ocpp_url, STATION) as station:
            await station.boot()
            await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                       status="Available"))

            async def available() -> bool:
                location = await received(emsp, "locations", LOCATION)
                return location is not None and \
                    location["data"]["evses"][0]["status"] == "AVAILABLE"

            await wait_until("location at the eMSP", available, cpo, emsp)
    # The eMSP goes down; the CPO keeps working and queues the change.
    async with run_server(cpo_settings) as cpo, connect16(cpo.ocpp_url, STATION) as station:
        await station.boot()
        await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                   status="Faulted"))

        async def offline() -> bool:
            partner = (await cpo.api.get(f"/ocpi/partners/{cpo_side}")).json()
            return bool(partner["status"] == "OFFLINE")

        await wait_until("partner OFFLINE", offline, cpo)
        pending = (await cpo.api.get("/ocpi/outbox", params={"pending": True})).json()
        assert pending, "the status change must wait in the outbox"
    # The CPO restarts while the eMSP is still down, then the eMSP comes back.
    async with run_server(cpo_settings) as cpo, run_server(emsp_settings) as emsp:
        async def caught_up() -> bool:
            location = await received(emsp, "locations", LOCATION)
            return location is not None and \
                location["data"]["evses"][0]["status"] == "OUTOFORDER"

        await wait_until("the queued push after recovery", caught_up, cpo, emsp)
        partner = (await cpo.api.get(f"/ocpi/partners/{cpo_side}")).json()
        assert partner["status"] == "CONNECTED"
