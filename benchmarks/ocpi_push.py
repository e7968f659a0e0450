"""OCPI push latency and throughput: station status changes → EVSE status at an eMSP.

    python benchmarks/ocpi_push.py [--stations 50] [--changes 20] [--interval-s 1.0]

Runs one volthub server (SQLite in a temporary folder unless --database-url), an eMSP stand-in
that records every Location PUT and EVSE PATCH, and N raw OCPP 1.6 stations in one location;
each station sends --changes StatusNotifications alternating Available/Charging, one every
--interval-s. Every change is a domain event, an outbox row and a push. Prints the pushes
received per second, the time from a StatusNotification sent to the eMSP holding that status
(p50/p99), and whether the eMSP ends with every EVSE's last status. Changes closer together than
the pipeline's latency may be merged (the push carries the current status); the final state is
what must be right. Server, stations and eMSP share this process and one core, so the figures
are a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.ocpi import ocpi_settings
from tests.support.ocpi_peer import StandInPeer, add_partner
from tests.support.server import run_server

LOCATION = "LOC-BENCH"
OCPI_STATUS = {"Available": "AVAILABLE", "Charging": "CHARGING"}


class Recorder:
    """What the eMSP learnt, per EVSE uid: (arrival time, status) in arrival order."""

    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[float, str]]] = {}
        self.pushes = 0

    def record(self, method: str, body: Any, path: str) -> None:
        now = time.perf_counter()
        self.pushes += 1
        if method == "PATCH" and isinstance(body, dict) and "status" in body:
            self.seen.setdefault(path.rsplit("/", 1)[-1], []).append((now, body["status"]))
        elif method == "PUT" and isinstance(body, dict):
            for evse in body.get("evses", []):
                self.seen.setdefault(evse["uid"], []).append((now, evse["status"]))

    def latency(self, uid: str, status: str, sent_at: float) -> float | None:
        for at, seen_status in self.seen.get(uid, []):
            if at >= sent_at and seen_status == status:
                return at - sent_at
        return None


async def station(url: str, station_id: str, changes: int, interval_s: float,
                  sent: list[tuple[str, str, float]], measured: asyncio.Event) -> None:
    """Sends its changes, then stays connected until the measurement is over (a station that
    disconnects is UNKNOWN in OCPI, which would be pushed too)."""
    async with websockets.connect(f"{url}/{station_id}", subprotocols=["ocpp1.6"]) as ws:
        async def call(n: int, action: str, payload: dict[str, Any]) -> None:
            await ws.send(json.dumps([2, f"{station_id}-{n}", action, payload]))
            await ws.recv()

        await call(0, "BootNotification", {"chargePointVendor": "bench",
                                           "chargePointModel": "bench"})
        for n in range(changes):
            status = "Charging" if n % 2 else "Available"
            sent.append((f"{station_id}-1", OCPI_STATUS[status], time.perf_counter()))
            await call(n + 1, "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                     "status": status})
            await asyncio.sleep(interval_s)
        await measured.wait()


async def run(stations: int, changes: int, interval_s: float, database_url: str) -> None:
    peer = StandInPeer()
    recorder = Recorder()
    original = peer._handle

    async def recording(request: Any) -> Any:
        answer = await original(request)
        last = peer.received[-1]
        recorder.record(last.method, last.body, last.path)
        return answer

    peer._handle = recording  # type: ignore[method-assign]
    await peer.start()
    settings = ocpi_settings(database_url, "NL", "VHB", "CPO", log_level="WARNING")
    try:
        async with run_server(settings) as server:
            await add_partner(server.container, peer)
            location = {"id": LOCATION, "name": "bench", "address": "x", "city": "x",
                        "country": "NLD", "latitude": 52.0, "longitude": 4.0}
            await server.api.post("/locations", json=location)
            for i in range(stations):
                await server.api.post("/stations", json={"id": f"B{i:04d}",
                                                          "location_id": LOCATION})
            sent: list[tuple[str, str, float]] = []
            measured = asyncio.Event()
            began = time.perf_counter()
            stations_done = asyncio.gather(*(
                station(server.ocpp_url, f"B{i:04d}", changes, interval_s, sent, measured)
                for i in range(stations)))
            await asyncio.sleep(changes * interval_s)
            for _ in range(1200):  # stragglers: at most 60 s more
                if len(sent) >= stations * changes:
                    break
                await asyncio.sleep(0.05)
            last_status = {uid: status for uid, status, _ in sent}
            for _ in range(600):  # the eMSP converges within 30 s or the run says so
                if all(recorder.seen.get(uid, [(0.0, "")])[-1][1] == status
                       for uid, status in last_status.items()):
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - began
            latencies = sorted(x for uid, status, at in sent
                               if (x := recorder.latency(uid, status, at)) is not None)
            converged = sum(recorder.seen.get(uid, [(0.0, "")])[-1][1] == status
                            for uid, status in last_status.items())
            print(f"stations x changes:     {stations} x {changes}, one every {interval_s} s "
                  f"({stations / interval_s:,.0f} changes/s offered)")
            print(f"pushes received:        {recorder.pushes} in {elapsed:.1f} s "
                  f"({recorder.pushes / elapsed:,.1f} pushes/s)")
            print(f"changes seen at eMSP:   {len(latencies)} of {len(sent)}")
            if latencies:
                p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
                print(f"latency p50/p99:        {statistics.median(latencies) * 1000:.0f} / "
                      f"{p99 * 1000:.0f} ms (status sent → eMSP has it)")
            print(f"final state correct:    {converged} of {len(last_status)} EVSEs")
            measured.set()
            await stations_done
    finally:
        await peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--interval-s", type=float, default=1.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='volthub-bench-')}/b.db"
    asyncio.run(run(args.stations, args.changes, args.interval_s, url))


if __name__ == "__main__":
    main()
