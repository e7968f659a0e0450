"""`volthub ca …` and `volthub serve --tls-…` as an operator runs them, in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets
from cryptography import x509

from tests.e2e.test_cli import _free_port

VOLTHUB = [sys.executable, "-m", "volthub.cli"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOLTHUB_")}
    env["VOLTHUB_ADMIN_TOKEN"] = "cli-token"
    return env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VOLTHUB, *args], env=_env(), capture_output=True, text=True,
                          timeout=60, check=False)


def test_ca_commands_and_serve_with_two_certificates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for key_type in ("rsa", "ecdsa"):
        made = _run("ca", "server-cert", "--host", "127.0.0.1", "--host", "localhost",
                    "--key-type", key_type, "--out", str(tmp_path), "--data-dir", str(data))
        assert made.returncode == 0, made.stderr
        assert (tmp_path / f"server-{key_type}.key.pem").stat().st_mode & 0o077 == 0
    shown = _run("ca", "show", "--data-dir", str(data))
    assert shown.returncode == 0
    ca = x509.load_pem_x509_certificate(shown.stdout.encode())
    assert (data / "ca" / "ca.cert.pem").read_text() == shown.stdout
    leaf = x509.load_pem_x509_certificates((tmp_path / "server-rsa.cert.pem").read_bytes())[0]
    leaf.verify_directly_issued_by(ca)

    port = _free_port()
    proc = subprocess.Popen(
        [*VOLTHUB, "serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path}/t.db",
         "--data-dir", str(data),
         "--tls-cert", str(tmp_path / "server-rsa.cert.pem"),
         "--tls-key", str(tmp_path / "server-rsa.key.pem"),
         "--tls-ecdsa-cert", str(tmp_path / "server-ecdsa.cert.pem"),
         "--tls-ecdsa-key", str(tmp_path / "server-ecdsa.key.pem")],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    trust = ssl.create_default_context(cadata=shown.stdout)
    try:
        end = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trust,
                             timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, "server did not become healthy"
            time.sleep(0.1)

        async def wss_with_each_certificate() -> None:
            for suite in ("ECDHE-ECDSA-AES128-GCM-SHA256", "AES256-GCM-SHA384"):
                context = ssl.create_default_context(cadata=shown.stdout)
                context.maximum_version = ssl.TLSVersion.TLSv1_2
                context.set_ciphers(suite)
                async with websockets.connect(f"wss://localhost:{port}/ocpp/CLI-TLS",
                                              ssl=context, subprotocols=["ocpp1.6"]) as ws:
                    assert ws.transport.get_extra_info("ssl_object").cipher()[0] == suite
                    await ws.send('[2,"1","Heartbeat",{}]')
                    assert (await ws.recv()).startswith('[3,"1"')

        asyncio.run(wss_with_each_certificate())
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


def test_serve_refuses_unusable_tls_settings(tmp_path: Path) -> None:
    result = _run("serve", "--port", str(_free_port()), "--data-dir", str(tmp_path),
                  "--database-url", f"sqlite:///{tmp_path}/t.db",
                  "--tls-cert", str(tmp_path / "missing.pem"))
    assert result.returncode == 2
    assert "tls_cert_file" in result.stderr and "missing.pem" in result.stderr
