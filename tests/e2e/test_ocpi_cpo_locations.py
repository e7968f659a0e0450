"""OCPI 2.2.1 CPO role: our Locations and Tariffs pulled by an eMSP (mod_locations and
mod_tariffs §Sender interface, transport_and_format §Pagination), and Locations pushed to eMSPs
when stations, locations and connector statuses change (mod_locations §Receiver interface)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from ocpp.v16 import call

from tests.support.ocpi import cpo_and_emsp, ocpi_call, ocpi_settings, token_header
from tests.support.ocpi_peer import Received, StandInPeer, add_partner
from tests.support.server import RunningServer, run_server
from tests.support.station16 import connect16
from volthub.ocpi import schemas
from volthub.ocpi.locations import LocationPusher

LOCATIONS = "/cpo/2.2.1/locations"
TARIFFS = "/cpo/2.2.1/tariffs"


def location(location_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": location_id, "name": f"Site {location_id}", "address": "Main Street 1",
            "city": "Utrecht", "postal_code": "3511AA", "country": "NLD", "latitude": 52.09,
            "longitude": 5.12, "time_zone": "Europe/Amsterdam", **fields}


async def created(server: RunningServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await server.api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def site(server: RunningServer, location_id: str, station_id: str,
               **location_fields: Any) -> None:
    """A location with one station of two EVSEs (connector metadata from the operator)."""
    await created(server, "/locations", location(location_id, **location_fields))
    await created(server, "/stations", {"id": station_id, "location_id": location_id, "evses": [
        {"evse_id": 1, "connectors": [{"connector_id": 1, "standard": "IEC_62196_T2_COMBO",
                                       "format": "CABLE", "power_type": "DC",
                                       "max_voltage": 920, "max_amperage": 200,
                                       "max_electric_power": 150000}]},
        {"evse_id": 2, "connectors": [{"connector_id": 1}]},
    ]})


async def get(server: RunningServer, path: str, token: str | None,
              **params: Any) -> httpx.Response:
    return await ocpi_call(server, "GET", path, token, params=params)


def data(answer: httpx.Response, http_status: int = 200, status_code: int = 1000) -> Any:
    assert answer.status_code == http_status, answer.text
    body = answer.json()
    assert body["status_code"] == status_code, body
    return body.get("data")


def ocpi_instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def flush(server: RunningServer) -> None:
    """Deliver every event to the pushers, then every push to its partner."""
    await server.container.services.events.drain()
    await server.container.roaming.outbox.deliver_due()


@asynccontextmanager
async def cpo_with_peer(database_url: str) -> AsyncIterator[tuple[RunningServer, StandInPeer,
                                                                    int]]:
    """A CPO whose one eMSP partner is a stand-in recording every push."""
    peer = StandInPeer()
    await peer.start()
    try:
        async with run_server(ocpi_settings(database_url, "NL", "CPO", "CPO")) as cpo:
            partner_id = await add_partner(cpo.container, peer)
            yield cpo, peer, partner_id
    finally:
        await peer.stop()


def pushes(peer: StandInPeer, method: str | None = None) -> list[Received]:
    """What the stand-in received at its locations Receiver (other modules' pushes aside)."""
    return [r for r in peer.received if r.path.startswith("/locations/receiver/")
            and (method is None or r.method == method)]


# pulling locations --------------------------------------------------------------------------
async def test_locations_are_pulled_in_pages_and_by_last_updated(database_url: str,
                                                                  tmp_path: Path) -> None:
    async with cpo_and_emsp(database_url, f"sqlite:///{tmp_path}/emsp.db") as pair:
        cpo, token = pair.cpo, await pair.token_emsp_uses()
        for n in (3, 1, 2):
            await site(cpo, f"LOC{n}", f"CS{n}")
        await created(cpo, "/locations", location("EMPTY"))  # no EVSEs: not listed

        first = await get(cpo, LOCATIONS, token, limit=2)
        page = data(first)
        assert [loc["id"] for loc in page] == ["LOC1", "LOC2"]
        for loc in page:
            schemas.Location.model_validate(loc)
        # transport_and_format §Paginated Response: the headers and the next page's link.
        assert first.headers["X-Total-Count"] == "3"
        assert first.headers["X-Limit"] == "100"
        link = first.headers["Link"]
        assert link == f'<{cpo.base_url}/ocpi{LOCATIONS}?offset=2&limit=2>; rel="next"'
        async with httpx.AsyncClient(timeout=10) as client:
            rest = await client.get(link[1:link.index(">")], headers=token_header(token))
        assert [loc["id"] for loc in data(rest)] == ["LOC3"]
        assert "Link" not in rest.headers
        everything = data(await get(cpo, f"{LOCATIONS}/", token))
        assert [loc["id"] for loc in everything] == ["LOC1", "LOC2", "LOC3"]
        assert data(await get(cpo, LOCATIONS, token, offset=1, limit=1))[0]["id"] == "LOC2"

        # date_from (inclusive) and date_to (exclusive) on last_updated: a change in a
        # location or in a station in it moves the location's last_updated.
        await asyncio.sleep(0.05)
        cut = ocpi_instant(datetime.now(UTC))
        await asyncio.sleep(0.05)
        assert (await cpo.api.patch("/locations/LOC2", json={"name": "Renamed"})).is_success
        assert (await cpo.api.patch("/stations/CS3", json={"evses": [
            {"evse_id": 2, "connectors": [{"connector_id": 1, "max_amperage": 32}]}]})).is_success
        newer = await get(cpo, LOCATIONS, token, date_from=cut)
        assert [loc["id"] for loc in data(newer)] == ["LOC2", "LOC3"]
        assert newer.headers["X-Total-Count"] == "2"
        assert all(loc["last_updated"] >= cut for loc in data(newer))
        assert [loc["id"] for loc in data(await get(cpo, LOCATIONS, token, date_to=cut))] == \
            ["LOC1"]
        assert data(await get(cpo, LOCATIONS, token, date_from=cut, date_to=cut)) == []
        data(await get(cpo, LOCATIONS, token, date_from="yesterday"), 200, 2001)


async def test_one_location_evse_and_connector(sqlite_url: str, tmp_path: Path) -> None:
    async with cpo_and_emsp(sqlite_url, f"sqlite:///{tmp_path}/emsp.db") as pair:
        cpo, token = pair.cpo, await pair.token_emsp_uses()
        await site(cpo, "LOC1", "CS1")
        tariff = {"id": "T1", "currency": "EUR", "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]}]}
        await created(cpo, "/tariffs", tariff)
        await created(cpo, "/tariff-assignments", {"tariff_id": "T1", "location_id": "LOC1"})

        loc = data(await get(cpo, f"{LOCATIONS}/LOC1", token))
        schemas.Location.model_validate(loc)
        assert (loc["country_code"], loc["party_id"], loc["id"]) == ("NL", "CPO", "LOC1")
        assert loc["coordinates"] == {"latitude": "52.090000", "longitude": "5.120000"}
        assert [e["uid"] for e in loc["evses"]] == ["CS1-1", "CS1-2"]
        evse = data(await get(cpo, f"{LOCATIONS}/LOC1/CS1-1", token))
        assert evse == loc["evses"][0]
        assert evse["evse_id"] == "NL*CPO*ECS1*1"
        assert evse["status"] == "UNKNOWN"  # the station never connected
        connector = data(await get(cpo, f"{LOCATIONS}/LOC1/CS1-1/1", token))
        assert connector == evse["connectors"][0]
        assert {k: connector[k] for k in ("standard", "format", "power_type", "max_voltage",
                                          "max_amperage", "max_electric_power",
                                          "tariff_ids")} == {
            "standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC",
            "max_voltage": 920, "max_amperage": 200, "max_electric_power": 150000,
            "tariff_ids": ["T1"]}
        # Defaults where the operator gave no metadata.
        plain = data(await get(cpo, f"{LOCATIONS}/LOC1/CS1-2/1", token))
        assert (plain["standard"], plain["format"], plain["power_type"]) == \
            ("IEC_62196_T2", "SOCKET", "AC_3_PHASE")
        # Ids are CiStrings: any letter case finds them.
        assert data(await get(cpo, f"{LOCATIONS}/loc1/cs1-1/1", token)) == connector

        # status_codes: an unknown object is an HTTP 404.
        data(await get(cpo, f"{LOCATIONS}/NOPE", token), 404, 2003)
        data(await get(cpo, f"{LOCATIONS}/LOC1/CS1-9", token), 404, 2000)
        data(await get(cpo, f"{LOCATIONS}/LOC1/CS1-1/7", token), 404, 2000)
        # transport_and_format §Authorization: no token or an unknown one is an HTTP 401.
        data(await get(cpo, LOCATIONS, None), 401, 2000)
        data(await get(cpo, f"{LOCATIONS}/LOC1", "not-a-token"), 401, 2000)
        data(await get(cpo, TARIFFS, None), 401, 2000)


# pulling tariffs ----------------------------------------------------------------------------
async def test_tariffs_are_pulled_as_ours(database_url: str, tmp_path: Path) -> None:
    async with cpo_and_emsp(database_url, f"sqlite:///{tmp_path}/emsp.db") as pair:
        cpo, token = pair.cpo, await pair.token_emsp_uses()
        await created(cpo, "/price-feeds", {"id": "DAYAHEAD", "name": "Day ahead",
                                            "currency": "EUR"})
        for n in (2, 1):
            await created(cpo, "/tariffs", {
                "id": f"T{n}", "currency": "EUR", "type": "REGULAR",
                "tariff_alt_text": [{"language": "en", "text": f"Tariff {n}"}],
                "elements": [{"price_components": [
                    {"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1,
                     "price_feed_id": "DAYAHEAD", "price_feed_markup": 0.05},
                    {"type": "TIME", "price": 2, "step_size": 60}],
                    "restrictions": {"start_time": "08:00", "end_time": "20:00"}}],
                "start_date_time": "2026-01-01T00:00:00Z"})
        first = await get(cpo, TARIFFS, token, limit=1)
        [t1] = data(first)
        assert first.headers["X-Total-Count"] == "2"
        assert first.headers["Link"].endswith('offset=1&limit=1>; rel="next"')
        schemas.Tariff.model_validate(t1)
        assert (t1["country_code"], t1["party_id"], t1["id"]) == ("NL", "CPO", "T1")
        assert t1["start_date_time"] == "2026-01-01T00:00:00Z"
        assert t1["last_updated"].endswith("Z") and len(t1["last_updated"]) <= 25
        assert t1["elements"] == [{"price_components": [
            # volthub's dynamic price extension is not OCPI: never sent.
            {"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1},
            {"type": "TIME", "price": 2.0, "step_size": 60}],
            "restrictions": {"start_time": "08:00", "end_time": "20:00"}}]
        assert t1["tariff_alt_text"] == [{"language": "en", "text": "Tariff 1"}]

        await asyncio.sleep(0.05)
        cut = ocpi_instant(datetime.now(UTC))
        await asyncio.sleep(0.05)
        assert (await cpo.api.patch("/tariffs/T2", json={"currency": "USD"})).is_success
        [t2] = data(await get(cpo, f"{TARIFFS}/", token, date_from=cut))
        assert (t2["id"], t2["currency"]) == ("T2", "USD")
        assert [t["id"] for t in data(await get(cpo, TARIFFS, token, date_to=cut))] == ["T1"]


# pushing locations --------------------------------------------------------------------------
async def test_status_changes_of_a_16_station_are_patched_to_the_emsp(sqlite_url: str) -> None:
    async with cpo_with_peer(sqlite_url) as (cpo, peer, partner_id):
        await created(cpo, "/locations", location("LOC1"))
        await created(cpo, "/stations", {"id": "CS16", "location_id": "LOC1"})
        await created(cpo, "/stations", {"id": "NOWHERE"})  # in no location: never pushed
        await flush(cpo)
        # The location created, then the station joining it: each time the whole Location.
        assert [(p.method, p.path) for p in pushes(peer)] == \
            [("PUT", "/locations/receiver/NL/CPO/LOC1")] * 2
        put = pushes(peer)[-1]
        schemas.Location.model_validate(put.body)
        assert put.body["evses"] == []  # it has not told us about its connectors yet
        # transport_and_format §Message routing: from us to the eMSP party.
        assert (put.headers["ocpi-to-country-code"], put.headers["ocpi-to-party-id"]) == \
            ("DE", "MSP")
        assert (put.headers["ocpi-from-country-code"], put.headers["ocpi-from-party-id"]) == \
            ("NL", "CPO")

        async with connect16(cpo.ocpp_url, "CS16") as station, \
                connect16(cpo.ocpp_url, "NOWHERE") as elsewhere:
            for status in ("Available", "Preparing", "Charging", "SuspendedEV", "Finishing",
                           "Available"):
                await station.call(call.StatusNotification(
                    connector_id=1, error_code="NoError", status=status,
                    timestamp="2026-01-01T10:00:00Z"))
            await station.call(call.StatusNotification(
                connector_id=0, error_code="NoError", status="Available"))
            await elsewhere.call(call.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging"))
            await flush(cpo)

        # The EVSE's first status comes in a PUT of the whole Location (the eMSP does not know
        # the EVSE yet, and a PATCH of an unknown object is refused); then only actual changes
        # of the EVSE status are PATCHed (mod_locations §Flow and Lifecycle); Preparing to
        # Finishing are all CHARGING; connector 0 is no EVSE.
        # The PUT is built when its event is handled, so it may already show a later status
        # than the first one; what follows are PATCHes of real changes only, ending AVAILABLE.
        first = pushes(peer)[2]
        assert (first.method, first.path) == ("PUT", "/locations/receiver/NL/CPO/LOC1")
        [evse] = first.body["evses"]
        patches = pushes(peer, "PATCH")
        assert [p.path for p in patches] == \
            ["/locations/receiver/NL/CPO/LOC1/CS16-1"] * len(patches)
        statuses = [evse["status"]] + [p.body["status"] for p in patches]
        assert statuses[-1] == "AVAILABLE"
        assert all(a != b for a, b in itertools.pairwise(statuses)), statuses
        assert set(statuses) <= {"AVAILABLE", "CHARGING"}
        assert all(p.body["last_updated"] == "2026-01-01T10:00:00Z" for p in patches)
        for patch in patches:
            schemas.validate_patch(schemas.EVSE, patch.body)
        outbox = (await cpo.api.get("/ocpi/outbox", params={"partner_id": partner_id})).json()
        # One ordering key per Location: a PATCH never overtakes the PUT before it.
        assert [(e["method"], e["object_key"], e["delivered"]) for e in outbox] == \
            [("PUT", "locations/LOC1", True)] * 3 + \
            [("PATCH", "locations/LOC1", True)] * len(patches)


async def test_location_and_station_changes_put_whole_locations(sqlite_url: str) -> None:
    async with cpo_with_peer(sqlite_url) as (cpo, peer, _):
        await site(cpo, "LOC1", "CS1")
        await created(cpo, "/locations", location("LOC2"))
        await flush(cpo)
        assert [(p.method, p.path) for p in pushes(peer)] == [
            ("PUT", "/locations/receiver/NL/CPO/LOC1"),  # LOC1 created
            ("PUT", "/locations/receiver/NL/CPO/LOC1"),  # CS1 joined LOC1
            ("PUT", "/locations/receiver/NL/CPO/LOC2"),  # LOC2 created
        ]
        assert [e["uid"] for e in pushes(peer)[1].body["evses"]] == ["CS1-1", "CS1-2"]
        peer.received.clear()

        assert (await cpo.api.patch("/locations/LOC1", json={"name": "Renamed"})).is_success
        await flush(cpo)
        [renamed] = pushes(peer)
        assert renamed.body["name"] == "Renamed"
        peer.received.clear()

        # Moving the station: the location it left is PUT without its EVSEs, the new one with.
        assert (await cpo.api.patch("/stations/CS1", json={"location_id": "LOC2"})).is_success
        await flush(cpo)
        bodies = {p.path.rsplit("/", 1)[1]: p.body for p in pushes(peer, "PUT")}
        assert bodies["LOC1"]["evses"] == []
        assert [e["uid"] for e in bodies["LOC2"]["evses"]] == ["CS1-1", "CS1-2"]
        for body in bodies.values():
            schemas.Location.model_validate(body)
        peer.received.clear()

        # Connector metadata changes, and a station deleted.
        assert (await cpo.api.patch("/stations/CS1", json={"evses": [
            {"evse_id": 2, "connectors": [{"connector_id": 1, "power_type": "AC_1_PHASE"}]}]})
                ).is_success
        await flush(cpo)
        [changed] = pushes(peer)
        assert changed.body["evses"][1]["connectors"][0]["power_type"] == "AC_1_PHASE"
        assert (await cpo.api.delete("/stations/CS1")).status_code == 204
        await flush(cpo)
        assert pushes(peer)[-1].path == "/locations/receiver/NL/CPO/LOC2"
        assert pushes(peer)[-1].body["evses"] == []


async def test_push_all_sends_every_location_to_a_partner(sqlite_url: str) -> None:
    async with cpo_with_peer(sqlite_url) as (cpo, peer, partner_id):
        await site(cpo, "LOC1", "CS1")
        await site(cpo, "LOC2", "CS2")
        await created(cpo, "/locations", location("EMPTY"))
        await flush(cpo)
        peer.received.clear()
        pusher = LocationPusher(cpo.container.roaming, cpo.container.services)
        partner = await cpo.container.roaming.registration.get(partner_id)
        assert await pusher.push_all(partner) == 2
        await flush(cpo)
        assert [(p.method, p.path) for p in pushes(peer)] == [
            ("PUT", "/locations/receiver/NL/CPO/LOC1"), ("PUT", "/locations/receiver/NL/CPO/LOC2")]


async def test_status_push_reaches_a_registered_emsp(sqlite_url: str, tmp_path: Path) -> None:
    async with cpo_and_emsp(sqlite_url, f"sqlite:///{tmp_path}/emsp.db") as pair:
        cpo = pair.cpo
        await site(cpo, "LOC1", "CS16")
        async with connect16(cpo.ocpp_url, "CS16") as station:
            await station.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                       status="Charging"))
            await flush(cpo)
        outbox = (await cpo.api.get("/ocpi/outbox",
                                    params={"partner_id": pair.cpo_partner_id})).json()
        # The eMSP accepted each: the location created, CS16 joining it, the status change.
        assert [(e["method"], e["path"], e["delivered"]) for e in outbox] == [
            ("PUT", "/NL/CPO/LOC1", True), ("PUT", "/NL/CPO/LOC1", True),
            ("PATCH", "/NL/CPO/LOC1/CS16-1", True)]
