"""`volthub simulate --protocol 2.0.1|2.1` against a real volthub server: the stations boot, their
transactions appear in the admin API with the energy the simulator counted, and the server's
2.x commands reach a simulated station and are answered."""

from __future__ import annotations

import argparse
import asyncio
import random
from typing import Any

import pytest

from tests.support.server import RunningServer, run_server, test_settings
from volthub.simulator.runner import _simulate, add_simulate_arguments
from volthub.simulator.v16 import StationTimings
from volthub.simulator.v201 import SimulatedStation201

FAST = StationTimings(reboot_s=0.05, unplug_s=0.05, firmware_step_s=0.05, upload_step_s=0.05)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    return parser.parse_args(list(argv))


async def listed(server: RunningServer, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await server.api.get(path, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize("protocol", ["2.0.1", "2.1"])
async def test_simulated_2x_stations_charge_through_a_real_server(
    sqlite_url: str, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with run_server(test_settings(sqlite_url)) as server:
        created = await server.api.post("/id-tokens", json={"id_token": "SIMTAG"})
        assert created.status_code in (200, 201), created.text
        args = parse(
            "--url",
            server.ocpp_url,
            "--protocol",
            protocol,
            "--stations",
            "3",
            "--connectors",
            "2",
            "--sessions",
            "1",
            "--time-scale",
            "20000",
            "--meter-interval",
            "1",
            "--seed",
            "11",
            "--id-prefix",
            f"SIM{protocol.replace('.', '')}",
            "--quiet",
        )
        code = await _simulate(args)
        out = capsys.readouterr().out
        assert code == 0, out
        assert "sessions completed     6 (0 were active at the end and stopped)" in out
        assert "CALLERRORs received    0" in out

        stations = {s["id"]: s for s in await listed(server, "/stations")}
        ids = [f"SIM{protocol.replace('.', '')}-{n:04d}" for n in (1, 2, 3)]
        for station_id in ids:
            assert stations[station_id]["ocpp_version"] == protocol
            assert stations[station_id]["vendor"] == "VoltHub"
            transactions = await listed(server, "/transactions", station_id=station_id)
            assert len(transactions) == 2
            assert {t["status"] for t in transactions} == {"completed"}
            assert {t["evse_id"] for t in transactions} == {1, 2}
            for transaction in transactions:
                assert transaction["id_token"] == "SIMTAG"
                assert transaction["energy_wh"] > 0
                assert transaction["stop_reason"] == "Local"


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_server_commands_reach_a_simulated_2x_station(sqlite_url: str, version: str) -> None:
    async with run_server(test_settings(sqlite_url)) as server:
        station = SimulatedStation201(
            "SIM-CMD", server.ocpp_url, version=version, connectors=2, timings=FAST, rng=random.Random(2)
        )
        try:
            await server.api.post("/id-tokens", json={"id_token": "APP"})
            await station.start()
            api = server.api
            started = await api.post(
                "/stations/SIM-CMD/commands/remote-start", json={"id_token": "APP", "evse_id": 2}
            )
            assert started.status_code == 200, started.text
            transactions = await _wait_listed(server, "/transactions", station_id="SIM-CMD", status="active")
            assert transactions[0]["station_transaction_id"] == station.transaction_id(2)

            heartbeat = await api.post(
                "/stations/SIM-CMD/commands/set-configuration",
                json={"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "120"},
            )
            assert heartbeat.status_code == 200, heartbeat.text
            assert station.heartbeat_interval_s == 120

            raw = await api.post(
                "/stations/SIM-CMD/ocpp/GetVariables",
                json={
                    "getVariableData": [
                        {
                            "component": {"name": "EVSE", "evse": {"id": 2}},
                            "variable": {"name": "AvailabilityState"},
                        }
                    ]
                },
            )
            assert raw.status_code == 200, raw.text
            assert raw.json()["getVariableResult"][0]["attributeValue"] == "Occupied"

            stopped = await api.post(
                "/stations/SIM-CMD/commands/remote-stop", json={"transaction_id": transactions[0]["id"]}
            )
            assert stopped.status_code == 200, stopped.text
            done = await _wait_listed(server, "/transactions", station_id="SIM-CMD", status="completed")
            assert done[0]["stop_reason"] == "Remote"
        finally:
            await station.close()


async def _wait_listed(server: RunningServer, path: str, **params: Any) -> list[dict[str, Any]]:
    async with asyncio.timeout(5.0):
        while True:
            items = await listed(server, path, **params)
            if items:
                return items
            await asyncio.sleep(0.05)
