"""The OCPP WebSocket handshake: subprotocols, admission, HTTP Basic auth, replaced connections,
reconnects without a new BootNotification, and the `connected` flag of the admin API.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from ocpp.v16 import call
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station16 import connect16
from tests.support.timeouts import ANSWER_TIMEOUT_S
from volthub.domain.enums import Admission

T0 = "2026-01-01T10:00:00Z"
PASSWORD = "s3cret-passw0rd"


def _headers(station_id: str, password: str | None, user: str | None) -> dict[str, str]:
    if password is None:
        return {}
    creds = base64.b64encode(f"{user or station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {creds}"}


@asynccontextmanager
async def raw_connect(
    server: RunningServer, station_id: str, password: str | None = None,
    user: str | None = None, subprotocols: list[str] | None = None,
) -> AsyncIterator[ClientConnection]:
    offered = [Subprotocol(p) for p in (["ocpp1.6"] if subprotocols is None else subprotocols)]
    async with websockets.connect(
        f"{server.ocpp_url}/{station_id}", subprotocols=offered or None,
        additional_headers=_headers(station_id, password, user),
    ) as ws:
        yield ws


async def refused_status(
    server: RunningServer, station_id: str, password: str | None = None,
    user: str | None = None, subprotocols: list[str] | None = None,
) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as info:
        async with raw_connect(server, station_id, password, user, subprotocols):
            pass
    return info.value


async def heartbeat(ws: ClientConnection, message_id: str = "hb") -> Any:
    await ws.send(json.dumps([2, message_id, "Heartbeat", {}]))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=ANSWER_TIMEOUT_S))


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll an asynchronous effect until it shows (or fail at a generous deadline)."""
    try:
        async with asyncio.timeout(10):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail("condition not reached before the deadline")


async def station(server: RunningServer, station_id: str) -> dict[str, Any]:
    response = await server.api.get(f"/stations/{station_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def is_connected(server: RunningServer, station_id: str) -> bool:
    return bool((await station(server, station_id))["connected"])


# subprotocols -----------------------------------------------------------------------------------
async def test_offering_ocpp16_gets_ocpp16(server: RunningServer) -> None:
    async with raw_connect(server, "CP-SUB", subprotocols=["ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp1.6"
        assert (await heartbeat(ws))[0] == 3

        async def version_known() -> bool:
            return bool((await station(server, "CP-SUB"))["ocpp_version"] == "1.6")

        await eventually(version_known)


async def test_ocpp16_is_chosen_among_unknown_subprotocols(server: RunningServer) -> None:
    async with raw_connect(server, "CP-SUB2",
                           subprotocols=["ocpp1.5", "ocpp1.6", "ocpp9.9"]) as ws:
        assert ws.subprotocol == "ocpp1.6"


@pytest.mark.parametrize("offered", [["ocpp1.5"], ["ocpp1.2", "ocpp9.9"], ["OCPP1.6J"], []])
async def test_handshake_offering_none_of_our_subprotocols_is_refused(
    server: RunningServer, offered: list[str],
) -> None:
    refused = await refused_status(server, "CP-NOSUB", subprotocols=offered)
    assert refused.response.status_code == 400
    # Refused before admission: the station was not registered.
    assert (await server.api.get("/stations/CP-NOSUB")).status_code == 404


async def test_station_identity_longer_than_48_characters_is_refused(
    server: RunningServer,
) -> None:
    refused = await refused_status(server, "X" * 49)
    assert refused.response.status_code == 404
    async with raw_connect(server, "Y" * 48) as ws:
        assert (await heartbeat(ws))[0] == 3


# admission --------------------------------------------------------------------------------------
async def test_admission_open_registers_an_unknown_station_accepted(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-NEW", boot=False) as cp:
        stored = await station(server, "CP-NEW")
        assert stored["registration_status"] == "Accepted"
        assert stored["connected"] is True
        boot = await cp.call(call.BootNotification(charge_point_vendor="V",
                                                   charge_point_model="M"))
        assert boot.status == "Accepted"


async def test_admission_pending_registers_an_unknown_station_pending(sqlite_url: str) -> None:
    settings = test_settings(sqlite_url, station_admission=Admission.PENDING)
    async with run_server(settings) as server, \
            connect16(server.ocpp_url, "CP-NEWP", boot=False) as cp:
        assert (await station(server, "CP-NEWP"))["registration_status"] == "Pending"
        boot = await cp.call(call.BootNotification(charge_point_vendor="V",
                                                   charge_point_model="M"))
        assert boot.status == "Pending"


async def test_admission_closed_refuses_unknown_and_admits_created_station(
    sqlite_url: str,
) -> None:
    settings = test_settings(sqlite_url, station_admission=Admission.CLOSED)
    async with run_server(settings) as server:
        refused = await refused_status(server, "CP-STRANGER")
        assert refused.response.status_code == 403
        assert (await server.api.get("/stations/CP-STRANGER")).status_code == 404

        created = await server.api.post("/stations", json={"id": "CP-KNOWN"})
        assert created.status_code == 201, created.text
        async with connect16(server.ocpp_url, "CP-KNOWN", boot=False) as cp:
            boot = await cp.call(call.BootNotification(charge_point_vendor="V",
                                                       charge_point_model="M"))
            assert boot.status == "Accepted"
            assert await is_connected(server, "CP-KNOWN")
        # Deleted again: refused again.
        assert (await server.api.delete("/stations/CP-KNOWN")).status_code == 204
        refused = await refused_status(server, "CP-KNOWN")
        assert refused.response.status_code == 403


# HTTP Basic auth --------------------------------------------------------------------------------
async def test_basic_auth_right_password_connects(server: RunningServer) -> None:
    created = await server.api.post("/stations", json={"id": "CP-PW", "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json()["has_password"] is True
    assert "password" not in created.json()  # write only
    async with connect16(server.ocpp_url, "CP-PW", password=PASSWORD) as cp:
        assert await cp.call(call.Heartbeat(), suppress=False) is not None
        assert await is_connected(server, "CP-PW")


@pytest.mark.parametrize(("password", "user"), [
    ("wrong-password", None),  # wrong password
    (None, None),  # no Authorization header
    ("", None),  # empty password
    (PASSWORD, "CP-OTHER"),  # right password, but the user is not the station id
    (PASSWORD, "cp-pw2"),  # the user must be the identity exactly
])
async def test_basic_auth_wrong_or_missing_credentials_are_refused_with_401(
    server: RunningServer, password: str | None, user: str | None,
) -> None:
    created = await server.api.post("/stations", json={"id": "CP-PW2", "password": PASSWORD})
    assert created.status_code == 201, created.text
    refused = await refused_status(server, "CP-PW2", password=password, user=user)
    assert refused.response.status_code == 401
    # RFC 7235 §3.1 and the 1.6 security whitepaper's sequence: a 401 carries the challenge.
    assert refused.response.headers.get("WWW-Authenticate", "").lower().startswith("basic")
    assert not await is_connected(server, "CP-PW2")


async def test_basic_auth_user_other_than_station_id_is_refused_without_password_set(
    server: RunningServer,
) -> None:
    refused = await refused_status(server, "CP-NOPW", password="whatever", user="SOMEONE")
    assert refused.response.status_code == 401


async def test_basic_auth_malformed_header_is_refused(server: RunningServer) -> None:
    await server.api.post("/stations", json={"id": "CP-PW3", "password": PASSWORD})
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(f"{server.ocpp_url}/CP-PW3",
                                      subprotocols=[Subprotocol("ocpp1.6")],
                                      additional_headers={"Authorization": "Basic %%%"}):
            pass
    assert info.value.response.status_code == 401


async def test_password_set_by_patch_takes_effect_at_the_next_handshake(
    server: RunningServer,
) -> None:
    async with raw_connect(server, "CP-PATCH") as first:
        patched = await server.api.patch("/stations/CP-PATCH", json={"password": PASSWORD})
        assert patched.status_code == 200, patched.text
        # The open connection is not affected ...
        assert (await heartbeat(first))[0] == 3
    # ... the next handshake is.
    assert (await refused_status(server, "CP-PATCH")).response.status_code == 401
    async with raw_connect(server, "CP-PATCH", password=PASSWORD) as ws:
        assert (await heartbeat(ws))[0] == 3
    # A new password replaces the old one.
    new_password = "another-passw0rd"
    patched = await server.api.patch("/stations/CP-PATCH", json={"password": new_password})
    assert patched.status_code == 200, patched.text
    refused = await refused_status(server, "CP-PATCH", password=PASSWORD)
    assert refused.response.status_code == 401
    async with raw_connect(server, "CP-PATCH", password=new_password) as ws:
        assert (await heartbeat(ws))[0] == 3


async def test_security_profile_1_without_a_password_is_refused(server: RunningServer) -> None:
    created = await server.api.post("/stations", json={"id": "CP-SP1", "security_profile": 1})
    assert created.status_code == 201, created.text
    assert (await refused_status(server, "CP-SP1")).response.status_code == 401


async def test_security_profile_2_refuses_a_connection_without_tls(
    server: RunningServer,
) -> None:
    created = await server.api.post("/stations", json={
        "id": "CP-SP2", "security_profile": 2, "password": PASSWORD})
    assert created.status_code == 201, created.text
    refused = await refused_status(server, "CP-SP2", password=PASSWORD)
    assert refused.response.status_code in (401, 403)
    assert not await is_connected(server, "CP-SP2")


# a second connection of the same station ----------------------------------------------------------
async def test_second_connection_replaces_the_first_after_it_authenticates(
    server: RunningServer,
) -> None:
    await server.api.post("/stations", json={"id": "CP-TWICE", "password": PASSWORD})
    async with raw_connect(server, "CP-TWICE", password=PASSWORD) as first:
        assert (await heartbeat(first, "h1"))[0] == 3
        # A second handshake with a wrong password is refused and leaves the first alone.
        refused = await refused_status(server, "CP-TWICE", password="wrong-password")
        assert refused.response.status_code == 401
        assert (await heartbeat(first, "h2"))[:2] == [3, "h2"]
        assert await is_connected(server, "CP-TWICE")
        # Without any credentials: the same.
        assert (await refused_status(server, "CP-TWICE")).response.status_code == 401
        assert (await heartbeat(first, "h3"))[:2] == [3, "h3"]
        # An authenticated second connection takes over; the first is closed by the server.
        async with raw_connect(server, "CP-TWICE", password=PASSWORD) as second:
            await asyncio.wait_for(first.wait_closed(), timeout=10)
            assert first.close_code is not None and first.close_code != 1000
            with pytest.raises(ConnectionClosed):
                await heartbeat(first, "h4")
            assert (await heartbeat(second, "h5"))[:2] == [3, "h5"]
            assert await is_connected(server, "CP-TWICE")
            # Commands now go to the second connection.
            command = asyncio.create_task(server.api.post(
                "/stations/CP-TWICE/commands/reset", json={"type": "soft"}))
            frame = json.loads(await asyncio.wait_for(second.recv(), timeout=ANSWER_TIMEOUT_S))
            assert frame[0] == 2 and frame[2] == "Reset"
            await second.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
            assert (await command).status_code == 200


async def test_second_connection_with_unsupported_subprotocol_leaves_the_first(
    server: RunningServer,
) -> None:
    async with raw_connect(server, "CP-TWICE2") as first:
        refused = await refused_status(server, "CP-TWICE2", subprotocols=["ocpp1.5"])
        assert refused.response.status_code == 400
        assert (await heartbeat(first))[0] == 3
        assert await is_connected(server, "CP-TWICE2")


# reconnects -------------------------------------------------------------------------------------
async def test_known_accepted_station_reconnecting_is_served_without_boot(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP-BACK") as cp:
        assert await cp.call(call.Heartbeat(), suppress=False) is not None
    async with connect16(server.ocpp_url, "CP-BACK", boot=False) as cp:
        assert await cp.call(call.Heartbeat(), suppress=False) is not None
        start = await cp.call(call.StartTransaction(
            connector_id=1, id_tag="ANY", meter_start=0, timestamp=T0), suppress=False)
        assert isinstance(start.transaction_id, int)
    messages = (await server.api.get("/stations/CP-BACK/messages")).json()["items"]
    boots = [m for m in messages if m["action"] == "BootNotification" and m["direction"] == "in"]
    assert len(boots) == 1


async def test_known_accepted_station_is_served_without_boot_after_a_server_restart(
    sqlite_url: str,
) -> None:
    async with run_server(test_settings(sqlite_url)) as server, \
            connect16(server.ocpp_url, "CP-RESTART") as cp:
        assert await cp.call(call.Heartbeat(), suppress=False) is not None
    async with run_server(test_settings(sqlite_url)) as server, \
            connect16(server.ocpp_url, "CP-RESTART", boot=False) as cp:
        assert await cp.call(call.Heartbeat(), suppress=False) is not None


async def test_pending_station_reconnecting_without_boot_is_not_served(sqlite_url: str) -> None:
    settings = test_settings(sqlite_url, station_admission=Admission.PENDING)
    async with run_server(settings) as server:
        async with connect16(server.ocpp_url, "CP-PBACK", boot=False) as cp:
            boot = await cp.boot()
            assert boot.status == "Pending"
        async with raw_connect(server, "CP-PBACK") as ws:
            answer = await heartbeat(ws, "p1")
            assert answer[:3] == [4, "p1", "SecurityError"]


# the connected flag -----------------------------------------------------------------------------
async def test_connected_flag_follows_the_connection(server: RunningServer) -> None:
    created = await server.api.post("/stations", json={"id": "CP-FLAG"})
    assert created.status_code == 201
    assert created.json()["connected"] is False
    async with raw_connect(server, "CP-FLAG") as ws:
        assert (await heartbeat(ws))[0] == 3
        assert await is_connected(server, "CP-FLAG")
        listed = (await server.api.get("/stations")).json()["items"]
        assert {s["id"]: s["connected"] for s in listed}["CP-FLAG"] is True

    async def disconnected() -> bool:
        return not await is_connected(server, "CP-FLAG")

    await eventually(disconnected)
    stored = await station(server, "CP-FLAG")
    assert stored["last_seen"] is not None
    # A command to a station that is gone is a conflict.
    response = await server.api.post("/stations/CP-FLAG/commands/reset", json={"type": "soft"})
    assert response.status_code == 409
