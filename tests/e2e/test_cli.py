"""`volthub serve` and `volthub db upgrade` as an operator runs them, in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

VOLTHUB = [sys.executable, "-m", "volthub.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[str], deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def test_serve_generates_admin_token_once_and_shuts_down_cleanly(tmp_path: Path) -> None:
    port, ocpp_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOLTHUB_")}
    env["VOLTHUB_DATABASE_URL"] = f"sqlite:///{tmp_path}/cli.db"
    cmd = [*VOLTHUB, "serve", "--port", str(port), "--ocpp-port", str(ocpp_port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    token_lines = [line for line in output.splitlines() if "admin API token" in line]
    assert len(token_lines) == 1
    token = token_lines[0].rsplit(" ", 1)[1]

    # Second start: the stored (hashed) token still works and is not printed again.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        ok = httpx.get(f"http://127.0.0.1:{port}/api/v1/stations",
                       headers={"Authorization": f"Bearer {token}"})
        bad = httpx.get(f"http://127.0.0.1:{port}/api/v1/stations",
                        headers={"Authorization": "Bearer wrong"})
        assert ok.status_code == 200 and bad.status_code == 401

        async def ocpp_listener_serves_ocpp_only() -> None:
            async with websockets.connect(f"ws://127.0.0.1:{ocpp_port}/ocpp/CLI1",
                                          subprotocols=["ocpp1.6"]) as ws:
                await ws.send('[2,"1","Heartbeat",{}]')
                answer = await ws.recv()
                assert answer.startswith('[3,"1",{"currentTime"')
            async with httpx.AsyncClient() as client:
                api = await client.get(f"http://127.0.0.1:{ocpp_port}/api/v1/stations",
                                       headers={"Authorization": f"Bearer {token}"})
            assert api.status_code == 404

        asyncio.run(ocpp_listener_serves_ocpp_only())
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "admin API token" not in output


def test_db_upgrade_creates_schema(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOLTHUB_")}
    url = f"sqlite:///{tmp_path}/up.db"
    result = subprocess.run([*VOLTHUB, "db", "upgrade", "--database-url", url], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "up.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"stations", "transactions", "messages", "alembic_version"} <= tables
