"""Basic-auth password updates over OCPP 1.6 (whitepaper A01): the new password counts only
once the station accepted ChangeConfiguration(AuthorizationKey); it never shows in the log."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import RunningServer
from tests.support.station16 import connect16
from tests.support.tls_server import refused

OLD = "old-passw0rd-1234"
HEX_KEY = "8f2d5c0e1a93b7d46e0f1c2b3a4d5e6f70819a2b"  # 20 octets as 40 hex digits
NEW_OCTETS = bytes.fromhex(HEX_KEY)


async def create(server: RunningServer, station_id: str, password: str | None = OLD) -> None:
    body: dict[str, Any] = {"id": station_id}
    if password:
        body["password"] = password
    response = await server.api.post("/stations", json=body)
    assert response.status_code == 201, response.text


async def set_key(server: RunningServer, station_id: str, value: str) -> dict[str, Any]:
    response = await server.api.post(f"/stations/{station_id}/commands/set-configuration",
                                     json={"key": "AuthorizationKey", "value": value})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def connects(server: RunningServer, station_id: str, password: str | bytes | None) -> bool:
    try:
        async with connect16(server.ocpp_url, station_id, password=password):
            return True
    except Exception:
        return False


async def security_event_types(server: RunningServer, station_id: str) -> list[str]:
    response = await server.api.get(f"/stations/{station_id}/security-events")
    return [e["type"] for e in response.json()["items"]]


async def test_new_password_counts_once_the_station_accepts(server: RunningServer) -> None:
    await create(server, "CP-PW")
    async with connect16(server.ocpp_url, "CP-PW", password=OLD) as station:
        result = await set_key(server, "CP-PW", HEX_KEY)
        assert result["status"] == "Accepted"
        assert station.received[-1] == ("ChangeConfiguration",
                                        {"key": "AuthorizationKey", "value": HEX_KEY})
    # A01.FR.03: the old password is no longer accepted; the new one is, in the octets the
    # hex digits stand for (the whitepaper's form) or as the hex text itself.
    assert await refused(server, "CP-PW", None, OLD) == 401
    assert await connects(server, "CP-PW", NEW_OCTETS)
    assert await connects(server, "CP-PW", HEX_KEY)
    assert not await connects(server, "CP-PW", HEX_KEY.upper()[:-2] + "00")
    assert "BasicAuthPasswordChanged" in await security_event_types(server, "CP-PW")
    view = (await server.api.get("/stations/CP-PW")).json()
    assert "password" not in view and HEX_KEY not in str(view)


async def test_rejected_password_change_keeps_the_old_one(server: RunningServer) -> None:
    await create(server, "CP-PW-NO")
    async with connect16(server.ocpp_url, "CP-PW-NO", password=OLD) as station:
        station.answers["ChangeConfiguration"] = {"status": "Rejected"}
        assert (await set_key(server, "CP-PW-NO", HEX_KEY))["status"] == "Rejected"
        station.answers["ChangeConfiguration"] = {"status": "NotSupported"}
        assert (await set_key(server, "CP-PW-NO", HEX_KEY))["status"] == "NotSupported"
    assert await connects(server, "CP-PW-NO", OLD)  # A01.FR.04
    assert not await connects(server, "CP-PW-NO", NEW_OCTETS)
    assert "BasicAuthPasswordChangeRejected" in await security_event_types(server, "CP-PW-NO")


async def test_a_first_password_given_over_ocpp_is_required_from_then_on(
    server: RunningServer,
) -> None:
    await create(server, "CP-PW-FIRST", password=None)
    plain = "plain-text-passw0rd"  # not 32-40 hex digits: the text is the password
    async with connect16(server.ocpp_url, "CP-PW-FIRST"):
        assert (await set_key(server, "CP-PW-FIRST", plain))["status"] == "Accepted"
    assert await refused(server, "CP-PW-FIRST", None) == 401
    assert await connects(server, "CP-PW-FIRST", plain)


async def test_raw_change_configuration_updates_the_password(server: RunningServer) -> None:
    await create(server, "CP-PW-RAW")
    async with connect16(server.ocpp_url, "CP-PW-RAW", password=OLD):
        response = await server.api.post("/stations/CP-PW-RAW/ocpp/ChangeConfiguration",
                                         json={"key": "AuthorizationKey", "value": HEX_KEY})
        assert response.status_code == 200, response.text
    assert await connects(server, "CP-PW-RAW", NEW_OCTETS)
    assert not await connects(server, "CP-PW-RAW", OLD)


@pytest.mark.parametrize("route", ["commands", "raw"])
async def test_the_message_log_masks_the_password(server: RunningServer, route: str) -> None:
    await create(server, "CP-PW-LOG")
    async with connect16(server.ocpp_url, "CP-PW-LOG", password=OLD):
        if route == "commands":
            await set_key(server, "CP-PW-LOG", HEX_KEY)
        else:
            await server.api.post("/stations/CP-PW-LOG/ocpp/ChangeConfiguration",
                                  json={"key": "AuthorizationKey", "value": HEX_KEY})
        await server.api.post("/stations/CP-PW-LOG/commands/set-configuration",
                              json={"key": "HeartbeatInterval", "value": "60"})
    response = await server.api.get("/stations/CP-PW-LOG/messages")
    assert HEX_KEY not in response.text
    sent = [m["payload"] for m in response.json()["items"]
            if m["action"] == "ChangeConfiguration" and m["message_type"] == "CALL"]
    assert {"key": "AuthorizationKey", "value": "********"} in sent
    assert {"key": "HeartbeatInterval", "value": "60"} in sent  # other keys as they are
    # Nor is it kept in the station's configuration.
    async with connect16(server.ocpp_url, "CP-PW-LOG", password=NEW_OCTETS) as station:
        station.answers["GetConfiguration"] = {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "60"}]}
        await server.api.post("/stations/CP-PW-LOG/commands/get-configuration", json={})
        await set_key(server, "CP-PW-LOG", HEX_KEY)
    view = (await server.api.get("/stations/CP-PW-LOG")).json()
    assert HEX_KEY not in str(view)
