"""The durable OCPI push outbox: stored before sending, retried with backoff while the partner
is down (OFFLINE), delivered in order per object, and kept across a restart (issue 5)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.ocpi import ocpi_settings
from tests.support.ocpi_peer import StandInPeer, add_partner
from tests.support.server import RunningServer, run_server


async def _partner_status(server: RunningServer, partner_id: int) -> str:
    status: str = (await server.api.get(f"/ocpi/partners/{partner_id}")).json()["status"]
    return status


async def _wait_for(condition_name: str, check: Callable[[], Awaitable[bool]],
                    timeout_s: float = 15.0) -> None:
    """Poll `check` (a hang guard, not a performance bound)."""
    for _ in range(int(timeout_s / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {condition_name}")


async def test_pushes_are_delivered_in_order_with_auth_and_routing_headers(
    sqlite_url: str,
) -> None:
    peer = StandInPeer()
    await peer.start()
    try:
        async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo:
            partner_id = await add_partner(cpo.container, peer)
            outbox = cpo.container.roaming.outbox
            for n in range(5):
                await outbox.push(partner_id, "sessions", "PATCH", "/NL/CPO/S1", {"n": n},
                                  "sessions/S1", ("DE", "MSP"))
            await outbox.deliver_due()
            assert [r.body["n"] for r in peer.received] == [0, 1, 2, 3, 4]
            first = peer.received[0]
            assert first.method == "PATCH"
            assert first.path == "/sessions/receiver/NL/CPO/S1"
            # transport_and_format: Base64 token, request ids, routing headers both ways.
            assert first.headers["authorization"] == "Token dG9rZW4tZm9yLXN0YW5kLWlu"
            assert first.headers["x-request-id"] and first.headers["x-correlation-id"]
            assert (first.headers["ocpi-from-country-code"],
                    first.headers["ocpi-from-party-id"]) == ("NL", "CPO")
            assert (first.headers["ocpi-to-country-code"],
                    first.headers["ocpi-to-party-id"]) == ("DE", "MSP")
            pending = (await cpo.api.get("/ocpi/outbox", params={"pending": True})).json()
            assert pending == []
    finally:
        await peer.stop()


async def test_partner_down_goes_offline_and_catches_up_in_order(sqlite_url: str) -> None:
    peer = StandInPeer()  # not started: the partner is down
    async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO",
                                        ocpi_offline_after_failures=2)) as cpo:
        partner_id = await add_partner(cpo.container, peer)
        outbox = cpo.container.roaming.outbox
        await outbox.push(partner_id, "locations", "PATCH", "/NL/CPO/L1/E1",
                          {"status": "CHARGING"}, "locations/L1/E1", ("DE", "MSP"))
        await outbox.push(partner_id, "locations", "PATCH", "/NL/CPO/L1/E1",
                          {"status": "AVAILABLE"}, "locations/L1/E1", ("DE", "MSP"))

        async def offline() -> bool:
            return await _partner_status(cpo, partner_id) == "OFFLINE"

        await _wait_for("partner OFFLINE", offline)
        pending = (await cpo.api.get("/ocpi/outbox", params={"pending": True})).json()
        assert len(pending) == 2
        assert pending[0]["attempts"] >= 1 and pending[0]["last_error"]
        partner = (await cpo.api.get(f"/ocpi/partners/{partner_id}")).json()
        assert partner["failures"] >= 2

        await peer.start()
        try:
            async def delivered() -> bool:
                return len(peer.received) == 2

            await _wait_for("pushes after recovery", delivered)
            assert [r.body["status"] for r in peer.received] == ["CHARGING", "AVAILABLE"]
            assert await _partner_status(cpo, partner_id) == "CONNECTED"
        finally:
            await peer.stop()


async def test_pending_pushes_survive_a_restart(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/cpo.db"
    peer = StandInPeer()
    async with run_server(ocpi_settings(database, "NL", "CPO", "CPO")) as cpo:
        partner_id = await add_partner(cpo.container, peer)
        await cpo.container.roaming.outbox.push(
            partner_id, "cdrs", "POST", "", {"id": "CDR-1"}, "cdrs/CDR-1", ("DE", "MSP"))
        await cpo.container.roaming.outbox.deliver_due()
    assert peer.received == []
    await peer.start()
    try:
        async with run_server(ocpi_settings(database, "NL", "CPO", "CPO")):
            async def delivered() -> bool:
                return len(peer.received) == 1

            await _wait_for("push after restart", delivered)
            assert peer.received[0].body == {"id": "CDR-1"}
            assert peer.received[0].path == "/cdrs/receiver"
    finally:
        await peer.stop()


async def test_a_refused_push_is_not_retried_and_does_not_block_the_next(
    sqlite_url: str,
) -> None:
    peer = StandInPeer(status_code=2001)
    await peer.start()
    try:
        async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo:
            partner_id = await add_partner(cpo.container, peer)
            outbox = cpo.container.roaming.outbox
            await outbox.push(partner_id, "tokens", "PUT", "/NL/CPO/T1", {"v": 1}, "tokens/T1",
                              None)
            await outbox.deliver_due()
            peer.status_code = 1000
            await outbox.push(partner_id, "tokens", "PUT", "/NL/CPO/T1", {"v": 2}, "tokens/T1",
                              None)
            await outbox.deliver_due()
            assert [r.body["v"] for r in peer.received] == [1, 2]
            pushes = (await cpo.api.get("/ocpi/outbox",
                                        params={"partner_id": partner_id})).json()
            assert [(p["failed"], p["delivered"]) for p in pushes] == [(True, False),
                                                                       (False, True)]
            assert "2001" in pushes[0]["last_error"]
            # A refusal is the partner's verdict on one push, not an outage.
            assert await _partner_status(cpo, partner_id) == "CONNECTED"
    finally:
        await peer.stop()


async def test_pushes_to_a_suspended_partner_are_dropped(sqlite_url: str) -> None:
    peer = StandInPeer()
    await peer.start()
    try:
        async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo:
            partner_id = await add_partner(cpo.container, peer)
            await cpo.container.roaming.registration.suspend(partner_id)
            await cpo.container.roaming.outbox.push(
                partner_id, "locations", "PUT", "/NL/CPO/L1", {}, "locations/L1", None)
            await cpo.container.roaming.outbox.deliver_due()
            assert peer.received == []
            [push] = (await cpo.api.get("/ocpi/outbox")).json()
            assert push["failed"] is True
    finally:
        await peer.stop()
