"""OCPI versions and credentials between two volthub instances: handshake both directions,
re-registration, unregistration, token rules (credentials, transport_and_format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.ocpi import (
    cpo_and_emsp,
    ocpi_call,
    ocpi_get,
    ocpi_settings,
    register,
    token_header,
)
from tests.support.server import RunningServer, run_server


def _assert_envelope(body: dict[str, Any], status_code: int) -> None:
    assert body["status_code"] == status_code, body
    assert body["timestamp"].endswith("Z"), body


async def _partners(server: RunningServer) -> list[dict[str, Any]]:
    answer = await server.api.get("/ocpi/partners")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_cpo_registers_with_emsp_and_both_see_each_other(
    database_url: str, tmp_path: Path,
) -> None:
    async with cpo_and_emsp(database_url, f"sqlite:///{tmp_path}/emsp.db") as pair:
        [at_cpo] = await _partners(pair.cpo)
        assert at_cpo["status"] == "CONNECTED"
        assert at_cpo["roles"] == ["EMSP"]
        assert (at_cpo["country_code"], at_cpo["party_id"]) == ("DE", "MSP")
        assert at_cpo["versions_url"] == f"{pair.emsp.base_url}/ocpi/versions"
        assert {"identifier": "tokens", "role": "SENDER",
                "url": f"{pair.emsp.base_url}/ocpi/emsp/2.2.1/tokens"} in at_cpo["endpoints"]
        [at_emsp] = await _partners(pair.emsp)
        assert at_emsp["status"] == "CONNECTED"
        assert at_emsp["roles"] == ["CPO"]
        assert (at_emsp["country_code"], at_emsp["party_id"]) == ("NL", "CPO")
        assert {"identifier": "locations", "role": "SENDER",
                "url": f"{pair.cpo.base_url}/ocpi/cpo/2.2.1/locations"} in at_emsp["endpoints"]
        # Each lists only the interfaces of the role it registered as.
        assert not [e for e in at_emsp["endpoints"] if "/emsp/" in e["url"]]
        assert not [e for e in at_cpo["endpoints"] if "/cpo/" in e["url"]
                    and e["identifier"] != "hubclientinfo"]
        # Each side can use the token the other gave it.
        answer = await ocpi_get(pair.emsp, "/versions", await pair.token_cpo_uses())
        _assert_envelope(answer.json(), 1000)
        answer = await ocpi_get(pair.cpo, "/2.2.1", await pair.token_emsp_uses())
        _assert_envelope(answer.json(), 1000)


async def test_registration_works_in_the_other_direction(sqlite_url: str,
                                                         tmp_path: Path) -> None:
    async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo, \
            run_server(ocpi_settings(f"sqlite:///{tmp_path}/e.db", "DE", "MSP", "EMSP")) as emsp:
        emsp_side, cpo_side = await register(emsp, cpo)
        assert (await emsp.api.get(f"/ocpi/partners/{emsp_side}")).json()["roles"] == ["CPO"]
        assert (await cpo.api.get(f"/ocpi/partners/{cpo_side}")).json()["status"] == "CONNECTED"


async def test_both_roles_in_one_registration(sqlite_url: str, tmp_path: Path) -> None:
    async with run_server(ocpi_settings(sqlite_url, "NL", "VHB", "CPO,EMSP")) as one, \
            run_server(ocpi_settings(f"sqlite:///{tmp_path}/o.db", "BE", "OTH",
                                     "CPO,EMSP")) as other:
        partner_id, _ = await register(one, other)
        partner = (await one.api.get(f"/ocpi/partners/{partner_id}")).json()
        assert partner["roles"] == ["CPO", "EMSP"]
        assert [p["party_id"] for p in partner["parties"]] == ["OTH", "OTH"]


async def test_versions_needs_a_known_token(server: RunningServer) -> None:
    answer = await ocpi_call(server, "GET", "/versions", None)
    assert answer.status_code == 401
    _assert_envelope(answer.json(), 2000)
    answer = await ocpi_get(server, "/versions", "not-a-token")
    assert answer.status_code == 401
    _assert_envelope(answer.json(), 2000)


async def test_token_a_opens_versions_and_credentials_only(server: RunningServer) -> None:
    token = (await server.api.post("/ocpi/registration-tokens")).json()["token"]
    answer = await ocpi_get(server, "/versions", token)
    assert answer.status_code == 200
    body = answer.json()
    _assert_envelope(body, 1000)
    assert body["data"] == [{"version": "2.2.1",
                             "url": f"{server.base_url}/ocpi/2.2.1"}]
    assert answer.headers["X-Request-ID"] and answer.headers["X-Correlation-ID"]
    details = (await ocpi_get(server, "/2.2.1", token)).json()["data"]
    assert details["version"] == "2.2.1"
    identifiers = {(e["identifier"], e["role"]) for e in details["endpoints"]}
    assert ("credentials", "SENDER") in identifiers
    assert ("locations", "SENDER") in identifiers and ("locations", "RECEIVER") in identifiers
    # transport_and_format §Authorization: token A on a functional module is a 401.
    answer = await ocpi_get(server, "/cpo/2.2.1/locations", token)
    assert answer.status_code == 401
    _assert_envelope(answer.json(), 2000)
    # GET credentials before registering is not allowed (405).
    answer = await ocpi_get(server, "/2.2.1/credentials", token)
    assert answer.status_code == 405


async def test_request_and_correlation_ids_are_echoed(server: RunningServer) -> None:
    token = (await server.api.post("/ocpi/registration-tokens")).json()["token"]
    answer = await ocpi_get(server, "/versions", token,
                            headers={"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"})
    assert answer.headers["X-Request-ID"] == "req-1"
    assert answer.headers["X-Correlation-ID"] == "corr-1"


async def test_plain_token_is_accepted_and_noted(server: RunningServer) -> None:
    issued = (await server.api.post("/ocpi/registration-tokens")).json()
    # A token that is not valid Base64 can only be meant literally.
    answer = await ocpi_call(server, "GET", "/versions", None,
                             headers=token_header(issued["token"], plain=True))
    assert answer.status_code == 200
    partner = (await server.api.get(f"/ocpi/partners/{issued['partner_id']}")).json()
    assert partner["sends_plain_token"] is True


async def test_registration_with_unreachable_partner_fails_cleanly(server: RunningServer) -> None:
    answer = await server.api.post("/ocpi/partners", json={
        "versions_url": "http://127.0.0.1:9/ocpi/versions", "token": "abc"})
    assert answer.status_code == 422
    assert "versions_url" in answer.json()["detail"]
    answer = await server.api.post("/ocpi/partners", json={"versions_url": "ftp://x",
                                                           "token": "abc"})
    assert answer.status_code == 422
    assert "versions_url" in answer.json()["detail"]


async def test_second_post_is_refused_and_put_updates_tokens(sqlite_url: str,
                                                             tmp_path: Path) -> None:
    async with cpo_and_emsp(sqlite_url, f"sqlite:///{tmp_path}/e.db") as pair:
        old_token = await pair.token_cpo_uses()
        # credentials §POST: once registered, POST is 405.
        body = {"token": "x" * 10, "url": f"{pair.cpo.base_url}/ocpi/versions",
                "roles": [{"role": "CPO", "country_code": "NL", "party_id": "CPO",
                           "business_details": {"name": "x"}}]}
        answer = await ocpi_call(pair.emsp, "POST", "/2.2.1/credentials", old_token, json=body)
        assert answer.status_code == 405
        # Re-registration through the admin API: both tokens change, the relation stays.
        answer = await pair.cpo.api.post(f"/ocpi/partners/{pair.cpo_partner_id}/reregister")
        assert answer.status_code == 200, answer.text
        new_token = await pair.token_cpo_uses()
        assert new_token != old_token
        assert (await ocpi_get(pair.emsp, "/versions", old_token)).status_code == 401
        assert (await ocpi_get(pair.emsp, "/versions", new_token)).status_code == 200
        [at_emsp] = await _partners(pair.emsp)
        assert at_emsp["status"] == "CONNECTED"


async def test_unregistration_suspends_both_sides(sqlite_url: str, tmp_path: Path) -> None:
    async with cpo_and_emsp(sqlite_url, f"sqlite:///{tmp_path}/e.db") as pair:
        token = await pair.token_cpo_uses()
        answer = await pair.cpo.api.delete(f"/ocpi/partners/{pair.cpo_partner_id}")
        assert answer.status_code == 200
        assert answer.json()["status"] == "SUSPENDED"
        [at_emsp] = await _partners(pair.emsp)
        assert at_emsp["status"] == "SUSPENDED"
        # credentials §DELETE: the token no longer opens anything.
        assert (await ocpi_get(pair.emsp, "/versions", token)).status_code == 401


@pytest.mark.parametrize("broken", [
    {"url": "http://x/versions", "roles": []},
    {"token": "t", "url": "nope", "roles": [{"role": "CPO", "country_code": "NL",
                                              "party_id": "ABC"}]},
    {"token": "t", "url": "http://x", "roles": [{"role": "KING", "country_code": "NL",
                                                  "party_id": "ABC"}]},
])
async def test_invalid_credentials_get_2001(server: RunningServer,
                                            broken: dict[str, Any]) -> None:
    token = (await server.api.post("/ocpi/registration-tokens")).json()["token"]
    answer = await ocpi_call(server, "POST", "/2.2.1/credentials", token, json=broken)
    assert answer.status_code == 200
    _assert_envelope(answer.json(), 2001)


async def test_partner_versions_unreachable_gives_3001(server: RunningServer) -> None:
    token = (await server.api.post("/ocpi/registration-tokens")).json()["token"]
    body = {"token": "their-token", "url": "http://127.0.0.1:9/ocpi/versions",
            "roles": [{"role": "EMSP", "country_code": "DE", "party_id": "ABC",
                       "business_details": {"name": "x"}}]}
    answer = await ocpi_call(server, "POST", "/2.2.1/credentials", token, json=body)
    _assert_envelope(answer.json(), 3001)
    # The registration token still works for a second try.
    assert (await ocpi_get(server, "/versions", token)).status_code == 200


async def test_body_that_is_not_json_is_400(server: RunningServer) -> None:
    token = (await server.api.post("/ocpi/registration-tokens")).json()["token"]
    answer = await ocpi_call(server, "POST", "/2.2.1/credentials", token, content=b"{nope",
                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    _assert_envelope(answer.json(), 2000)
