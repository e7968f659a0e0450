"""OCPI CPO role, Tokens receiver and roaming authorization (mod_tokens): eMSPs push tokens,
stations (OCPP 1.6, 2.0.1, 2.1) are authorized with them -- whitelisted, or in real time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.ocpi import ocpi_call, ocpi_settings, register
from tests.support.ocpi_peer import LoopbackServer, free_port
from tests.support.server import RunningServer, run_server
from tests.support.station2x import connect2x
from tests.support.station16 import connect16
from volthub.domain.roaming import Partner, PartnerStatus
from volthub.ocpi.auth import token_digest
from volthub.ocpi.envelope import envelope

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "ocpi_examples"
STAND_IN_TOKEN = "stand-in-calls-the-cpo"  # the credentials token the stand-in eMSP uses
TOKENS = "/cpo/2.2.1/tokens"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def ocpi_token(uid: str, whitelist: str, valid: bool = True,
               party: tuple[str, str] = ("DE", "MSP")) -> dict[str, Any]:
    return {"country_code": party[0], "party_id": party[1], "uid": uid, "type": "RFID",
            "contract_id": f"{party[0]}-{party[1]}-C-{uid}", "issuer": "Stand-in Mobility",
            "valid": valid, "whitelist": whitelist, "last_updated": "2026-01-05T10:00:00Z"}


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandInEmsp:
    """A minimal eMSP (party DE*MSP): answers real-time authorizations from `decisions`
    (uid → (AllowedType, authorization_reference)), 404/2004 for other uids, 1000 to every
    push; records every request."""

    decisions: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _loopback: LoopbackServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _record(self, request: Request) -> None:
        raw = await request.body()
        self.received.append(Received(request.method, request.url.path, request.url.query,
                                      dict(request.headers), json.loads(raw) if raw else None))

    async def _authorize(self, request: Request) -> JSONResponse:
        await self._record(request)
        uid = request.path_params["uid"]
        if uid not in self.decisions:
            # mod_tokens §POST: an unknown token is HTTP 404 with OCPI 2004.
            return JSONResponse(envelope(None, 2004, "unknown token"), status_code=404)
        allowed, reference = self.decisions[uid]
        info: dict[str, Any] = {"allowed": allowed, "token": ocpi_token(uid, "NEVER")}
        if reference:
            info["authorization_reference"] = reference
        return JSONResponse(envelope(info))

    async def _push(self, request: Request) -> JSONResponse:
        await self._record(request)
        return JSONResponse(envelope(None))

    async def start(self) -> None:
        self._loopback = LoopbackServer(self.port)
        await self._loopback.start(Starlette(routes=[
            Route("/tokens/{uid}/authorize", self._authorize, methods=["POST"]),
            Route("/{path:path}", self._push, methods=["GET", "POST", "PUT", "PATCH"]),
        ]))

    async def stop(self) -> None:
        if self._loopback is not None:
            await self._loopback.stop()

    def authorize_requests(self) -> list[Received]:
        return [r for r in self.received if r.path.endswith("/authorize")]


async def add_stand_in(server: RunningServer, emsp: StandInEmsp,
                       token_in: str = STAND_IN_TOKEN, party: tuple[str, str] = ("DE", "MSP"),
                       ) -> int:
    """Registers the stand-in as an eMSP partner straight in storage (no handshake): its tokens
    SENDER, sessions and CDRs RECEIVER endpoints, and the token it calls us with."""
    endpoints = [
        {"identifier": "tokens", "role": "SENDER", "url": f"{emsp.url}/tokens"},
        {"identifier": "sessions", "role": "RECEIVER", "url": f"{emsp.url}/sessions"},
        {"identifier": "cdrs", "role": "RECEIVER", "url": f"{emsp.url}/cdrs"},
    ]
    partner = Partner(id=0, status=PartnerStatus.CONNECTED,
                      roles=[{"role": "EMSP", "country_code": party[0], "party_id": party[1],
                              "business_details": {"name": "stand-in"}}],
                      versions_url=f"{emsp.url}/versions", version="2.2.1", endpoints=endpoints,
                      token_out=f"cpo-calls-{party[1]}", token_in_sha256=token_digest(token_in))
    container = server.container
    now = container.services.clock()
    return await container.services.storage.write(lambda r: r.insert_partner(partner, now))


async def put_token(server: RunningServer, token: dict[str, Any],
                    as_token: str = STAND_IN_TOKEN) -> None:
    answer = await ocpi_call(
        server, "PUT", f"{TOKENS}/{token['country_code']}/{token['party_id']}/{token['uid']}",
        as_token, json=token)
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["status_code"] == 1000, answer.text


async def add_station(server: RunningServer, station_id: str) -> str:
    location = {"id": f"LOC-{station_id}", "name": "Depot", "address": "Main St 1",
                "city": "Amsterdam", "country": "NLD", "latitude": 52.37, "longitude": 4.89,
                "time_zone": "Europe/Amsterdam"}
    assert (await server.api.post("/locations", json=location)).status_code == 201
    answer = await server.api.post("/stations", json={"id": station_id,
                                                      "location_id": location["id"]})
    assert answer.status_code == 201, answer.text
    return str(location["id"])


def assert_answer(answer: Any, http: int, ocpi: int) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()
    assert (answer.status_code, body.get("status_code")) == (http, ocpi), answer.text
    assert body["timestamp"].endswith("Z")
    return body


# -- Tokens receiver between two volthub instances -----------------------------------------


async def test_tokens_put_patch_get_with_the_spec_examples(database_url: str,
                                                           tmp_path: Path) -> None:
    # The eMSP is NL*TNM, the party of the spec's examples, so they go in unchanged.
    async with run_server(ocpi_settings(database_url, "NL", "CPO", "CPO")) as cpo, \
            run_server(ocpi_settings(f"sqlite:///{tmp_path}/e.db", "NL", "TNM", "EMSP")) as emsp:
        _, cpo_at_emsp = await register(cpo, emsp)
        partner = await emsp.container.roaming.registration.get(cpo_at_emsp)
        assert partner.token_out
        token = partner.token_out
        put = example("token_put_example.json")
        url = f"{TOKENS}/NL/TNM/012345678"

        assert_answer(await ocpi_call(cpo, "PUT", url, token, json=put), 201, 1000)
        got = assert_answer(await ocpi_call(cpo, "GET", url, token), 200, 1000)
        assert got["data"] == put
        # Again: an update is 200 (status_codes: 201 only when created).
        assert_answer(await ocpi_call(cpo, "PUT", f"{url}?type=RFID", token, json=put), 200, 1000)

        patch = example("token_patch_example.json")
        assert_answer(await ocpi_call(cpo, "PATCH", url, token, json=patch), 200, 1000)
        got = assert_answer(await ocpi_call(cpo, "GET", f"{url}?type=RFID", token), 200, 1000)
        assert got["data"] == {**put, **patch}

        # Unknown: HTTP 404 with 2004 (Unknown Token) for GET and PATCH, also by type.
        assert_answer(await ocpi_call(cpo, "GET", f"{TOKENS}/NL/TNM/NOPE", token), 404, 2004)
        assert_answer(await ocpi_call(cpo, "GET", f"{url}?type=APP_USER", token), 404, 2004)
        assert_answer(await ocpi_call(cpo, "PATCH", f"{TOKENS}/NL/TNM/NOPE", token, json=patch),
                404, 2004)


async def test_tokens_receiver_refuses_what_does_not_fit(sqlite_url: str,
                                                         tmp_path: Path) -> None:
    async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo, \
            run_server(ocpi_settings(f"sqlite:///{tmp_path}/e.db", "NL", "TNM", "EMSP")) as emsp:
        _, cpo_at_emsp = await register(cpo, emsp)
        token = (await emsp.container.roaming.registration.get(cpo_at_emsp)).token_out
        assert token
        put = example("token_put_example.json")
        url = f"{TOKENS}/NL/TNM/012345678"
        # transport_and_format §Errors: an id in the URL that differs from the object: 2001.
        body = assert_answer(await ocpi_call(cpo, "PUT", f"{TOKENS}/NL/TNM/OTHER", token, json=put),
                       200, 2001)
        assert "uid" in body["status_message"]
        assert_answer(await ocpi_call(cpo, "PUT", url, token, json={**put, "party_id": "XYZ"}),
                200, 2001)
        assert_answer(await ocpi_call(cpo, "PUT", f"{url}?type=APP_USER", token, json=put), 200, 2001)
        # Not a Token (whitelist missing, valid a string): 2001 naming the fields.
        broken = {k: v for k, v in put.items() if k != "whitelist"} | {"valid": "yes"}
        body = assert_answer(await ocpi_call(cpo, "PUT", url, token, json=broken), 200, 2001)
        assert "whitelist" in body["status_message"] and "valid" in body["status_message"]
        # Not JSON at all: HTTP 400 (status_codes).
        answer = await ocpi_call(cpo, "PUT", url, token, content=b"{not json",
                                 headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        # Another party's token from a platform that is not a hub: 404 (transport_and_format
        # §Client Owned Object Push, Errors).
        other = {**put, "country_code": "DE", "party_id": "XYZ"}
        assert_answer(await ocpi_call(cpo, "PUT", f"{TOKENS}/DE/XYZ/012345678", token, json=other),
                404, 2000)
        # Without credentials: 401.
        assert_answer(await ocpi_call(cpo, "PUT", url, None, json=put), 401, 2000)

        assert_answer(await ocpi_call(cpo, "PUT", url, token, json=put), 201, 1000)
        # mod_tokens §PATCH: last_updated is required (status_codes: 2001).
        body = assert_answer(await ocpi_call(cpo, "PATCH", url, token, json={"valid": False}),
                       200, 2001)
        assert "last_updated" in body["status_message"]
        assert_answer(await ocpi_call(cpo, "PATCH", url, token, json={
            "uid": "OTHER", "last_updated": "2019-06-19T02:11:11Z"}), 200, 2001)
        assert_answer(await ocpi_call(cpo, "PATCH", url, token, json={
            "whitelist": "SOMETIMES", "last_updated": "2019-06-19T02:11:11Z"}), 200, 2001)
        # Nothing of that was stored.
        got = assert_answer(await ocpi_call(cpo, "GET", url, token), 200, 1000)
        assert got["data"] == put
        assert_answer(await ocpi_call(cpo, "GET", f"{TOKENS}/DE/XYZ/012345678", token), 404, 2000)


# -- OCPP authorization with roaming tokens --------------------------------------------------


@pytest.fixture
async def stand_in() -> Any:
    emsp = StandInEmsp()
    await emsp.start()
    try:
        yield emsp
    finally:
        await emsp.stop()


async def _authorize(station: Any, uid: str) -> str:
    answer = await station.call(call.Authorize(id_tag=uid))
    return str(answer.id_tag_info["status"])


async def test_whitelisted_roaming_tokens_are_decided_without_the_emsp(
    sqlite_url: str, stand_in: StandInEmsp,
) -> None:
    async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo:
        await add_stand_in(cpo, stand_in)
        await put_token(cpo, ocpi_token("RFID-ALWAYS", "ALWAYS"))
        await put_token(cpo, ocpi_token("RFID-ALLOWED", "ALLOWED"))
        await put_token(cpo, ocpi_token("RFID-INVALID", "ALLOWED", valid=False))
        await add_station(cpo, "CP-T1")
        async with connect16(cpo.ocpp_url, "CP-T1") as station:
            assert await _authorize(station, "RFID-ALWAYS") == "Accepted"
            assert await _authorize(station, "RFID-ALLOWED") == "Accepted"
            assert await _authorize(station, "RFID-INVALID") == "Invalid"
            started = await station.call(call.StartTransaction(
                connector_id=1, id_tag="RFID-ALLOWED", meter_start=0,
                timestamp=datetime.now(UTC).isoformat()))
            assert started.id_tag_info["status"] == "Accepted"
        # Whitelisted: the eMSP was never asked.
        assert stand_in.authorize_requests() == []


async def test_never_whitelisted_tokens_are_authorized_in_real_time(
    database_url: str, stand_in: StandInEmsp,
) -> None:
    stand_in.decisions = {"RT-1": ("ALLOWED", "REF-1"), "RT-BLOCKED": ("BLOCKED", None),
                          "RT-NOCREDIT": ("NO_CREDIT", None), "RT-NEW": ("ALLOWED", "REF-N")}
    async with run_server(ocpi_settings(database_url, "NL", "CPO", "CPO")) as cpo:
        await add_stand_in(cpo, stand_in)
        for uid in ("RT-1", "RT-BLOCKED", "RT-NOCREDIT", "RT-UNKNOWN-THERE"):
            await put_token(cpo, ocpi_token(uid, "NEVER"))
        location_id = await add_station(cpo, "CP-T2")
        async with connect16(cpo.ocpp_url, "CP-T2") as station:
            assert await _authorize(station, "RT-1") == "Accepted"
            [asked] = stand_in.authorize_requests()
            assert asked.method == "POST" and asked.path == "/tokens/RT-1/authorize"
            assert asked.query == "type=RFID"
            # mod_tokens §POST body: the LocationReferences of the station.
            assert asked.body in (None, {"location_id": location_id})
            assert asked.headers["authorization"].startswith("Token ")
            assert (asked.headers["ocpi-to-country-code"],
                    asked.headers["ocpi-to-party-id"]) == ("DE", "MSP")
            assert (asked.headers["ocpi-from-country-code"],
                    asked.headers["ocpi-from-party-id"]) == ("NL", "CPO")
            # The StartTransaction that follows is accepted on that real-time grant.
            started = await station.call(call.StartTransaction(
                connector_id=1, id_tag="RT-1", meter_start=0,
                timestamp=datetime.now(UTC).isoformat()))
            assert started.id_tag_info["status"] == "Accepted"
            assert len(stand_in.authorize_requests()) == 1
            assert await _authorize(station, "RT-BLOCKED") == "Blocked"
            assert await _authorize(station, "RT-NOCREDIT") == "Invalid"
            # The eMSP does not know it (404/2004): not authorized (1.6 has no Unknown).
            assert await _authorize(station, "RT-UNKNOWN-THERE") == "Invalid"
            # A refused token does not start a transaction either.
            started = await station.call(call.StartTransaction(
                connector_id=2, id_tag="RT-BLOCKED", meter_start=0,
                timestamp=datetime.now(UTC).isoformat()))
            assert started.id_tag_info["status"] == "Invalid"
            # Never pushed: the eMSPs offering real-time authorization are asked; the token in
            # the answer is kept (the eMSP can GET it back).
            assert await _authorize(station, "RT-NEW") == "Accepted"
        kept = assert_answer(await ocpi_call(cpo, "GET", f"{TOKENS}/DE/MSP/RT-NEW", STAND_IN_TOKEN),
                       200, 1000)
        assert kept["data"]["whitelist"] == "NEVER"
        grant = await cpo.container.services.storage.read(
            lambda r: r.latest_roaming_authorization("RT-NEW"))
        assert grant is not None
        assert (grant.allowed, grant.authorization_reference) == ("ALLOWED", "REF-N")


async def test_an_unreachable_emsp_allows_only_allowed_offline_tokens(
    sqlite_url: str, stand_in: StandInEmsp,
) -> None:
    async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo:
        await add_stand_in(cpo, stand_in)
        await put_token(cpo, ocpi_token("OFF-OK", "ALLOWED_OFFLINE"))
        await put_token(cpo, ocpi_token("OFF-INVALID", "ALLOWED_OFFLINE", valid=False))
        await put_token(cpo, ocpi_token("OFF-NEVER", "NEVER"))
        await stand_in.stop()  # connection refused from now on
        await add_station(cpo, "CP-T3")
        async with connect16(cpo.ocpp_url, "CP-T3") as station:
            # mod_tokens §WhitelistType ALLOWED_OFFLINE: allowed when the eMSP cannot answer.
            assert await _authorize(station, "OFF-OK") == "Accepted"
            started = await station.call(call.StartTransaction(
                connector_id=1, id_tag="OFF-OK", meter_start=0,
                timestamp=datetime.now(UTC).isoformat()))
            assert started.id_tag_info["status"] == "Accepted"
            assert await _authorize(station, "OFF-INVALID") == "Invalid"
            # NEVER: only the eMSP may allow it.
            assert await _authorize(station, "OFF-NEVER") == "Invalid"


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_a_2x_station_gets_real_time_answers_and_its_session_is_pushed(
    sqlite_url: str, stand_in: StandInEmsp, version: str,
) -> None:
    stand_in.decisions = {"RT-X": ("ALLOWED", "REF-X"), "RT-XB": ("BLOCKED", None)}
    async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo:
        partner_id = await add_stand_in(cpo, stand_in)
        for uid in ("RT-X", "RT-XB"):
            await put_token(cpo, ocpi_token(uid, "NEVER"))
        await add_station(cpo, "CP-T2X")

        async with connect2x(cpo.ocpp_url, "CP-T2X", version) as station:
            async def authorize(uid: str) -> str:
                answer = await station.send("Authorize", {"idToken": {"idToken": uid,
                                                                      "type": "ISO14443"}})
                return str(answer["idTokenInfo"]["status"])

            assert await authorize("RT-X") == "Accepted"
            assert await authorize("RT-XB") == "Blocked"
            # Unknown to everybody: 2.x keeps Unknown.
            assert await authorize("NOBODY-KNOWS") == "Unknown"
            started = await station.send("TransactionEvent", {
                "eventType": "Started", "timestamp": datetime.now(UTC).isoformat(),
                "triggerReason": "Authorized", "seqNo": 0,
                "transactionInfo": {"transactionId": "TX-RT"},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": "RT-X", "type": "ISO14443"}})
            assert started["idTokenInfo"]["status"] == "Accepted"
        await cpo.container.services.events.drain()
        [push] = await cpo.container.services.storage.read(
            lambda r: r.list_pushes(partner_id, False, 10))
        assert (push.module, push.method) == ("sessions", "PUT")
        assert push.body["status"] == "ACTIVE" and push.body["cdr_token"]["uid"] == "RT-X"
        assert (push.body["auth_method"], push.body["authorization_reference"]) == (
            "AUTH_REQUEST", "REF-X")
        assert (push.body["evse_uid"], push.body["connector_id"]) == ("CP-T2X-1", "1")
