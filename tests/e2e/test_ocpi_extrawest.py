"""volthub as CPO with an independent OCPI 2.2.1 eMSP (extrawest-ocpi, tests/peers/extrawest):
registration, Location pushes, Token pushes, START/STOP_SESSION with Session and CDR pushes,
and an outage of the peer.

Every tolerance of the peer's behaviour names its item in tests/peers/extrawest/DEVIATIONS.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from tests.support.extrawest import (  # noqa: F401  (the fixtures, found by name)
    ExtrawestPeer,
    b64,
    extrawest_fixture,
    extrawest_process_fixture,
)
from tests.support.ocpi import ocpi_call, ocpi_settings
from tests.support.server import RunningServer, run_server
from tests.support.station16 import TestStation16, connect16
from volthub.services.billing import emi3_evse_id

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "ocpi_examples"
CC, PARTY = "NL", "VHB"  # our OCPI identity in these tests
ROUTING = ("ocpi_from_country_code", "ocpi_from_party_id", "ocpi_to_country_code",
           "ocpi_to_party_id")
WAIT_S = 15.0

# The spec's tariff example session (see test_billing_sessions.py): 20 kWh and 40 minutes of
# parking cost EUR 7.00 excl. VAT / 7.90 incl. VAT.
T0 = "2026-03-02T08:00:00Z"
T_CHARGING_1H = "2026-03-02T09:00:00Z"
T_FULL = "2026-03-02T10:00:00Z"
T_STOP = "2026-03-02T10:40:00Z"


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    settings = ocpi_settings(sqlite_url, CC, PARTY, "CPO", cost_update_interval_s=0.0)
    async with run_server(settings) as running:
        yield running


# helpers -------------------------------------------------------------------------------------
def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def peer_token(peer: ExtrawestPeer, uid: str, **changes: Any) -> dict[str, Any]:
    """The spec's full RFID Token example, issued by the peer."""
    token = example("token_example_2_full_rfid.json")
    token.update(country_code=peer.country_code, party_id=peer.party_id, uid=uid, **changes)
    return token


def same(a: Any, b: Any) -> bool:
    """CiString comparison: the peer lower-cases every CiString it stores (DEVIATIONS 19)."""
    return str(a).lower() == str(b).lower()


def key(*parts: str) -> str:
    """The peer's /debug/objects key of a party's object (lower-case, DEVIATIONS 19)."""
    return "/".join(parts).lower()


async def register(server: RunningServer, peer: ExtrawestPeer) -> dict[str, Any]:
    token_a = await peer.new_token_a()
    answer = await server.api.post("/ocpi/partners", json={"versions_url": peer.versions_url,
                                                           "token": token_a})
    assert answer.status_code == 201, answer.text
    partner: dict[str, Any] = answer.json()
    return partner


async def flush(server: RunningServer) -> None:
    """Deliver every domain event, then every push that is due."""
    await server.container.services.events.drain()
    await server.container.roaming.outbox.deliver_due()


async def until(server: RunningServer, peer: ExtrawestPeer,
                check: Callable[[dict[str, Any]], Any], what: str) -> Any:
    """Flush our pushes and read the peer's objects until `check` gives a truthy value."""
    objects: dict[str, Any] = {}
    for _ in range(int(WAIT_S / 0.1)):
        await flush(server)
        objects = await peer.objects()
        if result := check(objects):
            return result
        await asyncio.sleep(0.1)
    pending = (await server.api.get("/ocpi/outbox")).json()
    shown = {k: v for k, v in objects.items() if k != "requests"}
    raise AssertionError(f"{what}: not at the peer within {WAIT_S} s.\npeer: {shown}\n"
                         f"our outbox: {pending}\nrequests: {objects.get('requests', [])[-10:]}")


async def eventually(probe: Callable[[], Awaitable[Any]], what: str) -> Any:
    for _ in range(int(WAIT_S / 0.1)):
        if result := await probe():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {WAIT_S} s")


async def partner_of(server: RunningServer, partner_id: int) -> dict[str, Any]:
    answer = await server.api.get(f"/ocpi/partners/{partner_id}")
    assert answer.status_code == 200, answer.text
    partner: dict[str, Any] = answer.json()
    return partner


async def token_c_and_b(peer: ExtrawestPeer) -> tuple[str, str]:
    """(token C the peer gave us, token B we gave the peer) from the peer's credentials store."""
    [registration] = (await peer.objects())["credentials"]
    return str(registration["token_c"]), str(registration["credentials"]["token"])


async def placed_station(server: RunningServer, station_id: str, location_id: str
                         ) -> dict[str, Any]:
    """A location via the admin API; the (connected) station is then moved into it."""
    location = {"id": location_id, "name": "Depot", "address": "Main St 1",
                "city": "Amsterdam", "postal_code": "1011 AB", "country": "NLD",
                "latitude": 52.37, "longitude": 4.89, "time_zone": "Europe/Amsterdam"}
    answer = await server.api.post("/locations", json=location)
    assert answer.status_code == 201, answer.text
    answer = await server.api.patch(f"/stations/{station_id}", json={"location_id": location_id})
    assert answer.status_code == 200, answer.text
    return location


async def status(station: TestStation16, value: str, connector_id: int = 1) -> None:
    await station.call(call.StatusNotification(connector_id=connector_id, error_code="NoError",
                                               status=value))


def evse_of(location: dict[str, Any], uid: str) -> dict[str, Any] | None:
    return next((e for e in location.get("evses") or [] if same(e["uid"], uid)), None)


def pushed_location(location_id: str, evse_uid: str, evse_status: str,
                    ) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    def check(objects: dict[str, Any]) -> dict[str, Any] | None:
        location = objects["locations"].get(key(CC, PARTY, location_id))
        evse = evse_of(location, evse_uid) if location else None
        return location if evse and evse["status"] == evse_status else None

    return check


def requests_to(objects: dict[str, Any], method: str, module: str) -> list[dict[str, Any]]:
    return [r for r in objects["requests"] if r["method"] == method
            and r["path"].startswith(f"/ocpi/emsp/2.2.1/{module}")]


def assert_ours(request: dict[str, Any], token_c: str, peer: ExtrawestPeer) -> None:
    """transport_and_format: `Token base64(C)`, request ids, routing from us to the peer."""
    assert request["authorization"] == f"Token {b64(token_c)}", request
    assert request["x_request_id"] and request["x_correlation_id"], request
    assert (request["ocpi_from_country_code"], request["ocpi_from_party_id"]) == (CC, PARTY)
    # Our Partner holds the peer's party as it sent it: lower-case (DEVIATIONS 19).
    assert same(request["ocpi_to_country_code"], peer.country_code), request
    assert same(request["ocpi_to_party_id"], peer.party_id), request


# 1. registration -----------------------------------------------------------------------------
async def test_volthub_registers_with_the_peer(server: RunningServer,
                                               extrawest: ExtrawestPeer) -> None:
    token_a = await extrawest.new_token_a()
    answer = await server.api.post("/ocpi/partners", json={
        "versions_url": extrawest.versions_url, "token": token_a})
    assert answer.status_code == 201, answer.text
    partner = answer.json()
    assert partner["status"] == "CONNECTED"
    assert partner["roles"] == ["EMSP"]
    # The peer answers its credentials role lower-cased and our Partner keeps what it got
    # (DEVIATIONS 19); the OCPI comparison is case-insensitive.
    assert (partner["country_code"], partner["party_id"]) == ("de", "exw")
    assert partner["versions_url"] == extrawest.versions_url
    # Endpoint URLs end in "/" (DEVIATIONS 15).
    assert {"identifier": "locations", "role": "RECEIVER",
            "url": f"{extrawest.url}/ocpi/emsp/2.2.1/locations/"} in partner["endpoints"]
    assert {"identifier": "commands", "role": "SENDER",
            "url": f"{extrawest.url}/ocpi/emsp/2.2.1/commands/"} in partner["endpoints"]

    objects = await extrawest.objects()
    # Our side of the handshake: versions, details, POST credentials, all with base64(A) and
    # request ids, none with routing headers (transport_and_format §Message Routing Headers:
    # not for versions and credentials).
    handshake = [(r["method"], r["path"]) for r in objects["requests"]]
    assert handshake == [("GET", "/ocpi/versions"), ("GET", "/ocpi/2.2.1/details"),
                         ("POST", "/ocpi/emsp/2.2.1/credentials/")]
    for request in objects["requests"]:
        assert request["authorization"] == f"Token {b64(token_a)}", request
        assert request["x_request_id"] and request["x_correlation_id"], request
        assert all(request[h] is None for h in ROUTING), request

    # The peer called our versions and 2.2.1 details with token B before answering: it stores
    # the details it got (only after an HTTP 200, DEVIATIONS 26), and B is the token we gave.
    [registration] = objects["credentials"]
    token_b = registration["credentials"]["token"]
    assert registration["endpoints"]["version"] == "2.2.1"
    assert {"identifier": "locations", "role": "SENDER",
            "url": f"{server.base_url}/ocpi/cpo/2.2.1/locations"} \
        in registration["endpoints"]["endpoints"]
    assert registration["credentials"]["url"] == f"{server.base_url}/ocpi/versions"
    ours = (await ocpi_call(server, "GET", "/2.2.1", token_b)).json()
    assert ours["status_code"] == 1000, ours
    stored = await server.container.roaming.registration.get(partner["id"])
    assert stored.token_out == registration["token_c"]

    # A later call of ours (a Location push through the outbox) carries base64(C), request ids
    # and the routing headers from us to the peer.
    location = example("location_example.json")
    location.update(country_code=CC, party_id=PARTY, id="LOC-HDR")
    await server.container.roaming.outbox.push(
        partner["id"], "locations", "PUT", f"/{CC}/{PARTY}/LOC-HDR", location,
        object_key="location:LOC-HDR", to_party=(partner["country_code"], partner["party_id"]))
    await until(server, extrawest, lambda o: o["locations"].get(key(CC, PARTY, "LOC-HDR")),
                "the pushed location")
    [put] = requests_to(await extrawest.objects(), "PUT", "locations")
    assert put["path"] == f"/ocpi/emsp/2.2.1/locations/{CC}/{PARTY}/LOC-HDR"
    assert_ours(put, registration["token_c"], extrawest)
    assert (await partner_of(server, partner["id"]))["status"] == "CONNECTED"


# 2. Locations --------------------------------------------------------------------------------
async def test_station_status_reaches_the_peer_as_location_and_evse(
    server: RunningServer, extrawest: ExtrawestPeer,
) -> None:
    partner = await register(server, extrawest)
    token_c, _ = await token_c_and_b(extrawest)
    station_id, location_id = "CP-EXW-LOC", "LOC-EXW-2"
    evse_uid = f"{station_id}-1"
    async with connect16(server.ocpp_url, station_id) as station:
        await status(station, "Available")
        await placed_station(server, station_id, location_id)
        location = await until(server, extrawest,
                               pushed_location(location_id, evse_uid, "AVAILABLE"),
                               "the Location with an AVAILABLE EVSE")
        assert same(location["id"], location_id)  # DEVIATIONS 19 (lower-cased)
        assert (location["country_code"], location["party_id"]) == ("nl", "vhb")  # DEVIATIONS 19
        assert location["name"] == "Depot"
        assert (location["address"], location["city"], location["country"]) == \
            ("Main St 1", "Amsterdam", "NLD")
        assert float(location["coordinates"]["latitude"]) == pytest.approx(52.37)
        evse = evse_of(location, evse_uid)
        assert evse is not None
        assert same(evse["evse_id"], emi3_evse_id(CC, PARTY, station_id, 1))
        assert [c["id"] for c in evse["connectors"]] == ["1"]
        put = requests_to(await extrawest.objects(), "PUT", "locations")
        assert put, "the Location came as a PUT"
        assert_ours(put[-1], token_c, extrawest)

        await status(station, "Faulted")
        await until(server, extrawest, pushed_location(location_id, evse_uid, "OUTOFORDER"),
                    "the EVSE's OUTOFORDER status")
        patches = requests_to(await extrawest.objects(), "PATCH", "locations")
        assert [p["path"] for p in patches] == \
            [f"/ocpi/emsp/2.2.1/locations/{CC}/{PARTY}/{location_id}/{evse_uid}"]
        assert_ours(patches[0], token_c, extrawest)
    assert (await partner_of(server, partner["id"]))["status"] == "CONNECTED"


# 3. Tokens -----------------------------------------------------------------------------------
async def test_a_token_pushed_by_the_peer_authorizes_at_a_station(
    server: RunningServer, extrawest: ExtrawestPeer,
) -> None:
    await register(server, extrawest)
    allowed = peer_token(extrawest, "12345678905880")
    blocked = peer_token(extrawest, "12345678905881", valid=False)
    pushed = await extrawest.push_tokens([allowed, blocked])
    for answer in pushed:
        # The peer's URL segments are lower-case (DEVIATIONS 19).
        assert answer["url"].startswith(
            f"{server.base_url}/ocpi/cpo/2.2.1/tokens/de/exw/1234567890588"), answer
        # status_codes: HTTP 201 for a newly created object.
        assert answer["status"] == 201 and answer["body"]["status_code"] == 1000, answer

    stored = await server.container.roaming.storage.read(
        lambda r: r.find_roaming_objects("tokens", "12345678905880"))
    [token] = stored
    assert (token.country_code.upper(), token.party_id.upper()) == ("DE", "EXW")
    assert token.data["whitelist"] == "ALLOWED" and token.data["valid"] is True
    assert token.data["contract_id"].upper() == "DE8ACC12E46L89"  # DEVIATIONS 19

    async with connect16(server.ocpp_url, "CP-EXW-TOK") as station:
        answer = await station.call(call.Authorize(id_tag="12345678905880"))
        assert answer.id_tag_info["status"] == "Accepted"
        answer = await station.call(call.Authorize(id_tag="12345678905881"))
        assert answer.id_tag_info["status"] != "Accepted"


# 4. Commands, Sessions, CDRs -----------------------------------------------------------------
def spec_tariff(tariff_id: str) -> dict[str, Any]:
    body = example("tariff_10_025kwh_parking_start.json")
    body["id"] = tariff_id
    for field in ("country_code", "party_id", "last_updated"):
        body.pop(field, None)
    return body


async def priced_location(server: RunningServer, station_id: str, location_id: str) -> None:
    await placed_station(server, station_id, location_id)
    answer = await server.api.post("/tariffs", json=spec_tariff("T10"))
    assert answer.status_code == 201, answer.text
    answer = await server.api.post("/tariff-assignments", json={"tariff_id": "T10",
                                                                "location_id": location_id})
    assert answer.status_code == 201, answer.text


async def received(station: TestStation16, action: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return next((kw for a, kw in station.received if a == action), None)

    result: dict[str, Any] = await eventually(probe, f"{action} at the station")
    return result


def meter(wh: int, at: str) -> list[dict[str, Any]]:
    return [{"timestamp": at, "sampledValue": [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]


async def test_start_and_stop_session_from_the_peer_end_in_a_priced_cdr(
    server: RunningServer, extrawest: ExtrawestPeer,
) -> None:
    await register(server, extrawest)
    token_c, _ = await token_c_and_b(extrawest)
    station_id, location_id, uid = "CP-EXW-CMD", "LOC-EXW-4", "12345678905880"
    evse_uid = f"{station_id}-1"
    token = peer_token(extrawest, uid)
    async with connect16(server.ocpp_url, station_id) as station:
        await status(station, "Available")
        await priced_location(server, station_id, location_id)
        await until(server, extrawest, pushed_location(location_id, evse_uid, "AVAILABLE"),
                    "the Location")

        # START_SESSION (mod_commands §StartSession): our answer is the CommandResponse, the
        # outcome comes later as a CommandResult at response_url.
        sent = await extrawest.command("START_SESSION", {
            "token": token, "location_id": location_id, "evse_uid": evse_uid,
            "connector_id": "1", "authorization_reference": "AUTH-REF-1"})
        assert sent["status"] == 200, sent
        assert sent["body"]["status_code"] == 1000, sent
        assert sent["body"]["data"]["result"] == "ACCEPTED", sent
        remote = await received(station, "RemoteStartTransaction")
        assert remote["id_tag"] == uid
        assert remote.get("connector_id") in (None, 1)
        await until(server, extrawest,
                    lambda o: (o["command_results"].get(sent["uid"]) or {}).get("result")
                    == "ACCEPTED", "the START_SESSION CommandResult ACCEPTED")

        started = await station.call(call.StartTransaction(
            connector_id=1, id_tag=remote["id_tag"], meter_start=1000, timestamp=T0))
        assert started.id_tag_info["status"] == "Accepted"
        await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                   status="Charging", timestamp=T0))
        [txn] = (await server.api.get("/transactions", params={
            "station_id": station_id, "status": "active"})).json()["items"]
        session_key = key(CC, PARTY, str(txn["id"]))
        session = await until(server, extrawest, lambda o: o["sessions"].get(session_key),
                              "the Session PUT")
        assert session["status"] == "ACTIVE"
        assert same(session["cdr_token"]["uid"], uid)
        assert session["auth_method"] == "COMMAND"
        assert same(session["authorization_reference"], "AUTH-REF-1")  # DEVIATIONS 19
        assert same(session["location_id"], location_id)
        assert same(session["evse_uid"], evse_uid)
        assert session["connector_id"] == "1"
        assert session["currency"] == "EUR"
        [put] = requests_to(await extrawest.objects(), "PUT", "sessions")
        assert put["path"] == f"/ocpi/emsp/2.2.1/sessions/{CC}/{PARTY}/{txn['id']}"
        assert_ours(put, token_c, extrawest)

        await station.call(call.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                                            meter_value=meter(11000, T_CHARGING_1H)))
        await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                   status="SuspendedEV", timestamp=T_FULL))
        await station.call(call.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                                            meter_value=meter(21000, T_FULL)))

        sent = await extrawest.command("STOP_SESSION", {"session_id": str(txn["id"])})
        assert sent["status"] == 200 and sent["body"]["status_code"] == 1000, sent
        assert sent["body"]["data"]["result"] == "ACCEPTED", sent
        remote_stop = await received(station, "RemoteStopTransaction")
        assert remote_stop["transaction_id"] == started.transaction_id
        await station.call(call.StopTransaction(meter_stop=21000, timestamp=T_STOP,
                                                transaction_id=started.transaction_id,
                                                reason="Remote"))
        await until(server, extrawest,
                    lambda o: (o["command_results"].get(sent["uid"]) or {}).get("result")
                    == "ACCEPTED", "the STOP_SESSION CommandResult ACCEPTED")

    session = await until(server, extrawest,
                          lambda o: (o["sessions"].get(session_key) or {}).get("status")
                          == "COMPLETED" and o["sessions"][session_key], "the COMPLETED Session")
    assert session["kwh"] == pytest.approx(20.0)  # a float (DEVIATIONS 21)
    cdrs = await until(server, extrawest, lambda o: list(o["cdrs"].values()), "the CDR")
    [cdr] = cdrs
    assert cdr["total_cost"] == {"excl_vat": 7.0, "incl_vat": 7.9}  # floats: DEVIATIONS 21
    assert cdr["total_energy"] == pytest.approx(20.0)
    assert cdr["currency"] == "EUR"
    assert same(cdr["cdr_token"]["uid"], uid)
    assert same(cdr["session_id"], str(txn["id"]))
    assert same(cdr["authorization_reference"], "AUTH-REF-1")
    assert same(cdr["cdr_location"]["id"], location_id)
    # "evse_uid" is dropped from the stored CdrLocation (DEVIATIONS 22).
    assert same(cdr["cdr_location"]["evse_id"], emi3_evse_id(CC, PARTY, station_id, 1))
    posts = requests_to(await extrawest.objects(), "POST", "cdrs")
    # mod_cdrs §POST: to {cdr_endpoint_url} as the peer gave it, with its "/" (DEVIATIONS 15:
    # without it the peer answers a 307).
    assert [p["path"] for p in posts] == ["/ocpi/emsp/2.2.1/cdrs/"]
    assert_ours(posts[0], token_c, extrawest)


# 5. Outage -----------------------------------------------------------------------------------
async def test_pushes_wait_while_the_peer_is_down_and_arrive_after_its_restart(
    server: RunningServer, extrawest: ExtrawestPeer,
) -> None:
    partner = await register(server, extrawest)
    token_c, _ = await token_c_and_b(extrawest)
    station_id, location_id = "CP-EXW-OUT", "LOC-EXW-5"
    evse_uid = f"{station_id}-1"
    async with connect16(server.ocpp_url, station_id) as station:
        await status(station, "Available")
        await placed_station(server, station_id, location_id)
        await until(server, extrawest, pushed_location(location_id, evse_uid, "AVAILABLE"),
                    "the Location")

        await asyncio.to_thread(extrawest.stop)
        # The peer loses its objects on restart (only its credentials are kept, its
        # --state-file): the renamed Location's PUT recreates it before the EVSE's PATCH,
        # which would otherwise find no Location (404, refused for good).
        answer = await server.api.patch(f"/locations/{location_id}", json={"name": "Depot 2"})
        assert answer.status_code == 200, answer.text
        await server.container.services.events.drain()
        await status(station, "Unavailable")
        await flush(server)

        pending = (await server.api.get("/ocpi/outbox", params={
            "partner_id": partner["id"], "pending": "true"})).json()
        assert any(p["module"] == "locations" and p["method"] == "PUT" for p in pending), pending
        assert any(p["module"] == "locations" and p["method"] == "PATCH"
                   and p["path"].endswith(f"/{location_id}/{evse_uid}") for p in pending), pending
        assert all(p["last_error"] for p in pending if p["attempts"]), pending

        async def offline() -> bool:
            await flush(server)
            return bool((await partner_of(server, partner["id"]))["status"] == "OFFLINE")

        await eventually(offline, "the partner OFFLINE after failed pushes")
        down = await partner_of(server, partner["id"])
        assert down["failures"] >= 3 and down["last_error"], down

        await asyncio.to_thread(extrawest.start)  # same port, same state file
        location = await until(server, extrawest,
                               pushed_location(location_id, evse_uid, "INOPERATIVE"),
                               "the pending pushes after the restart")
        assert location["name"] == "Depot 2"
        objects = await extrawest.objects()
        for request in [*requests_to(objects, "PUT", "locations"),
                        *requests_to(objects, "PATCH", "locations")]:
            assert_ours(request, token_c, extrawest)  # the same token C is still accepted

    back = await partner_of(server, partner["id"])
    assert (back["status"], back["failures"], back["last_error"]) == ("CONNECTED", 0, None)
    assert (await server.api.get("/ocpi/outbox", params={
        "partner_id": partner["id"], "pending": "true"})).json() == []
