"""OCPI push throughput and latency: station status changes → EVSE PATCHes at an eMSP.

    python benchmarks/ocpi_push.py [--stations 50] [--changes 20] [--database-url URL]

Runs one volthub server (SQLite in a temporary folder unless --database-url), an eMSP stand-in
that records every request, N raw OCPP 1.6 stations in one location, each sending --changes
StatusNotifications alternating Available/Charging. Every change is a domain event, an outbox
row, and a PATCH to the eMSP. Prints pushes/s and the time from StatusNotification sent to
PATCH received (p50/p99). Server, stations and eMSP share this process and one core, so the
figures are a lower bound.
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


async def station(url: str, station_id: str, changes: int,
                  sent: dict[tuple[str, int], float]) -> None:
    async with websockets.connect(f"{url}/{station_id}", subprotocols=["ocpp1.6"]) as ws:
        async def call(n: int, action: str, payload: dict[str, Any]) -> None:
            await ws.send(json.dumps([2, f"{station_id}-{n}", action, payload]))
            await ws.recv()

        await call(0, "BootNotification", {"chargePointVendor": "bench",
                                           "chargePointModel": "bench"})
        for n in range(changes):
            status = "Charging" if n % 2 else "Available"
            sent[(station_id, n)] = time.perf_counter()
            await call(n + 1, "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                     "status": status})


async def run(stations: int, changes: int, database_url: str) -> None:
    peer = StandInPeer()
    arrived: dict[tuple[str, int], float] = {}
    seen: dict[str, int] = {}
    original = peer._handle

    async def timed(request: Any) -> Any:
        answer = await original(request)
        path = request.url.path
        if request.method == "PATCH":
            uid = path.rsplit("/", 1)[-1]
            station_id = uid.rsplit("-", 1)[0]
            n = seen.get(station_id, 1)  # change 0 of each EVSE arrives as a whole-Location PUT
            seen[station_id] = n + 1
            arrived[(station_id, n)] = time.perf_counter()
        return answer

    peer._handle = timed  # type: ignore[method-assign]
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
            sent: dict[tuple[str, int], float] = {}
            began = time.perf_counter()
            await asyncio.gather(*(station(server.ocpp_url, f"B{i:04d}", changes, sent)
                                   for i in range(stations)))
            expected = stations * (changes - 1)
            for _ in range(2400):  # at most 120 s
                if len(arrived) >= expected:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - began
            latencies = sorted(arrived[k] - sent[k] for k in arrived if k in sent)
            print(f"stations x changes:     {stations} x {changes}")
            print(f"PATCHes received:       {len(arrived)} of {expected}")
            print(f"throughput:             {len(arrived) / elapsed:,.1f} pushes/s "
                  f"(status sent to PATCH received, {elapsed:.1f} s)")
            if latencies:
                p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
                print(f"latency p50/p99:        {statistics.median(latencies) * 1000:.0f} / "
                      f"{p99 * 1000:.0f} ms")
    finally:
        await peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='volthub-bench-')}/b.db"
    asyncio.run(run(args.stations, args.changes, url))


if __name__ == "__main__":
    main()
