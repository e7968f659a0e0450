"""The `volthub` command: serve, db upgrade, simulate, ca."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Generator
from pathlib import Path
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
    from volthub.security.tls import TlsConfigError, uvicorn_options

    settings = Settings.from_env(
        host=args.host, port=args.port, database_url=args.database_url,
        ocpp_port=args.ocpp_port, station_admission=args.admission, log_level=args.log_level,
        tls_cert_file=args.tls_cert, tls_key_file=args.tls_key,
        tls_ecdsa_cert_file=args.tls_ecdsa_cert, tls_ecdsa_key_file=args.tls_ecdsa_key,
        tls_client_ca_file=args.tls_client_ca, data_dir=args.data_dir,
    )
    configure_logging(settings.log_level, settings.log_json)
    try:
        tls_options = uvicorn_options(settings)  # the WebSocket protocol, and TLS if configured
    except TlsConfigError as exc:
        print(f"volthub: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    common: dict[str, Any] = {
        "log_config": None,
        **tls_options,
        "ws_ping_interval": settings.ws_ping_interval_s,
        "ws_ping_timeout": settings.ws_ping_timeout_s,
        "ws_max_size": 1 << 20,
        "timeout_graceful_shutdown": 10,
        "loop": "uvloop",
        "http": "httptools",
    }
    servers = [_Server(uvicorn.Config(app, host=settings.host, port=settings.port,
                                             **common))]
    if settings.ocpp_port:
        ocpp_app = create_ocpp_app(app)
        ocpp_config = uvicorn.Config(ocpp_app, host=settings.host, port=settings.ocpp_port,
                                     lifespan="off", **common)
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


def _ca(args: argparse.Namespace) -> Any:
    from volthub.security.ca import CertificateAuthority

    settings = Settings.from_env(data_dir=args.data_dir)
    return CertificateAuthority.load_or_create(Path(settings.data_dir) / "ca")


def _ca_show(args: argparse.Namespace) -> int:
    print(_ca(args).certificate_pem, end="")
    return 0


def _ca_server_cert(args: argparse.Namespace) -> int:
    from datetime import timedelta

    key_pem, issued = _ca(args).issue_server_certificate(
        args.host, args.key_type, validity=timedelta(days=args.days))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cert_path = out / f"server-{args.key_type}.cert.pem"
    key_path = out / f"server-{args.key_type}.key.pem"
    cert_path.write_text(issued.chain_pem)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key_pem)
    print(f"{cert_path}\n{key_path}")
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
    serve.add_argument("--tls-cert", help="PEM server certificate (chain), RSA or ECDSA: serve "
                       "wss:// and https:// (VOLTHUB_TLS_CERT_FILE)")
    serve.add_argument("--tls-key", help="its private key (VOLTHUB_TLS_KEY_FILE)")
    serve.add_argument("--tls-ecdsa-cert", help="a second server certificate of the other key "
                       "type, served at once (VOLTHUB_TLS_ECDSA_CERT_FILE)")
    serve.add_argument("--tls-ecdsa-key", help="its private key (VOLTHUB_TLS_ECDSA_KEY_FILE)")
    serve.add_argument("--tls-client-ca", help="PEM CA certificates trusted for station client "
                       "certificates besides the built-in CA (VOLTHUB_TLS_CLIENT_CA_FILE)")
    serve.add_argument("--data-dir", help="folder for the built-in CA and other server files "
                       "(VOLTHUB_DATA_DIR, default ./volthub-data)")
    serve.set_defaults(func=_serve)

    ca = sub.add_parser("ca", help="the built-in certificate authority")
    ca_sub = ca.add_subparsers(dest="ca_command", required=True)
    show = ca_sub.add_parser("show", help="print the CA certificate (PEM), creating the CA if new")
    show.add_argument("--data-dir", help="VOLTHUB_DATA_DIR, default ./volthub-data")
    show.set_defaults(func=_ca_show)
    server_cert = ca_sub.add_parser(
        "server-cert", help="issue a TLS server certificate for this CSMS (development, tests)")
    server_cert.add_argument("--host", action="append", required=True,
                             help="DNS name or IP address (repeat; the first is the CN)")
    server_cert.add_argument("--key-type", choices=["rsa", "ecdsa"], default="ecdsa")
    server_cert.add_argument("--days", type=int, default=365, help="validity, default 365")
    server_cert.add_argument("--out", default=".",
                             help="folder for server-{key type}.cert.pem and .key.pem")
    server_cert.add_argument("--data-dir", help="VOLTHUB_DATA_DIR, default ./volthub-data")
    server_cert.set_defaults(func=_ca_server_cert)

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
