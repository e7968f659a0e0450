"""The extrawest-ocpi eMSP peer (tests/peers/extrawest) as a subprocess, and its pytest fixtures."""

from __future__ import annotations

import base64
import functools
import os
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

PEER_DIR = Path(__file__).resolve().parents[1] / "peers" / "extrawest"
# Creating the venv downloads and installs the pinned packages: minutes on a cold cache.
SETUP_TIMEOUT_S = 900
START_TIMEOUT_S = 30.0


@functools.cache
def peer_python() -> str:
    """The peer venv's python, made by setup.sh once per run; fails (never skips) without it."""
    try:
        done = subprocess.run(["bash", str(PEER_DIR / "setup.sh")], capture_output=True,
                              text=True, timeout=SETUP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"tests/peers/extrawest/setup.sh could not run: {exc!r}")
    lines = done.stdout.strip().splitlines()
    python = lines[-1].strip() if lines else ""
    if done.returncode != 0 or not os.access(python, os.X_OK):
        pytest.fail(f"tests/peers/extrawest/setup.sh failed (exit {done.returncode}); the "
                    f"extrawest peer's virtualenv is required.\nstdout: {done.stdout[-2000:]}\n"
                    f"stderr: {done.stderr[-4000:]}")
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


@dataclass
class ExtrawestPeer:
    """One emsp_app.py process. Its credentials survive a restart (state file); its objects
    and request log do not."""

    python: str
    port: int
    workdir: Path
    country_code: str = "DE"
    party_id: str = "EXW"
    # Token A of the process start; tests add their own with new_token_a().
    start_token_a: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    @property
    def log_path(self) -> Path:
        return self.workdir / "peer.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the process and wait until /ocpi/versions answers (with token A)."""
        assert not self.running, "the peer is already running"
        command = [self.python, str(PEER_DIR / "emsp_app.py"), "--port", str(self.port),
                   "--token-a", self.start_token_a, "--country-code", self.country_code,
                   "--party-id", self.party_id, "--state-file",
                   str(self.workdir / "state.json")]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.workdir)
        deadline = time.monotonic() + START_TIMEOUT_S
        headers = {"Authorization": f"Token {b64(self.start_token_a)}"}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the extrawest peer exited with {self.proc.returncode}:\n"
                            f"{self.log_tail()}")
            try:
                if httpx.get(self.versions_url, headers=headers, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the extrawest peer did not answer within {START_TIMEOUT_S} s:\n"
                    f"{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    # debug API (tests/peers/extrawest/README.md) ------------------------------------------
    async def debug(self, method: str, path: str, **kwargs: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            answer = await client.request(method, path, **kwargs)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def objects(self) -> dict[str, Any]:
        return dict(await self.debug("GET", "/debug/objects"))

    async def new_token_a(self) -> str:
        """A fresh token A for the next registration (the peer drops it once used)."""
        token = secrets.token_urlsafe(16)
        await self.debug("POST", "/debug/token-a", json={"token": token})
        return token

    async def push_tokens(self, tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """PUT each Token to the registered CPO's tokens receiver; returns each answer."""
        answer = await self.debug("POST", "/debug/tokens", params={"push": "true"}, json=tokens)
        return list(answer["pushed"])

    async def command(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send a command to the CPO: {uid, response_url, status, body (the CPO's answer)}."""
        return dict(await self.debug("POST", f"/debug/commands/{name}", json=body))


@functools.cache
def _workdir_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="volthub-extrawest-"))


def started_peer() -> ExtrawestPeer:
    workdir = Path(tempfile.mkdtemp(dir=_workdir_root()))
    peer = ExtrawestPeer(python=peer_python(), port=free_port(), workdir=workdir)
    peer.start()
    return peer


@pytest.fixture(scope="module", name="extrawest_process")
def extrawest_process_fixture() -> Iterator[ExtrawestPeer]:
    """One peer process per test module (the venv is set up once per run); always stopped."""
    peer = started_peer()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(name="extrawest")
async def extrawest_fixture(extrawest_process: ExtrawestPeer) -> ExtrawestPeer:
    """The module's peer, running (a test may have stopped it) and emptied."""
    if not extrawest_process.running:
        extrawest_process.start()
    await extrawest_process.debug("POST", "/debug/reset")
    return extrawest_process
