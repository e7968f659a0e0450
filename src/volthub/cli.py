"""The `volthub` command: serve, db upgrade, simulate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Generator
from typing import Any

from volthub.config import Settings


def _stop_all(servers: list[Any]) -> None:
    for server in servers:
        server.should_exit = True


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield  # signals are handled once for all listeners in run_all()

    from volthub.app import create_app, create_ocpp_app
    from volthub.logs import configure_logging

    settings = Settings.from_env(
        host=args.host, port=args.port, database_url=args.database_url,
        ocpp_port=args.ocpp_port, station_admission=args.admission, log_level=args.log_level,
    )
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    common = {
        "log_config": None,
        "ws": "websockets-sansio",
        "ws_ping_interval": settings.ws_ping_interval_s,
        "ws_ping_timeout": settings.ws_ping_timeout_s,
        "ws_max_size": 1 << 20,
        "timeout_graceful_shutdown": 10,
        "loop": "uvloop",
        "http": "httptools",
    }
    servers = [_Server(uvicorn.Config(app, host=settings.host, port=settings.port,
                                             **common))]  # type: ignore[arg-type]
    if settings.ocpp_port:
        ocpp_app = create_ocpp_app(app)
        ocpp_config = uvicorn.Config(ocpp_app, host=settings.host, port=settings.ocpp_port,
                                     lifespan="off", **common)  # type: ignore[arg-type]
        servers.append(_Server(ocpp_config))

    async def run_all() -> None:
        # One signal handler for both listeners: SIGTERM/SIGINT start a graceful shutdown of
        # each, and the process exits 0 once everything is flushed (uvicorn's own handler would
        # re-raise the signal after shutdown).
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _stop_all, servers)
        await asyncio.gather(*(s.serve() for s in servers))

    try:
        import uvloop

        uvloop.run(run_all())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        asyncio.run(run_all())
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from volthub.storage.sql.database import create_engine
    from volthub.storage.sql.migrate import upgrade

    settings = Settings.from_env(database_url=args.database_url)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("database is at the latest schema")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="volthub", description="volthub EV-charging backend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the CSMS (OCPP endpoint, admin API, health)")
    serve.add_argument("--host", help="listen address (VOLTHUB_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (VOLTHUB_PORT, default 8000)")
    serve.add_argument("--ocpp-port", type=int,
                       help="also serve OCPP alone on this port (VOLTHUB_OCPP_PORT)")
    serve.add_argument("--database-url", help="VOLTHUB_DATABASE_URL, default sqlite:///volthub.db")
    serve.add_argument("--admission", choices=["open", "pending", "closed"],
                       help="unknown stations (VOLTHUB_STATION_ADMISSION, default open)")
    serve.add_argument("--log-level", help="VOLTHUB_LOG_LEVEL, default INFO")
    serve.set_defaults(func=_serve)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply database migrations")
    up.add_argument("--database-url")
    up.set_defaults(func=_db_upgrade)

    simulate = sub.add_parser("simulate", help="run simulated charging stations")
    try:
        from volthub.simulator.runner import add_simulate_arguments, run_simulate

        add_simulate_arguments(simulate)
        simulate.set_defaults(func=run_simulate)
    except ImportError as exc:  # pragma: no cover - while the simulator is being built
        simulate.set_defaults(func=lambda _a, e=exc: print(f"simulator unavailable: {e}") or 2)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
