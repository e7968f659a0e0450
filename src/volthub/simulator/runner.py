"""`volthub simulate`: its options, and running N simulated stations with progress and summary."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

from volthub.simulator.stats import SimStats
from volthub.simulator.v16 import SimulatedStation16
from volthub.simulator.v201 import SimulatedStation201

SUPPORTED_PROTOCOLS = ("1.6", "2.0.1", "2.1")


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `volthub simulate` to ``parser``."""
    parser.add_argument(
        "--url",
        default="ws://127.0.0.1:8000/ocpp",
        help="CSMS OCPP endpoint; stations connect to {url}/{station_id} (default %(default)s)",
    )
    parser.add_argument("--stations", type=int, default=1, help="number of stations (default 1)")
    parser.add_argument(
        "--protocol",
        default="1.6",
        choices=SUPPORTED_PROTOCOLS,
        help="OCPP version (default 1.6); subprotocol ocpp1.6, ocpp2.0.1 or ocpp2.1",
    )
    parser.add_argument(
        "--id-prefix", default="SIM", help="station ids are PREFIX-0001, PREFIX-0002, … (default SIM)"
    )
    parser.add_argument(
        "--connectors",
        type=int,
        default=1,
        help="connectors per station (default 1); on 2.x, EVSEs of one connector each",
    )
    parser.add_argument(
        "--id-tag",
        default="SIMTAG",
        help="idTag (2.x: ISO14443 idToken) the simulated drivers present (default SIMTAG)",
    )
    parser.add_argument(
        "--password", default=None, help="HTTP Basic auth password (the user is the station id)"
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C/SIGTERM)"
    )
    parser.add_argument(
        "--sessions", type=int, default=None, help="sessions per connector, then stop (default: no limit)"
    )
    parser.add_argument(
        "--meter-interval",
        type=int,
        default=10,
        help="MeterValueSampleInterval in seconds (default 10; 0 sends no periodic meter values)",
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=int,
        default=None,
        help="heartbeat every N seconds instead of the interval the CSMS gives at boot",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="how much faster EVs charge and drivers come and go than the wall clock (default 1)",
    )
    parser.add_argument("--ramp", type=float, default=50.0, help="new connections per second (default 50)")
    parser.add_argument(
        "--offline-every",
        type=float,
        default=None,
        help="2.x: each station loses its connection about every N seconds (default never); "
        "transaction messages are queued and replayed after reconnecting",
    )
    parser.add_argument(
        "--offline-for",
        type=float,
        default=10.0,
        help="seconds each outage of --offline-every lasts (default 10)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable runs")
    parser.add_argument("--quiet", action="store_true", help="no progress line, only the summary")


def run_simulate(args: argparse.Namespace) -> int:
    """Run `volthub simulate`; return the exit code (0 ok, 1 a station never booted, 2 usage)."""
    problem = _check(args)
    if problem is not None:
        print(f"volthub simulate: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The ocpp library logs every frame at INFO; thousands of stations would drown the console.
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    return _run(_simulate(args))


def _check(args: argparse.Namespace) -> str | None:
    if args.protocol not in SUPPORTED_PROTOCOLS:
        return f"OCPP {args.protocol} is not supported (supported: {', '.join(SUPPORTED_PROTOCOLS)})"
    if args.stations < 1 or args.connectors < 1:
        return "--stations and --connectors must be at least 1"
    if args.time_scale <= 0 or args.ramp <= 0:
        return "--time-scale and --ramp must be positive"
    if args.meter_interval < 0 or (args.heartbeat_interval is not None and args.heartbeat_interval < 1):
        return "--meter-interval must be >= 0 and --heartbeat-interval >= 1"
    if args.sessions is not None and args.sessions < 1:
        return "--sessions must be at least 1"
    if args.duration is not None and args.duration <= 0:
        return "--duration must be positive"
    offline_every = getattr(args, "offline_every", None)
    if offline_every is not None and (offline_every <= 0 or args.offline_for <= 0):
        return "--offline-every and --offline-for must be positive"
    if offline_every is not None and args.protocol == "1.6":
        return "--offline-every needs --protocol 2.0.1 or 2.1"
    return None


def _run(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on uvloop when it is installed, else on asyncio's own loop."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a dependency, but optional here
        pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main)


def _make_station(
    args: argparse.Namespace, number: int, rng: random.Random, stats: SimStats
) -> SimulatedStation16 | SimulatedStation201:
    station_id = f"{args.id_prefix}-{number:04d}"
    common: dict[str, Any] = {
        "connectors": args.connectors,
        "password": args.password,
        "id_tag": args.id_tag,
        "meter_interval_s": args.meter_interval,
        "heartbeat_interval_s": args.heartbeat_interval,
        "time_scale": args.time_scale,
        "rng": rng,
        "stats": stats,
        "record_sent_calls": False,
    }
    if args.protocol == "1.6":
        return SimulatedStation16(station_id, args.url, **common)
    return SimulatedStation201(
        station_id,
        args.url,
        version=args.protocol,
        offline_every_s=getattr(args, "offline_every", None),
        offline_for_s=getattr(args, "offline_for", 10.0),
        **common,
    )


async def _simulate(args: argparse.Namespace) -> int:
    stats = SimStats(stations=args.stations)
    master = random.Random(args.seed)
    stations = [
        _make_station(args, number, random.Random(master.getrandbits(64)), stats)
        for number in range(1, args.stations + 1)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)

    started = time.monotonic()
    runs: list[asyncio.Task[None]] = []

    async def launch() -> None:
        for station in stations:
            if stop.is_set():
                return
            runs.append(asyncio.create_task(station.run(sessions_per_connector=args.sessions)))
            await asyncio.sleep(1.0 / args.ramp)

    async def all_done() -> None:
        await launcher
        if runs:
            await asyncio.gather(*runs, return_exceptions=True)

    launcher = asyncio.create_task(launch())
    progress = None if args.quiet else asyncio.create_task(_show_progress(stats, started, sys.stderr))
    waits: list[asyncio.Future[Any]] = [asyncio.create_task(stop.wait())]
    if args.sessions is not None:
        waits.append(asyncio.create_task(all_done()))
    await asyncio.wait(waits, timeout=args.duration, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()

    launcher.cancel()
    if progress is not None:
        progress.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await progress
        print(file=sys.stderr)
    stats.mark_end()
    # A second Ctrl-C skips the graceful part.
    stop.clear()
    shutdown: asyncio.Future[Any] = asyncio.gather(
        *(s.shutdown(stop_sessions=True, timeout_s=10.0) for s in stations)
    )
    waiter: asyncio.Future[Any] = asyncio.create_task(stop.wait())
    await asyncio.wait([shutdown, waiter], timeout=20.0, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if not shutdown.done():
        shutdown.cancel()
        await asyncio.gather(*(s.close() for s in stations), return_exceptions=True)
    for task in runs:
        task.cancel()
    await asyncio.gather(*runs, return_exceptions=True)

    print(stats.summary(time.monotonic() - started))
    never_booted = [s.station_id for s in stations if s.boot_status != "Accepted"]
    if never_booted:
        shown = ", ".join(never_booted[:5]) + (" …" if len(never_booted) > 5 else "")
        print(f"  never accepted         {len(never_booted)}: {shown}")
        return 1
    return 0


async def _show_progress(stats: SimStats, started: float, out: TextIO) -> None:
    """One line refreshed every second on a terminal; a line every 10 s otherwise."""
    interactive = out.isatty()
    tick = 0
    while True:
        await asyncio.sleep(1.0)
        tick += 1
        line = stats.progress_line(time.monotonic() - started)
        if interactive:
            out.write("\r\x1b[K" + line)
            out.flush()
        elif tick % 10 == 0:
            out.write(line + "\n")
            out.flush()
