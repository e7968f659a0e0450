"""OCPP load benchmark: N lean WebSocket stations against volthub; prints throughput and latency.

    python benchmarks/ocpp_load.py --stations 1000 --duration 30 --start-server
    python benchmarks/ocpp_load.py --stations 1000 --duration 30 --start-server --protocol 2.0.1
    python benchmarks/ocpp_load.py --stations 100 --url ws://127.0.0.1:8000/ocpp --server-pid 1234

Each simulated station is a raw ``websockets`` client (not the ``ocpp`` library, whose per-message
schema validation would make the generator the bottleneck), spread over worker processes. A
station connects, boots, reports its connector statuses, then loops over a realistic session —
Heartbeat, StatusNotification, Authorize, StartTransaction, MeterValues x10, StopTransaction
(on 2.x: TransactionEvent Started, Updated x10, Ended) — with exactly one call outstanding,
timing every round trip. Server memory is read with psutil.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

CALL, CALLRESULT, CALLERROR = 2, 3, 4
CALL_TIMEOUT_S = 30.0
METER_VALUES_PER_SESSION = 10


# --- one station ------------------------------------------------------------------------------


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


@dataclass
class Tally:
    """What one worker saw; round trips in milliseconds per action."""

    round_trips_ms: dict[str, list[float]] = field(default_factory=dict)
    #: time.monotonic() when the last timed call completed
    last_done: float = 0.0
    call_errors: int = 0
    timeouts: int = 0
    connection_lost: int = 0
    server_calls: int = 0

    def record(self, action: str, rtt_ms: float, done: float) -> None:
        self.round_trips_ms.setdefault(action, []).append(rtt_ms)
        self.last_done = max(self.last_done, done)


class CallFailed(Exception):
    pass


class RawStation:
    """A lean 1.6 station: JSON frames by hand, one call at a time."""

    subprotocol = "ocpp1.6"

    def __init__(
        self, station_id: str, url: str, id_tag: str, password: str | None, rng: random.Random
    ) -> None:
        self.station_id = station_id
        self.url = url
        self.id_tag = id_tag
        self.password = password
        self.rng = rng
        self.ws: ClientConnection | None = None
        self.sequence = 0
        self.meter_wh = rng.randrange(0, 5_000_000)
        #: Calls issued from this moment on are not timed (the tail after the load phase).
        self.deadline = float("inf")
        self.think_s = 0.0

    async def connect(self) -> None:
        headers = {}
        if self.password:
            import base64

            token = base64.b64encode(f"{self.station_id}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self.ws = await connect(
            f"{self.url.rstrip('/')}/{self.station_id}",
            subprotocols=[Subprotocol(self.subprotocol)],
            additional_headers=headers,
            compression=None,
            proxy=None,
            ping_interval=None,
            open_timeout=60,
            max_size=1 << 20,
        )
        if self.ws.subprotocol != self.subprotocol:
            raise CallFailed(f"the server did not select {self.subprotocol}")

    async def call(self, action: str, payload: dict[str, Any], tally: Tally | None) -> dict[str, Any]:
        """Send one CALL and wait for its answer; the round trip counts in ``tally`` when the
        call went out before ``deadline``."""
        ws = self.ws
        assert ws is not None
        if self.think_s:
            await asyncio.sleep(self.think_s)
        self.sequence += 1
        unique_id = str(self.sequence)
        frame = orjson.dumps([CALL, unique_id, action, payload])
        started = time.perf_counter()
        timed = tally if tally is not None and time.monotonic() < self.deadline else None
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                await ws.send(frame, text=True)
                while True:
                    message = orjson.loads(await ws.recv(decode=False))
                    if message[0] == CALL:
                        await self._refuse(message, tally)
                        continue
                    if message[1] == unique_id:
                        break
        except TimeoutError:
            if tally is not None:
                tally.timeouts += 1
            raise CallFailed(f"{action} timed out") from None
        if timed is not None:
            timed.record(action, (time.perf_counter() - started) * 1000.0, time.monotonic())
        if message[0] == CALLERROR:
            if tally is not None:
                tally.call_errors += 1
            raise CallFailed(f"{action}: {message[2]} {message[3]}")
        result: dict[str, Any] = message[2]
        return result

    async def _refuse(self, message: list[Any], tally: Tally | None) -> None:
        # The load stations implement no CSMS-initiated command.
        if tally is not None:
            tally.server_calls += 1
        assert self.ws is not None
        await self.ws.send(orjson.dumps([CALLERROR, message[1], "NotImplemented", "", {}]), text=True)

    async def boot(self, tally: Tally | None) -> None:
        result = await self.call(
            "BootNotification",
            {
                "chargePointVendor": "VoltHub",
                "chargePointModel": "LoadStation",
                "chargePointSerialNumber": self.station_id[:25],
                "firmwareVersion": "bench-1.0",
            },
            tally,
        )
        if result.get("status") != "Accepted":
            raise CallFailed(f"boot {result.get('status')}")
        for connector_id in (0, 1):
            await self.status(connector_id, "Available", tally)

    async def status(self, connector_id: int, status: str, tally: Tally | None) -> None:
        await self.call(
            "StatusNotification",
            {
                "connectorId": connector_id,
                "errorCode": "NoError",
                "status": status,
                "timestamp": _timestamp(),
            },
            tally,
        )

    def meter_value(self, context: str, power_w: float, soc: float) -> dict[str, Any]:
        current = f"{power_w / 690.0:.1f}"
        sampled = [
            {
                "value": str(self.meter_wh),
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
                "location": "Outlet",
            },
            {"value": f"{power_w:.0f}", "context": context, "measurand": "Power.Active.Import", "unit": "W"},
            *(
                {"value": current, "context": context, "measurand": "Current.Import", "unit": "A", "phase": p}
                for p in ("L1", "L2", "L3")
            ),
            *(
                {
                    "value": f"{229.0 + self.rng.random() * 2:.1f}",
                    "context": context,
                    "measurand": "Voltage",
                    "unit": "V",
                    "phase": f"{p}-N",
                }
                for p in ("L1", "L2", "L3")
            ),
            {
                "value": f"{soc:.1f}",
                "context": context,
                "measurand": "SoC",
                "unit": "Percent",
                "location": "EV",
            },
        ]
        return {"timestamp": _timestamp(), "sampledValue": sampled}

    async def session(self, tally: Tally) -> None:
        """One charging session's messages; past the deadline it cuts the meter values short
        and closes the transaction (untimed)."""
        await self.call("Heartbeat", {}, tally)
        await self.status(1, "Preparing", tally)
        await self.call("Authorize", {"idTag": self.id_tag}, tally)
        started = await self.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": self.id_tag, "meterStart": self.meter_wh, "timestamp": _timestamp()},
            tally,
        )
        transaction_id = int(started["transactionId"])
        await self.status(1, "Charging", tally)
        power_w, soc = 11_000.0, self.rng.uniform(10, 60)
        for _ in range(METER_VALUES_PER_SESSION):
            if time.monotonic() >= self.deadline:
                break
            self.meter_wh += 30
            soc = min(100.0, soc + 0.05)
            await self.call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": transaction_id,
                    "meterValue": [self.meter_value("Sample.Periodic", power_w, soc)],
                },
                tally,
            )
        await self.call(
            "StopTransaction",
            {
                "transactionId": transaction_id,
                "meterStop": self.meter_wh,
                "timestamp": _timestamp(),
                "reason": "Local",
                "idTag": self.id_tag,
                "transactionData": [self.meter_value("Transaction.End", 0.0, soc)],
            },
            tally,
        )
        await self.status(1, "Finishing", tally)
        await self.status(1, "Available", tally)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


# --- a worker process -------------------------------------------------------------------------


class RawStation2x(RawStation):
    """A lean 2.0.1/2.1 station: the same session as TransactionEvents."""

    def __init__(self, *args: Any, protocol: str = "2.0.1", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subprotocol = f"ocpp{protocol}"

    async def boot(self, tally: Tally | None) -> None:
        result = await self.call("BootNotification", {
            "reason": "PowerUp",
            "chargingStation": {"vendorName": "VoltHub", "model": "LoadStation",
                                "serialNumber": self.station_id[:25],
                                "firmwareVersion": "bench-1.0"},
        }, tally)
        if result.get("status") != "Accepted":
            raise CallFailed(f"boot {result.get('status')}")
        await self.status(1, "Available", tally)

    async def status(self, connector_id: int, status: str, tally: Tally | None) -> None:
        await self.call("StatusNotification", {
            "timestamp": _timestamp(), "connectorStatus": status, "evseId": 1,
            "connectorId": connector_id or 1,
        }, tally)

    def meter_value(self, context: str, power_w: float, soc: float) -> dict[str, Any]:
        value = super().meter_value(context, power_w, soc)
        for sample in value["sampledValue"]:
            sample["value"] = float(sample["value"])
            sample["unitOfMeasure"] = {"unit": sample.pop("unit")}
            if sample["unitOfMeasure"]["unit"] == "Percent":
                sample["unitOfMeasure"]["unit"] = "Percent"
        return value

    async def session(self, tally: Tally) -> None:
        await self.call("Heartbeat", {}, tally)
        await self.status(1, "Occupied", tally)
        token = {"idToken": self.id_tag, "type": "ISO14443"}
        await self.call("Authorize", {"idToken": token}, tally)
        self.sequence += 1
        transaction_id = f"{self.station_id}-{self.sequence}"
        seq_no = 0

        def event(event_type: str, trigger: str, context: str, power_w: float,
                  **extra: Any) -> dict[str, Any]:
            return {"eventType": event_type, "timestamp": _timestamp(), "triggerReason": trigger,
                    "seqNo": seq_no, "transactionInfo": {"transactionId": transaction_id},
                    "meterValue": [self.meter_value(context, power_w, soc)], **extra}

        power_w, soc = 11_000.0, self.rng.uniform(10, 60)
        await self.call("TransactionEvent", event(
            "Started", "Authorized", "Transaction.Begin", power_w, idToken=token,
            evse={"id": 1, "connectorId": 1}), tally)
        for _ in range(METER_VALUES_PER_SESSION):
            if time.monotonic() >= self.deadline:
                break
            seq_no += 1
            self.meter_wh += 30
            soc = min(100.0, soc + 0.05)
            await self.call("TransactionEvent", event(
                "Updated", "MeterValuePeriodic", "Sample.Periodic", power_w), tally)
        seq_no += 1
        ended = event("Ended", "StopAuthorized", "Transaction.End", 0.0, idToken=token)
        ended["transactionInfo"]["stoppedReason"] = "Local"
        await self.call("TransactionEvent", ended, tally)
        await self.status(1, "Available", tally)


@dataclass
class WorkerPlan:
    index: int
    station_ids: list[str]
    url: str
    id_tag: str
    password: str | None
    ramp_per_s: float
    duration_s: float
    think_s: float
    seed: int
    protocol: str = "1.6"


def worker_main(plan: WorkerPlan, ready: Any, go: MpEvent, results: Any) -> None:
    """Entry point of a worker process: connect its stations, wait for go, load, report."""
    try:
        import uvloop

        uvloop.run(_worker(plan, ready, go, results))
    except ImportError:  # pragma: no cover - uvloop is a dependency of volthub
        asyncio.run(_worker(plan, ready, go, results))


async def _worker(plan: WorkerPlan, ready: Any, go: MpEvent, results: Any) -> None:
    rng = random.Random(plan.seed)
    stations = [
        RawStation(sid, plan.url, plan.id_tag, plan.password, random.Random(rng.random()))
        if plan.protocol == "1.6" else
        RawStation2x(sid, plan.url, plan.id_tag, plan.password, random.Random(rng.random()),
                     protocol=plan.protocol)
        for sid in plan.station_ids
    ]
    boot_tally = Tally()
    errors: list[str] = []

    async def bring_up(station: RawStation) -> bool:
        try:
            await station.connect()
            await station.boot(boot_tally)
            return True
        except (OSError, WebSocketException, CallFailed, TimeoutError) as exc:
            errors.append(f"{station.station_id}: {exc!r}"[:200])
            await station.close()
            return False

    started = time.monotonic()
    ups = []
    for station in stations:
        ups.append(asyncio.create_task(bring_up(station)))
        await asyncio.sleep(1.0 / plan.ramp_per_s)
    up = await asyncio.gather(*ups)
    online = [s for s, ok in zip(stations, up, strict=True) if ok]
    ready.put((plan.index, len(online), time.monotonic() - started, boot_tally.round_trips_ms, errors[:5]))

    await asyncio.to_thread(go.wait)
    tally = Tally()
    cpu_started = time.process_time()
    load_started = time.monotonic()
    deadline = load_started + plan.duration_s

    async def load(station: RawStation) -> None:
        station.deadline = deadline
        station.think_s = plan.think_s
        try:
            while time.monotonic() < deadline:
                await station.session(tally)
        except (OSError, WebSocketException):
            tally.connection_lost += 1
        except CallFailed:
            pass  # counted as a CALLERROR or timeout; the station stops here

    await asyncio.gather(*(load(s) for s in online))
    # Throughput counts the calls sent during the load phase, up to the last one's answer.
    elapsed_s = max(tally.last_done, load_started) - load_started
    results.put((plan.index, tally, elapsed_s, time.process_time() - cpu_started))
    await asyncio.gather(*(s.close() for s in online))


# --- the server -------------------------------------------------------------------------------


class ServerProcess:
    """`volthub serve` on a free port with a throwaway SQLite database."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="volthub-bench-"))
        self.database = self.folder / "bench.db"
        self.log_path = self.folder / "server.log"
        self.admin_token = secrets.token_urlsafe(24)
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_level: str, database_url: str | None) -> None:
        env = dict(os.environ)
        env.update(
            VOLTHUB_DATABASE_URL=database_url or f"sqlite:///{self.database}",
            VOLTHUB_ADMIN_TOKEN=self.admin_token,
            VOLTHUB_LOG_LEVEL=log_level,
        )
        command = [
            sys.executable,
            "-m",
            "volthub.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"volthub serve exited early; see {self.log_path}:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.http_base}/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"volthub serve did not become healthy in 60 s; see {self.log_path}")

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_id_token(http_base: str, admin_token: str, id_tag: str) -> None:
    """Register the benchmark's idTag, so that Authorize and StartTransaction accept it."""
    request = urllib.request.Request(
        f"{http_base}/api/v1/id-tokens",
        data=json.dumps({"id_token": id_tag}).encode(),
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # already there is fine
            print(f"warning: creating idTag {id_tag} answered HTTP {exc.code}", file=sys.stderr)


class Memory:
    """Resident memory of the server process (and any children), via psutil."""

    def __init__(self, pid: int | None) -> None:
        self.process: Any = None
        if pid is None:
            return
        try:
            import psutil  # type: ignore[import-untyped]
        except ImportError:
            print("warning: psutil is not installed; no server memory figures", file=sys.stderr)
            return
        self.process = psutil.Process(pid)

    def rss_bytes(self) -> int | None:
        if self.process is None:
            return None
        processes = [self.process, *self.process.children(recursive=True)]
        return sum(int(p.memory_info().rss) for p in processes)

    def cpu_seconds(self) -> float | None:
        if self.process is None:
            return None
        times = self.process.cpu_times()
        return float(times.user + times.system)


# --- the run ----------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load after all connected")
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ocpp")
    parser.add_argument("--start-server", action="store_true", help="run `volthub serve` here on a free port")
    parser.add_argument("--server-pid", type=int, help="pid of a server started elsewhere, for its memory")
    parser.add_argument(
        "--admin-token", help="admin token of a server started elsewhere (to create the idTag)"
    )
    parser.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="generator processes"
    )
    parser.add_argument("--ramp", type=float, default=200.0, help="new connections per second, all workers")
    parser.add_argument("--id-prefix", default="BENCH")
    parser.add_argument("--id-tag", default="BENCHTAG")
    parser.add_argument("--password", help="HTTP Basic password of every station")
    parser.add_argument("--server-log-level", default="WARNING")
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="pause before each call (default 0: saturate the server)"
    )
    parser.add_argument(
        "--database-url",
        help="with --start-server: database of the server (default: a temporary SQLite file)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--protocol", choices=["1.6", "2.0.1", "2.1"], default="1.6")
    args = parser.parse_args(argv)
    if args.stations < 1 or args.workers < 1 or args.duration <= 0 or args.ramp <= 0:
        parser.error("--stations, --workers, --duration and --ramp must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = ServerProcess() if args.start_server else None
    try:
        if server is not None:
            server.start(args.server_log_level, args.database_url)
            url = f"ws://127.0.0.1:{server.port}/ocpp"
            pid: int | None = server.process.pid if server.process else None
            create_id_token(server.http_base, server.admin_token, args.id_tag)
        else:
            url, pid = args.url, args.server_pid
            if args.admin_token:
                parts = urlsplit(url)
                scheme = "https" if parts.scheme == "wss" else "http"
                create_id_token(f"{scheme}://{parts.netloc}", args.admin_token, args.id_tag)
        return _run(args, url, pid, server)
    finally:
        if server is not None:
            server.stop()


def _run(args: argparse.Namespace, url: str, pid: int | None, server: ServerProcess | None) -> int:
    memory = Memory(pid)
    time.sleep(1.0)  # let the server settle after start-up
    rss_before = memory.rss_bytes()

    ids = [f"{args.id_prefix}-{n:05d}" for n in range(1, args.stations + 1)]
    workers = min(args.workers, args.stations)
    context = multiprocessing.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    go = context.Event()
    plans = [
        WorkerPlan(
            i,
            ids[i::workers],
            url,
            args.id_tag,
            args.password,
            args.ramp / workers,
            args.duration,
            args.think_ms / 1000.0,
            args.seed * 1000 + i,
            args.protocol,
        )
        for i in range(workers)
    ]
    processes = [
        context.Process(target=worker_main, args=(plan, ready, go, results), daemon=True) for plan in plans
    ]
    for process in processes:
        process.start()

    print(
        f"connecting {args.stations} stations to {url} ({workers} worker process(es), {args.ramp:.0f}/s)...",
        file=sys.stderr,
    )
    connect_timeout = args.stations / args.ramp + 120
    connected = 0
    connect_s = 0.0
    boot_rtts: list[float] = []
    errors: list[str] = []
    for _ in processes:
        try:
            _, count, seconds, rtts, worker_errors = ready.get(timeout=connect_timeout)
        except queue.Empty:
            print("error: workers did not finish connecting", file=sys.stderr)
            go.set()
            return 1
        connected += count
        connect_s = max(connect_s, seconds)
        for values in rtts.values():
            boot_rtts.extend(values)
        errors.extend(worker_errors)
    time.sleep(2.0)  # connections settled before measuring
    rss_after = memory.rss_bytes()
    cpu_before = memory.cpu_seconds()

    print(f"{connected} connected; loading for {args.duration:.0f} s...", file=sys.stderr)
    go.set()
    tally = Tally()
    elapsed_s = 0.0
    generator_cpu_s = 0.0
    for _ in processes:
        try:
            _, part, seconds, cpu_s = results.get(timeout=args.duration + CALL_TIMEOUT_S + 60)
        except queue.Empty:
            print("error: a worker did not report", file=sys.stderr)
            return 1
        for action, values in part.round_trips_ms.items():
            tally.round_trips_ms.setdefault(action, []).extend(values)
        tally.call_errors += part.call_errors
        tally.timeouts += part.timeouts
        tally.connection_lost += part.connection_lost
        tally.server_calls += part.server_calls
        elapsed_s = max(elapsed_s, seconds)
        generator_cpu_s += cpu_s
    cpu_after = memory.cpu_seconds()
    for process in processes:
        process.join(timeout=30)

    report(
        args,
        url,
        server,
        workers,
        connected,
        connect_s,
        boot_rtts,
        errors,
        tally,
        elapsed_s,
        rss_before,
        rss_after,
        cpu_before,
        cpu_after,
        generator_cpu_s,
    )
    return 0 if connected == args.stations and tally.call_errors == 0 and tally.timeouts == 0 else 1


def report(
    args: argparse.Namespace,
    url: str,
    server: ServerProcess | None,
    workers: int,
    connected: int,
    connect_s: float,
    boot_rtts: list[float],
    errors: list[str],
    tally: Tally,
    elapsed_s: float,
    rss_before: int | None,
    rss_after: int | None,
    cpu_before: float | None,
    cpu_after: float | None,
    generator_cpu_s: float,
) -> None:
    everything = sorted(v for values in tally.round_trips_ms.values() for v in values)
    calls = len(everything)
    rate = calls / elapsed_s if elapsed_s > 0 else 0.0
    out: Callable[[str], None] = print
    out("volthub OCPP load benchmark")
    database = "PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite"
    origin = (
        f"started here (pid {server.process.pid}, {database})" if server and server.process else "external"
    )
    out(f"  server               {url} [{origin}]")
    out(
        f"  load generator       {workers} process(es) on the same {os.cpu_count()}-core machine: "
        "they share the CPU with the server"
    )
    out(
        f"  stations connected   {connected}/{args.stations} "
        f"(connect + BootNotification + 2 StatusNotification in {connect_s:.1f} s)"
    )
    if boot_rtts:
        boot_rtts.sort()
        out(
            f"  boot-phase calls     {len(boot_rtts)}, round trip ms p50 {percentile(boot_rtts, 0.5):.1f}"
            f" p95 {percentile(boot_rtts, 0.95):.1f} p99 {percentile(boot_rtts, 0.99):.1f}"
        )
    pace = f", {args.think_ms:.0f} ms pause before each call" if args.think_ms else ""
    out(f"  load phase           {elapsed_s:.1f} s, one call outstanding per station{pace}")
    out(f"  total OCPP calls     {calls}")
    out(f"  calls/s              {rate:.0f}")
    if everything:
        p50, p95, p99 = (percentile(everything, f) for f in (0.5, 0.95, 0.99))
        out(f"  round trip ms        p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {everything[-1]:.1f}")
    out(f"  CALLERRORs           {tally.call_errors}")
    out(f"  timeouts             {tally.timeouts} (>{CALL_TIMEOUT_S:.0f} s)")
    out(f"  connections lost     {tally.connection_lost}")
    if rss_before is not None and rss_after is not None and connected:
        per_station_kib = (rss_after - rss_before) / connected / 1024
        before_mib, after_mib = rss_before / 2**20, rss_after / 2**20
        out(f"  server RSS           {before_mib:.1f} MiB before, {after_mib:.1f} MiB with all connected")
        out(f"  server RSS/station   {per_station_kib:.1f} KiB")
    else:
        out("  server RSS           n/a (use --start-server or --server-pid)")
    if cpu_before is not None and cpu_after is not None and elapsed_s > 0:
        out(
            f"  CPU during load      server {100 * (cpu_after - cpu_before) / elapsed_s:.0f}% of a core, "
            f"generator {100 * generator_cpu_s / elapsed_s:.0f}%"
        )
    if tally.server_calls:
        out(f"  CSMS calls refused   {tally.server_calls} (the load stations implement no commands)")
    out("  per action           calls      p50 ms    p95 ms    p99 ms")
    for action, values in sorted(tally.round_trips_ms.items(), key=lambda item: -len(item[1])):
        values.sort()
        p50, p95, p99 = (percentile(values, f) for f in (0.5, 0.95, 0.99))
        out(f"    {action:<20} {len(values):>7} {p50:>9.1f} {p95:>9.1f} {p99:>9.1f}")
    for error in errors:
        out(f"  connect error        {error}")


if __name__ == "__main__":
    sys.exit(main())
