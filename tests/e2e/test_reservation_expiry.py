"""Reservations are stored when made and expire when their time has passed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.support.server import run_server, test_settings
from tests.support.station16 import connect16


async def test_accepted_reservation_expires_after_its_expiry_time(sqlite_url: str) -> None:
    settings = test_settings(sqlite_url, reservation_check_interval_s=0.05)
    async with run_server(settings) as server, connect16(server.ocpp_url, "RES1") as station:
        await server.api.post("/id-tokens", json={"id_token": "TAGR"})
        expires = datetime.now(UTC) + timedelta(seconds=1)
        answer = await server.api.post("/stations/RES1/commands/reserve-now", json={
            "evse_id": 1, "id_token": "TAGR", "expires_at": expires.isoformat()})
        assert answer.status_code == 200 and answer.json()["status"] == "Accepted"
        reservation_id = station.received[-1][1]["reservation_id"]
        listed = (await server.api.get("/stations/RES1/reservations")).json()["items"]
        assert listed[0]["id"] == reservation_id and listed[0]["status"] == "Accepted"
        deadline = asyncio.get_running_loop().time() + 10
        status = "Accepted"
        while status != "Expired" and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            status = (await server.api.get("/stations/RES1/reservations")).json()["items"][0]["status"]
        assert status == "Expired"
