"""A first end-to-end pass: boot, heartbeat, a transaction, over a real WebSocket."""

from __future__ import annotations

from ocpp.v16 import call

from tests.support.server import RunningServer
from tests.support.station16 import connect16


async def test_boot_heartbeat_and_charging_session(server: RunningServer) -> None:
    await server.api.post("/id-tokens", json={"id_token": "TAG1"})
    async with connect16(server.ocpp_url, "CP1") as station:
        hb = await station.call(call.Heartbeat())
        assert hb.current_time.endswith("Z")
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="TAG1", meter_start=1000, timestamp="2026-01-01T10:00:00Z"))
        assert start.id_tag_info["status"] == "Accepted"
        stop = await station.call(call.StopTransaction(
            meter_stop=8500, timestamp="2026-01-01T11:00:00Z", transaction_id=start.transaction_id))
        assert stop.id_tag_info is None
    txn = (await server.api.get(f"/transactions/{start.transaction_id}")).json()
    assert txn["energy_wh"] == 7500
    assert txn["status"] == "completed"
    assert txn["station_id"] == "CP1"
