"""The admin REST API: auth, stations, id tokens, locations, transactions, message log, health."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ocpp.v16 import call

from tests.support.server import RunningServer
from tests.support.station16 import connect16

LOCATION = {"id": "LOC1", "name": "Depot", "address": "Main Street 1", "city": "Utrecht",
            "postal_code": "3511AA", "country": "NLD", "latitude": 52.09, "longitude": 5.12,
            "time_zone": "Europe/Amsterdam"}


async def create(server: RunningServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await server.api.post(path, json=body)
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


def assert_detail_names(resp: httpx.Response, status: int, field: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"detail"}
    assert field in body["detail"]


# --- auth, OpenAPI, health -------------------------------------------------------------------
PROTECTED = [
    ("GET", "/stations"), ("POST", "/stations"), ("GET", "/stations/CP1"),
    ("PATCH", "/stations/CP1"), ("DELETE", "/stations/CP1"), ("GET", "/stations/CP1/messages"),
    ("POST", "/stations/CP1/commands/reset"), ("POST", "/stations/CP1/ocpp/Reset"),
    ("GET", "/id-tokens"), ("POST", "/id-tokens"), ("GET", "/id-tokens/T1"),
    ("PATCH", "/id-tokens/T1"), ("DELETE", "/id-tokens/T1"),
    ("GET", "/transactions"), ("GET", "/transactions/1"),
    ("GET", "/locations"), ("POST", "/locations"), ("GET", "/locations/LOC1"),
    ("PATCH", "/locations/LOC1"),
]


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="missing"),
    pytest.param({"Authorization": "Bearer not-the-token"}, id="wrong-token"),
    pytest.param({"Authorization": "Basic dGVzdC1hZG1pbi10b2tlbg=="}, id="wrong-scheme"),
])
async def test_every_resource_is_401_without_the_right_bearer_token(
    server: RunningServer, headers: dict[str, str]
) -> None:
    # The server holds a station, a token, a location and a transaction: a 401 is not a 404.
    await server.api.post("/id-tokens", json={"id_token": "T1"})
    await server.api.post("/locations", json=LOCATION)
    async with connect16(server.ocpp_url, "CP1") as station:
        await station.call(call.StartTransaction(connector_id=1, id_tag="T1", meter_start=0,
                                                 timestamp="2026-01-01T10:00:00Z"))
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v1",
                                     headers=headers) as anonymous:
            for method, path in PROTECTED:
                body = {} if method in ("POST", "PATCH") else None
                resp = await anonymous.request(method, path, json=body)
                assert resp.status_code == 401, (method, path, resp.text)
                assert set(resp.json()) == {"detail"}
        assert station.raw_received == []
    # Nothing was changed by the refused requests.
    assert (await server.api.get("/stations/CP1")).status_code == 200
    assert (await server.api.get("/id-tokens/T1")).status_code == 200


async def test_openapi_document_is_public(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        resp = await anonymous.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for path in ("/api/v1/stations", "/api/v1/id-tokens", "/api/v1/locations",
                 "/api/v1/transactions", "/api/v1/stations/{station_id}/commands/{name}"):
        assert path in paths


async def test_healthz_answers_ok(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        resp = await anonymous.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


# --- stations --------------------------------------------------------------------------------
async def test_create_station_returns_it_with_defaults(server: RunningServer) -> None:
    resp = await server.api.post("/stations", json={"id": "CP1"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["id"] == "CP1"
    assert body["connected"] is False
    assert body["registration_status"] == "Accepted"
    assert body["security_profile"] == 0
    assert body["location_id"] is None
    assert body["evses"] == []
    assert "password" not in body
    assert (await server.api.get("/stations/CP1")).json() == body


async def test_create_duplicate_station_is_409(server: RunningServer) -> None:
    await create(server, "/stations", {"id": "CP1"})
    resp = await server.api.post("/stations", json={"id": "CP1"})
    assert_detail_names(resp, 409, "CP1")


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({}, "id", id="missing-id"),
    pytest.param({"id": "has space"}, "id", id="bad-id"),
    pytest.param({"id": "CP1", "security_profile": 4}, "security_profile", id="profile"),
    pytest.param({"id": "CP1", "registration_status": "Maybe"}, "registration_status",
                 id="registration"),
    pytest.param({"id": "CP1", "password": "short"}, "password", id="password"),
    pytest.param({"id": "CP1", "colour": "red"}, "colour", id="unknown-field"),
])
async def test_create_station_with_invalid_body_is_422_naming_the_field(
    server: RunningServer, body: dict[str, Any], field: str
) -> None:
    resp = await server.api.post("/stations", json=body)
    assert_detail_names(resp, 422, field)


async def test_create_station_with_evses_returns_connector_metadata(server: RunningServer) -> None:
    body = await create(server, "/stations", {"id": "CP1", "evses": [{"evse_id": 1, "connectors": [
        {"connector_id": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
         "max_voltage": 400, "max_amperage": 32, "max_electric_power": 22000}]}]})
    [evse] = body["evses"]
    assert evse["evse_id"] == 1
    [conn] = evse["connectors"]
    assert {k: conn[k] for k in ("connector_id", "standard", "format", "power_type", "max_voltage",
                                 "max_amperage", "max_electric_power")} == {
        "connector_id": 1, "standard": "IEC_62196_T2", "format": "SOCKET",
        "power_type": "AC_3_PHASE", "max_voltage": 400, "max_amperage": 32,
        "max_electric_power": 22000}


async def test_get_unknown_station_is_404(server: RunningServer) -> None:
    assert_detail_names(await server.api.get("/stations/NOPE"), 404, "NOPE")


async def test_patch_station_location_must_exist(server: RunningServer) -> None:
    await create(server, "/stations", {"id": "CP1"})
    resp = await server.api.patch("/stations/CP1", json={"location_id": "LOC1"})
    assert_detail_names(resp, 404, "location_id")
    assert (await server.api.get("/stations/CP1")).json()["location_id"] is None
    await create(server, "/locations", LOCATION)
    resp = await server.api.patch("/stations/CP1", json={"location_id": "LOC1"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["location_id"] == "LOC1"


async def test_patch_station_registration_status_and_security_profile(
    server: RunningServer,
) -> None:
    await create(server, "/stations", {"id": "CP1"})
    resp = await server.api.patch("/stations/CP1", json={"registration_status": "Pending",
                                                          "security_profile": 2})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["registration_status"], resp.json()["security_profile"]) == ("Pending", 2)
    got = (await server.api.get("/stations/CP1")).json()
    assert (got["registration_status"], got["security_profile"]) == ("Pending", 2)
    resp = await server.api.patch("/stations/CP1", json={"registration_status": "Rejected"})
    assert resp.json()["registration_status"] == "Rejected"
    assert resp.json()["security_profile"] == 2


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"registration_status": "Maybe"}, "registration_status", id="registration"),
    pytest.param({"security_profile": -1}, "security_profile", id="profile-low"),
    pytest.param({"security_profile": 4}, "security_profile", id="profile-high"),
    pytest.param({"id": "CP2"}, "id", id="id-not-patchable"),
])
async def test_patch_station_with_invalid_body_is_422_naming_the_field(
    server: RunningServer, body: dict[str, Any], field: str
) -> None:
    await create(server, "/stations", {"id": "CP1"})
    assert_detail_names(await server.api.patch("/stations/CP1", json=body), 422, field)


async def test_patch_unknown_station_is_404(server: RunningServer) -> None:
    resp = await server.api.patch("/stations/NOPE", json={"security_profile": 1})
    assert_detail_names(resp, 404, "NOPE")


async def test_station_password_is_write_only(server: RunningServer) -> None:
    secret = "s3cret-password"
    resp = await server.api.post("/stations", json={"id": "CP1", "password": secret})
    assert resp.status_code == 201
    assert "password" not in resp.json()
    assert secret not in resp.text
    resp = await server.api.patch("/stations/CP1", json={"password": "an0ther-password"})
    assert resp.status_code == 200
    assert "password" not in resp.json()
    assert "an0ther-password" not in resp.text
    for resp in (await server.api.get("/stations/CP1"), await server.api.get("/stations")):
        assert secret not in resp.text
        assert "an0ther-password" not in resp.text
    station = (await server.api.get("/stations/CP1")).json()
    assert "password" not in station


async def test_delete_station(server: RunningServer) -> None:
    await create(server, "/stations", {"id": "CP1"})
    resp = await server.api.delete("/stations/CP1")
    assert resp.status_code == 204
    assert (await server.api.get("/stations/CP1")).status_code == 404
    assert_detail_names(await server.api.delete("/stations/CP1"), 404, "CP1")


async def test_list_stations_pages_with_limit_and_offset(server: RunningServer) -> None:
    ids = [f"CP{n}" for n in range(5)]
    for station_id in ids:
        await create(server, "/stations", {"id": station_id})
    first = (await server.api.get("/stations", params={"limit": 2})).json()
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (5, 2, 0, 2)
    seen = []
    for offset in (0, 2, 4):
        page = (await server.api.get("/stations", params={"limit": 2, "offset": offset})).json()
        assert (page["total"], page["limit"], page["offset"]) == (5, 2, offset)
        seen.extend(s["id"] for s in page["items"])
    assert sorted(seen) == ids
    everything = (await server.api.get("/stations")).json()
    assert (everything["total"], everything["limit"], everything["offset"]) == (5, 100, 0)
    assert sorted(s["id"] for s in everything["items"]) == ids


@pytest.mark.parametrize(("params", "field"), [
    pytest.param({"limit": 0}, "limit", id="limit-0"),
    pytest.param({"limit": 1001}, "limit", id="limit-high"),
    pytest.param({"offset": -1}, "offset", id="offset-negative"),
])
async def test_list_paging_out_of_range_is_422_naming_the_parameter(
    server: RunningServer, params: dict[str, int], field: str
) -> None:
    for path in ("/stations", "/id-tokens", "/locations", "/transactions"):
        assert_detail_names(await server.api.get(path, params=params), 422, field)


async def test_connected_station_shows_connected_and_last_seen_in_utc(
    server: RunningServer,
) -> None:
    async with connect16(server.ocpp_url, "CP1"):
        station = (await server.api.get("/stations/CP1")).json()
        assert station["connected"] is True
        assert station["ocpp_version"] == "1.6"
        assert (station["vendor"], station["model"]) == ("TestVendor", "TestModel")
        assert station["last_seen"].endswith("Z")
        assert station["last_boot_at"].endswith("Z")


# --- id tokens -------------------------------------------------------------------------------
async def test_create_id_token_with_defaults(server: RunningServer) -> None:
    body = await create(server, "/id-tokens", {"id_token": "T1"})
    assert body == {"id_token": "T1", "type": "ISO14443", "status": "Accepted",
                    "expires_at": None, "group_id": None}
    assert (await server.api.get("/id-tokens/T1")).json() == body


async def test_create_id_token_with_every_field(server: RunningServer) -> None:
    body = await create(server, "/id-tokens", {
        "id_token": "EMA1", "type": "eMAID", "status": "Blocked",
        "expires_at": "2030-01-01T00:00:00Z", "group_id": "FLEET"})
    assert body == {"id_token": "EMA1", "type": "eMAID", "status": "Blocked",
                    "expires_at": "2030-01-01T00:00:00Z", "group_id": "FLEET"}
    assert (await server.api.get("/id-tokens/EMA1")).json() == body


async def test_create_duplicate_id_token_is_409(server: RunningServer) -> None:
    await create(server, "/id-tokens", {"id_token": "T1"})
    assert_detail_names(await server.api.post("/id-tokens", json={"id_token": "T1"}), 409, "T1")


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"id_token": "T1", "status": "Maybe"}, "status", id="status"),
    pytest.param({"id_token": "T1", "type": "Magstripe"}, "type", id="type"),
    pytest.param({"id_token": "T1", "expires_at": "soon"}, "expires_at", id="expires"),
    pytest.param({"status": "Accepted"}, "id_token", id="missing-id-token"),
])
async def test_create_id_token_with_invalid_body_is_422_naming_the_field(
    server: RunningServer, body: dict[str, Any], field: str
) -> None:
    assert_detail_names(await server.api.post("/id-tokens", json=body), 422, field)


async def test_patch_id_token(server: RunningServer) -> None:
    await create(server, "/id-tokens", {"id_token": "T1"})
    resp = await server.api.patch("/id-tokens/T1", json={
        "status": "Expired", "type": "KeyCode", "expires_at": "2031-05-05T05:05:05Z",
        "group_id": "G1"})
    assert resp.status_code == 200, resp.text
    expected = {"id_token": "T1", "type": "KeyCode", "status": "Expired",
                "expires_at": "2031-05-05T05:05:05Z", "group_id": "G1"}
    assert resp.json() == expected
    assert (await server.api.get("/id-tokens/T1")).json() == expected
    assert_detail_names(await server.api.patch("/id-tokens/T1", json={"status": "Maybe"}),
                        422, "status")
    assert_detail_names(await server.api.patch("/id-tokens/NOPE", json={"status": "Blocked"}),
                        404, "NOPE")


async def test_delete_id_token(server: RunningServer) -> None:
    await create(server, "/id-tokens", {"id_token": "T1"})
    assert (await server.api.delete("/id-tokens/T1")).status_code == 204
    assert_detail_names(await server.api.get("/id-tokens/T1"), 404, "T1")
    assert_detail_names(await server.api.delete("/id-tokens/T1"), 404, "T1")


async def test_list_id_tokens_pages(server: RunningServer) -> None:
    for n in range(3):
        await create(server, "/id-tokens", {"id_token": f"T{n}"})
    page = (await server.api.get("/id-tokens", params={"limit": 2, "offset": 2})).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 2)
    assert [t["id_token"] for t in page["items"]] == ["T2"]


# --- locations -------------------------------------------------------------------------------
async def test_create_and_get_location(server: RunningServer) -> None:
    body = await create(server, "/locations", LOCATION)
    assert body == LOCATION
    assert (await server.api.get("/locations/LOC1")).json() == LOCATION


async def test_create_location_without_optional_fields(server: RunningServer) -> None:
    minimal = {k: v for k, v in LOCATION.items() if k not in ("postal_code", "time_zone")}
    body = await create(server, "/locations", minimal)
    assert body == {**minimal, "postal_code": None, "time_zone": None}


@pytest.mark.parametrize("field", ["id", "name", "address", "city", "country", "latitude",
                                   "longitude"])
async def test_create_location_without_a_required_field_is_422_naming_it(
    server: RunningServer, field: str
) -> None:
    body = {k: v for k, v in LOCATION.items() if k != field}
    assert_detail_names(await server.api.post("/locations", json=body), 422, field)


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"country": "NL"}, "country", id="alpha-2"),
    pytest.param({"country": "nld"}, "country", id="lowercase"),
    pytest.param({"latitude": 91}, "latitude", id="latitude"),
    pytest.param({"longitude": -181}, "longitude", id="longitude"),
    pytest.param({"latitude": "north"}, "latitude", id="latitude-not-number"),
])
async def test_create_location_with_invalid_field_is_422_naming_it(
    server: RunningServer, change: dict[str, Any], field: str
) -> None:
    assert_detail_names(await server.api.post("/locations", json={**LOCATION, **change}), 422,
                        field)


async def test_create_duplicate_location_is_409(server: RunningServer) -> None:
    await create(server, "/locations", LOCATION)
    assert_detail_names(await server.api.post("/locations", json=LOCATION), 409, "LOC1")


async def test_patch_location(server: RunningServer) -> None:
    await create(server, "/locations", LOCATION)
    resp = await server.api.patch("/locations/LOC1", json={"city": "Amersfoort",
                                                            "latitude": 52.15})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {**LOCATION, "city": "Amersfoort", "latitude": 52.15}
    assert (await server.api.get("/locations/LOC1")).json()["city"] == "Amersfoort"
    assert_detail_names(await server.api.patch("/locations/LOC1", json={"country": "NL"}),
                        422, "country")
    assert_detail_names(await server.api.patch("/locations/NOPE", json={"city": "X"}),
                        404, "NOPE")
    assert_detail_names(await server.api.get("/locations/NOPE"), 404, "NOPE")


async def test_list_locations(server: RunningServer) -> None:
    await create(server, "/locations", LOCATION)
    await create(server, "/locations", {**LOCATION, "id": "LOC2"})
    page = (await server.api.get("/locations", params={"limit": 1})).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 0, 1)
    everything = (await server.api.get("/locations")).json()
    assert sorted(loc["id"] for loc in everything["items"]) == ["LOC1", "LOC2"]


# --- transactions ----------------------------------------------------------------------------
async def test_list_transactions_filters_by_station_and_status(server: RunningServer) -> None:
    await create(server, "/id-tokens", {"id_token": "T1"})
    async with connect16(server.ocpp_url, "CP1") as cp1, connect16(server.ocpp_url, "CP2") as cp2:
        done = await cp1.call(call.StartTransaction(connector_id=1, id_tag="T1", meter_start=0,
                                                    timestamp="2026-01-01T08:00:00Z"))
        await cp1.call(call.StopTransaction(meter_stop=5000, timestamp="2026-01-01T09:00:00Z",
                                            transaction_id=done.transaction_id))
        await cp1.call(call.StartTransaction(connector_id=2, id_tag="T1", meter_start=10,
                                             timestamp="2026-01-01T10:00:00Z"))
        await cp2.call(call.StartTransaction(connector_id=1, id_tag="T1", meter_start=20,
                                             timestamp="2026-01-01T11:00:00Z"))

    async def listed(**params: str) -> list[tuple[str, int, str]]:
        page = (await server.api.get("/transactions", params=params)).json()
        assert page["total"] == len(page["items"])
        return sorted((t["station_id"], t["evse_id"], t["status"]) for t in page["items"])

    assert await listed() == [("CP1", 1, "completed"), ("CP1", 2, "active"), ("CP2", 1, "active")]
    assert await listed(station_id="CP1") == [("CP1", 1, "completed"), ("CP1", 2, "active")]
    assert await listed(status="active") == [("CP1", 2, "active"), ("CP2", 1, "active")]
    assert await listed(status="completed") == [("CP1", 1, "completed")]
    assert await listed(station_id="CP1", status="active") == [("CP1", 2, "active")]
    assert await listed(station_id="CP3") == []
    assert_detail_names(await server.api.get("/transactions", params={"status": "paused"}), 422,
                        "status")


async def test_transaction_fields_and_utc_timestamps(server: RunningServer) -> None:
    await create(server, "/id-tokens", {"id_token": "T1"})
    async with connect16(server.ocpp_url, "CP1") as cp:
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag="T1", meter_start=100,
                                                    timestamp="2026-01-01T08:00:00Z"))
        await cp.call(call.StopTransaction(meter_stop=1600, timestamp="2026-01-01T09:30:00Z",
                                           transaction_id=start.transaction_id, reason="Local"))
    [txn] = (await server.api.get("/transactions")).json()["items"]
    assert txn["started_at"] == "2026-01-01T08:00:00Z"
    assert txn["stopped_at"] == "2026-01-01T09:30:00Z"
    assert txn["station_transaction_id"] == str(start.transaction_id)
    assert (txn["meter_start_wh"], txn["meter_stop_wh"], txn["energy_wh"]) == (100, 1600, 1500)
    assert (txn["id_token"], txn["status"], txn["stop_reason"]) == ("T1", "completed", "Local")
    assert (txn["evse_id"], txn["connector_id"]) == (1, 1)
    assert (await server.api.get(f"/transactions/{txn['id']}")).json() == txn
    assert_detail_names(await server.api.get("/transactions/987654"), 404, "987654")


async def test_times_given_with_an_offset_are_returned_in_utc(server: RunningServer) -> None:
    token = await create(server, "/id-tokens", {"id_token": "T1",
                                                "expires_at": "2030-01-01T01:00:00+01:00"})
    assert token["expires_at"] == "2030-01-01T00:00:00Z"
    async with connect16(server.ocpp_url, "CP1") as cp:
        await cp.call(call.StartTransaction(connector_id=1, id_tag="T1", meter_start=0,
                                            timestamp="2026-01-01T10:00:00+02:00"))
    [txn] = (await server.api.get("/transactions")).json()["items"]
    assert txn["started_at"] == "2026-01-01T08:00:00Z"


# --- message log -----------------------------------------------------------------------------
async def test_message_log_is_newest_first_and_honours_limit(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP1") as station:
        await station.call(call.Heartbeat())
    resp = await server.api.get("/stations/CP1/messages", params={"limit": 2})
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert page["limit"] == 2
    newest, previous = page["items"]
    assert (newest["direction"], newest["message_type"], newest["action"]) == (
        "out", "CALLRESULT", "Heartbeat")
    assert (previous["direction"], previous["message_type"], previous["action"]) == (
        "in", "CALL", "Heartbeat")
    assert newest["message_id"] == previous["message_id"]
    assert previous["payload"] == {}
    assert newest["payload"]["currentTime"].endswith("Z")
    assert newest["timestamp"].endswith("Z")
    everything = (await server.api.get("/stations/CP1/messages")).json()["items"]
    assert [m["action"] for m in everything] == [
        "Heartbeat", "Heartbeat", "BootNotification", "BootNotification"]


async def test_message_log_of_unknown_station_is_404(server: RunningServer) -> None:
    assert_detail_names(await server.api.get("/stations/NOPE/messages"), 404, "NOPE")
    assert_detail_names(await server.api.get("/stations/NOPE/messages", params={"limit": 0}),
                        422, "limit")
