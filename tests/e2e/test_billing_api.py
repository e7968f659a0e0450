"""The billing admin API end to end: tariffs, assignments, tariff resolution, price feeds, CDRs.

Storage-heavy tests run on both databases (`database_url`); pure validation runs on SQLite.
Sessions are driven by a real OCPP 1.6 test station; CDRs are checked as OCPI 2.2.1 objects.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp.v16 import call

from tests.support.server import RunningServer, run_server, test_settings
from tests.support.station16 import connect16

EXAMPLES = Path(__file__).resolve().parents[3] / "shared/specs/ocpi-2.2.1/examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("tariff_*.json"))

LOCATION = {"id": "LOC1", "name": "Depot", "address": "Main Street 1", "city": "Utrecht",
            "postal_code": "3511AA", "country": "NLD", "latitude": 52.09, "longitude": 5.12,
            "time_zone": "Europe/Amsterdam"}

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T11:00:00Z"
T2 = "2026-01-02T10:00:00Z"
T3 = "2026-01-02T11:00:00Z"


@pytest.fixture
async def db_server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(test_settings(database_url)) as running:
        yield running


# helpers ------------------------------------------------------------------------------------
def example(path: Path) -> dict[str, Any]:
    """An OCPI example tariff with an id of its own (several examples share one)."""
    body: dict[str, Any] = json.loads(path.read_text())
    number = path.stem.split("_")[1]
    body["id"] = f"ex-{number}"
    return body


def energy_tariff(tariff_id: str, price: float, vat: float | None = None,
                  **fields: Any) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "ENERGY", "price": price, "step_size": 1}
    if vat is not None:
        component["vat"] = vat
    return {"id": tariff_id, "currency": "EUR",
            "elements": [{"price_components": [component]}], **fields}


async def create(server: RunningServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await server.api.post(path, json=body)
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


async def get_ok(server: RunningServer, path: str, **params: Any) -> Any:
    resp = await server.api.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_detail_names(resp: httpx.Response, status: int, *fields: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"detail"}, body
    for field in fields:
        assert field in body["detail"], (field, body["detail"])


def recent(value: str, slack: timedelta = timedelta(minutes=5)) -> bool:
    assert value.endswith("Z"), value
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return abs(datetime.now(UTC) - at) < slack


async def assign(server: RunningServer, tariff_id: str, **where: Any) -> dict[str, Any]:
    return await create(server, "/tariff-assignments", {"tariff_id": tariff_id, **where})


async def applicable(server: RunningServer, station_id: str, **params: Any) -> httpx.Response:
    return await server.api.get(f"/stations/{station_id}/tariff", params=params)


async def applicable_id(server: RunningServer, station_id: str, **params: Any) -> str:
    resp = await applicable(server, station_id, **params)
    assert resp.status_code == 200, resp.text
    tariff_id: str = resp.json()["tariff"]["id"]
    return tariff_id


async def session(server: RunningServer, station_id: str, start: str = T0, stop: str = T1,
                  meter_start: int = 1000, meter_stop: int = 11000,
                  id_tag: str = "DRIVER", connector_id: int = 1) -> int:
    """One finished 1.6 transaction; returns our transaction id."""
    async with connect16(server.ocpp_url, station_id) as station:
        started = await station.call(call.StartTransaction(
            connector_id=connector_id, id_tag=id_tag, meter_start=meter_start, timestamp=start),
            suppress=False)
        await station.call(call.StopTransaction(
            meter_stop=meter_stop, timestamp=stop, transaction_id=started.transaction_id,
            reason="Local", id_tag=id_tag), suppress=False)
    txns = (await get_ok(server, "/transactions", station_id=station_id))["items"]
    [txn] = [t for t in txns if t["started_at"] == start]
    assert txn["status"] == "completed"
    txn_id: int = txn["id"]
    return txn_id


async def billed_station(server: RunningServer, station_id: str, tariff: dict[str, Any],
                         location: dict[str, Any] = LOCATION) -> None:
    """A location, a station in it, a tariff assigned to the location, a known driver token."""
    if (await server.api.get(f"/locations/{location['id']}")).status_code == 404:
        await create(server, "/locations", location)
    await create(server, "/stations", {"id": station_id, "location_id": location["id"]})
    if (await server.api.get(f"/tariffs/{tariff['id']}")).status_code == 404:
        await create(server, "/tariffs", tariff)
        await assign(server, tariff["id"], location_id=location["id"])
    if (await server.api.get("/id-tokens/DRIVER")).status_code == 404:
        await create(server, "/id-tokens", {"id_token": "DRIVER"})


def without_ownership(tariff: dict[str, Any]) -> dict[str, Any]:
    """A tariff document without what volthub owns, and without an empty alt text list."""
    owned = {"country_code", "party_id", "last_updated"}
    return {k: v for k, v in tariff.items()
            if k not in owned and not (k == "tariff_alt_text" and v == [])}


# tariffs: create, read, list ------------------------------------------------------------------
async def test_every_ocpi_example_tariff_is_stored_as_our_own(db_server: RunningServer) -> None:
    assert len(EXAMPLE_FILES) >= 15
    for path in EXAMPLE_FILES:
        body = example(path)
        created = await create(db_server, "/tariffs", body)
        fetched = await get_ok(db_server, f"/tariffs/{body['id']}")
        assert fetched == created, path.name
        # Ours: our OCPI identity and the time of the change, not the example's.
        assert fetched["country_code"] == "NL", path.name
        assert fetched["party_id"] == "VHB", path.name
        assert recent(fetched["last_updated"]), (path.name, fetched["last_updated"])
        # Everything else exactly as posted.
        assert without_ownership(fetched) == without_ownership(body), path.name
    page = await get_ok(db_server, "/tariffs", limit=1000)
    assert page["total"] == len(EXAMPLE_FILES)
    assert sorted(t["id"] for t in page["items"]) == sorted(example(p)["id"] for p in EXAMPLE_FILES)


async def test_tariffs_list_in_pages_ordered_by_id(db_server: RunningServer) -> None:
    for n in (3, 1, 5, 2, 4):
        await create(db_server, "/tariffs", energy_tariff(f"T{n}", 0.1 * n))
    page = await get_ok(db_server, "/tariffs", limit=2, offset=1)
    assert set(page) == {"items", "total", "limit", "offset"}
    assert [t["id"] for t in page["items"]] == ["T2", "T3"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    last = await get_ok(db_server, "/tariffs", limit=2, offset=4)
    assert [t["id"] for t in last["items"]] == ["T5"]
    beyond = await get_ok(db_server, "/tariffs", offset=10)
    assert beyond["items"] == [] and beyond["total"] == 5
    assert (await db_server.api.get("/tariffs", params={"limit": 0})).status_code == 422


async def test_unknown_tariff_is_404(server: RunningServer) -> None:
    assert_detail_names(await server.api.get("/tariffs/NOPE"), 404, "NOPE")
    assert_detail_names(await server.api.delete("/tariffs/NOPE"), 404, "NOPE")
    assert_detail_names(await server.api.patch("/tariffs/NOPE", json={"currency": "USD"}),
                        404, "NOPE")


# tariffs: validation and conflicts ------------------------------------------------------------
def _mutate(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = energy_tariff("BAD", 0.25, vat=21)
    change(body)
    return body


def _set_restrictions(**restrictions: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body["elements"][0]["restrictions"] = restrictions
    return change


def _set_component(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body["elements"][0]["price_components"][0].update(fields)
    return change


INVALID_TARIFFS: list[Any] = [
    pytest.param(lambda b: b.update(surcharge=1), "surcharge", id="unknown-field"),
    pytest.param(lambda b: b["elements"][0].update(colour="red"), "colour",
                 id="unknown-field-nested"),
    pytest.param(_set_restrictions(start_time="25:00"), "start_time", id="start-time-25h"),
    pytest.param(_set_component(step_size=-1), "step_size", id="negative-step-size"),
    pytest.param(lambda b: b.update(currency="eur"), "currency", id="lowercase-currency"),
    pytest.param(lambda b: b.update(min_price={"excl_vat": 5}, max_price={"excl_vat": 2}),
                 "min_price", id="min-above-max"),
    pytest.param(lambda b: b["elements"][0]["price_components"].append(
        {"type": "TIME", "price": 1, "step_size": 60, "price_feed_id": "EPEX"}),
        "price_feed_id", id="feed-on-time-component"),
    pytest.param(lambda b: b.update(elements=[]), "elements", id="no-elements"),
    pytest.param(lambda b: b.pop("id"), "id", id="missing-id"),
    pytest.param(_set_component(type="VOLUME"), "type", id="unknown-dimension"),
    pytest.param(lambda b: b.update(end_date_time="2026-01-01T00:00:00"), "end_date_time",
                 id="naive-end"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_TARIFFS)
async def test_invalid_tariff_is_422_naming_the_field(
    server: RunningServer, change: Callable[[dict[str, Any]], None], field: str,
) -> None:
    body = _mutate(change)
    assert_detail_names(await server.api.post("/tariffs", json=body), 422, field)
    assert (await get_ok(server, "/tariffs"))["total"] == 0
    # The same body is refused by PUT on an existing tariff, which stays as it was.
    original = await create(server, "/tariffs", energy_tariff("BAD", 0.30))
    assert_detail_names(await server.api.put("/tariffs/BAD", json=body), 422, field)
    assert await get_ok(server, "/tariffs/BAD") == original


async def test_duplicate_tariff_id_is_409(db_server: RunningServer) -> None:
    first = await create(db_server, "/tariffs", energy_tariff("DUP", 0.25))
    resp = await db_server.api.post("/tariffs", json=energy_tariff("DUP", 0.99))
    assert_detail_names(resp, 409, "DUP")
    assert await get_ok(db_server, "/tariffs/DUP") == first


async def test_put_replaces_the_tariff_and_checks_its_id(db_server: RunningServer) -> None:
    await create(db_server, "/tariffs", energy_tariff("T", 0.25, vat=21))
    mismatch = await db_server.api.put("/tariffs/T", json=energy_tariff("OTHER", 0.30))
    assert_detail_names(mismatch, 422, "id")
    assert (await db_server.api.get("/tariffs/OTHER")).status_code == 404
    unknown = await db_server.api.put("/tariffs/NOPE", json=energy_tariff("NOPE", 0.30))
    assert_detail_names(unknown, 404, "NOPE")
    assert (await db_server.api.get("/tariffs/NOPE")).status_code == 404

    replacement = {**energy_tariff("T", 0.35), "country_code": "DE", "party_id": "ALL",
                   "tariff_alt_url": "https://example.com/tariffs/t"}
    resp = await db_server.api.put("/tariffs/T", json=replacement)
    assert resp.status_code == 200, resp.text
    fetched = await get_ok(db_server, "/tariffs/T")
    assert fetched == resp.json()
    assert (fetched["country_code"], fetched["party_id"]) == ("NL", "VHB")
    assert fetched["elements"] == [{"price_components": [
        {"type": "ENERGY", "price": 0.35, "step_size": 1}]}]  # the old VAT is gone: replaced
    assert fetched["tariff_alt_url"] == "https://example.com/tariffs/t"


async def test_patch_changes_one_field_and_keeps_the_rest(db_server: RunningServer) -> None:
    body = example(EXAMPLES / "tariff_4_complex.json")
    created = await create(db_server, "/tariffs", body)
    resp = await db_server.api.patch(f"/tariffs/{body['id']}",
                                     json={"tariff_alt_url": "https://example.com/new"})
    assert resp.status_code == 200, resp.text
    fetched = await get_ok(db_server, f"/tariffs/{body['id']}")
    assert fetched == resp.json()
    assert fetched["tariff_alt_url"] == "https://example.com/new"
    assert fetched["last_updated"] >= created["last_updated"]
    unchanged = {k: v for k, v in created.items() if k not in ("tariff_alt_url", "last_updated")}
    assert {k: v for k, v in fetched.items() if k in unchanged} == unchanged
    assert set(fetched) == set(created) | {"tariff_alt_url"}


async def test_patch_with_an_invalid_value_is_422_and_changes_nothing(
    server: RunningServer,
) -> None:
    created = await create(server, "/tariffs", energy_tariff("T", 0.25))
    resp = await server.api.patch("/tariffs/T", json={"currency": "eur"})
    assert_detail_names(resp, 422, "currency")
    resp = await server.api.patch("/tariffs/T", json={"surcharge": 1})
    assert_detail_names(resp, 422, "surcharge")
    assert await get_ok(server, "/tariffs/T") == created


async def test_an_assigned_tariff_cannot_be_deleted(db_server: RunningServer) -> None:
    await create(db_server, "/tariffs", energy_tariff("T", 0.25))
    assignment = await assign(db_server, "T")
    assert_detail_names(await db_server.api.delete("/tariffs/T"), 409, "T")
    await get_ok(db_server, "/tariffs/T")
    assert (await db_server.api.delete(f"/tariff-assignments/{assignment['id']}")).status_code \
        == 204
    resp = await db_server.api.delete("/tariffs/T")
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    assert_detail_names(await db_server.api.get("/tariffs/T"), 404, "T")
    assert_detail_names(await db_server.api.delete("/tariffs/T"), 404, "T")


# tariff assignments ---------------------------------------------------------------------------
async def test_assignments_for_every_kind_of_place(db_server: RunningServer) -> None:
    await create(db_server, "/locations", LOCATION)
    await create(db_server, "/stations", {"id": "CP1", "location_id": "LOC1"})
    await create(db_server, "/tariffs", energy_tariff("A", 0.25))
    await create(db_server, "/tariffs", energy_tariff("B", 0.30))
    places: list[dict[str, Any]] = [
        {"location_id": "LOC1"},
        {"station_id": "CP1"},
        {"station_id": "CP1", "evse_id": 2, "priority": 3},
        {"group_id": "FLEET"},
        {},
    ]
    made = []
    for place in places:
        out = await assign(db_server, "A", **place)
        expected = {"tariff_id": "A", "location_id": None, "station_id": None, "evse_id": None,
                    "group_id": None, "priority": 0, **place}
        assert {k: out[k] for k in expected} == expected
        assert isinstance(out["id"], int)
        assert recent(out["created_at"])
        made.append(out)
    other = await assign(db_server, "B", station_id="CP1", group_id="FLEET")
    assert len({a["id"] for a in [*made, other]}) == 6

    all_of_them = (await get_ok(db_server, "/tariff-assignments"))["items"]
    assert [a["id"] for a in all_of_them] == [a["id"] for a in [*made, other]]
    assert (await get_ok(db_server, "/tariff-assignments", tariff_id="A"))["items"] == made
    assert (await get_ok(db_server, "/tariff-assignments", tariff_id="B"))["items"] == [other]
    assert (await get_ok(db_server, "/tariff-assignments", tariff_id="NONE"))["items"] == []

    gone = made[2]["id"]
    assert (await db_server.api.delete(f"/tariff-assignments/{gone}")).status_code == 204
    assert gone not in [a["id"] for a in (await get_ok(db_server, "/tariff-assignments"))["items"]]
    assert_detail_names(await db_server.api.delete(f"/tariff-assignments/{gone}"), 404, str(gone))


@pytest.mark.parametrize(("body", "fields"), [
    pytest.param({"location_id": "LOC1", "station_id": "CP1"}, ("location_id", "station_id"),
                 id="location-and-station"),
    pytest.param({"evse_id": 1}, ("evse_id", "station_id"), id="evse-without-station"),
    pytest.param({"location_id": "LOC1", "evse_id": 1}, ("evse_id",),
                 id="evse-with-location"),
    pytest.param({"station_id": "CP1", "evse_id": 0}, ("evse_id",), id="evse-zero"),
    pytest.param({"tariff_id": ""}, ("tariff_id",), id="empty-tariff-id"),
    pytest.param({"colour": "red"}, ("colour",), id="unknown-field"),
])
async def test_invalid_assignment_is_422(server: RunningServer, body: dict[str, Any],
                                         fields: tuple[str, ...]) -> None:
    await create(server, "/locations", LOCATION)
    await create(server, "/stations", {"id": "CP1", "location_id": "LOC1"})
    await create(server, "/tariffs", energy_tariff("A", 0.25))
    resp = await server.api.post("/tariff-assignments", json={"tariff_id": "A", **body})
    assert_detail_names(resp, 422, *fields)
    assert (await get_ok(server, "/tariff-assignments"))["items"] == []


async def test_invalid_assignment_is_422_before_unknown_references(server: RunningServer) -> None:
    resp = await server.api.post("/tariff-assignments", json={
        "tariff_id": "NOPE", "location_id": "NOLOC", "station_id": "NOCP"})
    assert_detail_names(resp, 422, "location_id")


@pytest.mark.parametrize(("body", "missing"), [
    pytest.param({"tariff_id": "NOPE"}, "NOPE", id="tariff"),
    pytest.param({"tariff_id": "A", "location_id": "NOLOC"}, "NOLOC", id="location"),
    pytest.param({"tariff_id": "A", "station_id": "NOCP"}, "NOCP", id="station"),
    pytest.param({"tariff_id": "A", "station_id": "NOCP", "evse_id": 1}, "NOCP",
                 id="station-evse"),
])
async def test_assignment_to_unknown_things_is_404(db_server: RunningServer,
                                                   body: dict[str, Any], missing: str) -> None:
    await create(db_server, "/tariffs", energy_tariff("A", 0.25))
    assert_detail_names(await db_server.api.post("/tariff-assignments", json=body), 404, missing)
    assert (await get_ok(db_server, "/tariff-assignments"))["items"] == []


# which tariff applies -----------------------------------------------------------------------
async def test_applicable_tariff_follows_the_precedence_rules(db_server: RunningServer) -> None:
    api = db_server.api
    await create(db_server, "/locations", LOCATION)
    await create(db_server, "/locations", {**LOCATION, "id": "LOC2"})
    for station_id, location_id in (("CP1", "LOC1"), ("CP2", "LOC1"), ("CP3", "LOC2")):
        await create(db_server, "/stations", {"id": station_id, "location_id": location_id})
    await create(db_server, "/stations", {"id": "CP-LONE"})
    await create(db_server, "/id-tokens", {"id_token": "FLEET-1", "group_id": "FLEET"})
    await create(db_server, "/id-tokens", {"id_token": "OTHER-1", "group_id": "OTHER"})
    await create(db_server, "/id-tokens", {"id_token": "PUBLIC-1"})
    for n, name in enumerate(["ALL", "LOC", "ST", "EVSE", "GROUP", "GROUP-ST", "LOW", "HIGH"]):
        await create(db_server, "/tariffs", energy_tariff(name, 0.10 + n / 100, vat=21))

    # Nothing assigned: no tariff applies.
    assert_detail_names(await applicable(db_server, "CP1"), 404, "CP1")
    await assign(db_server, "ALL")
    for station_id in ("CP1", "CP2", "CP3", "CP-LONE"):
        assert await applicable_id(db_server, station_id) == "ALL"

    await assign(db_server, "LOC", location_id="LOC1")
    assert await applicable_id(db_server, "CP1") == "LOC"
    assert await applicable_id(db_server, "CP2") == "LOC"
    assert await applicable_id(db_server, "CP3") == "ALL"
    assert await applicable_id(db_server, "CP-LONE") == "ALL"

    await assign(db_server, "ST", station_id="CP1")
    assert await applicable_id(db_server, "CP1") == "ST"
    assert await applicable_id(db_server, "CP2") == "LOC"

    await assign(db_server, "EVSE", station_id="CP1", evse_id=2)
    assert await applicable_id(db_server, "CP1", evse_id=2) == "EVSE"
    assert await applicable_id(db_server, "CP1", evse_id=1) == "ST"
    assert await applicable_id(db_server, "CP1") == "ST"
    assert await applicable_id(db_server, "CP2", evse_id=2) == "LOC"

    # A token group's tariff comes before any public one, however specific.
    await assign(db_server, "GROUP", group_id="FLEET")
    assert await applicable_id(db_server, "CP1", evse_id=2, id_token="FLEET-1") == "GROUP"
    assert await applicable_id(db_server, "CP3", id_token="FLEET-1") == "GROUP"
    assert await applicable_id(db_server, "CP1", evse_id=2, id_token="OTHER-1") == "EVSE"
    assert await applicable_id(db_server, "CP1", evse_id=2, id_token="PUBLIC-1") == "EVSE"
    assert await applicable_id(db_server, "CP1", evse_id=2) == "EVSE"
    # ...and among the group's tariffs the more specific place wins.
    await assign(db_server, "GROUP-ST", station_id="CP2", group_id="FLEET")
    assert await applicable_id(db_server, "CP2", id_token="FLEET-1") == "GROUP-ST"
    assert await applicable_id(db_server, "CP1", id_token="FLEET-1") == "GROUP"
    assert await applicable_id(db_server, "CP2", id_token="PUBLIC-1") == "LOC"

    # Same place: the higher priority wins, whatever the order of creation.
    await assign(db_server, "HIGH", station_id="CP3", priority=5)
    await assign(db_server, "LOW", station_id="CP3", priority=1)
    assert await applicable_id(db_server, "CP3") == "HIGH"

    assert_detail_names(await applicable(db_server, "NOPE"), 404, "NOPE")
    assert_detail_names(await applicable(db_server, "CP1", id_token="NOBODY"), 404, "NOBODY")
    assert (await api.get("/stations/CP1/tariff", params={"evse_id": "x"})).status_code == 422


async def test_expired_future_and_non_regular_tariffs_are_skipped(
    db_server: RunningServer,
) -> None:
    await create(db_server, "/locations", LOCATION)
    await create(db_server, "/stations", {"id": "CP1", "location_id": "LOC1"})
    await create(db_server, "/tariffs", energy_tariff("BASE", 0.25, vat=21))
    await assign(db_server, "BASE", location_id="LOC1")
    now = datetime.now(UTC)
    skipped = [
        energy_tariff("EXPIRED", 0.01, end_date_time="2020-01-01T00:00:00Z"),
        energy_tariff("FUTURE", 0.02,
                      start_date_time=(now + timedelta(days=30)).isoformat()),
        energy_tariff("CHEAP", 0.03, type="PROFILE_CHEAP"),
        energy_tariff("ADHOC", 0.04, type="AD_HOC_PAYMENT"),
        energy_tariff("FAST", 0.05, type="PROFILE_FAST"),
    ]
    for tariff in skipped:
        await create(db_server, "/tariffs", tariff)
        await assign(db_server, tariff["id"], station_id="CP1", evse_id=1, priority=9)
    assert await applicable_id(db_server, "CP1", evse_id=1) == "BASE"

    # An explicitly REGULAR tariff, in force now, is chosen like an untyped one.
    await create(db_server, "/tariffs", energy_tariff(
        "REGULAR", 0.20, type="REGULAR", start_date_time="2020-01-01T00:00:00Z",
        end_date_time=(now + timedelta(days=30)).isoformat()))
    await assign(db_server, "REGULAR", station_id="CP1", evse_id=1)
    assert await applicable_id(db_server, "CP1", evse_id=1) == "REGULAR"

    # Only skipped ones: none applies.
    await create(db_server, "/stations", {"id": "CP2"})
    for tariff in skipped:
        await assign(db_server, tariff["id"], station_id="CP2")
    assert_detail_names(await applicable(db_server, "CP2"), 404, "CP2")


async def test_applicable_tariff_comes_with_a_readable_price_line(server: RunningServer) -> None:
    await create(server, "/stations", {"id": "CP1"})
    await create(server, "/tariffs", energy_tariff("T", 0.25, vat=10))
    await assign(server, "T", station_id="CP1")
    body = await get_ok(server, "/stations/CP1/tariff")
    assert body["tariff"] == await get_ok(server, "/tariffs/T")
    assert body["display_text"] == "0.28 EUR/kWh incl. VAT"

    alt = example(EXAMPLES / "tariff_2_alt_text.json")
    alt["type"] = "REGULAR"
    await create(server, "/tariffs", alt)
    await assign(server, alt["id"], station_id="CP1", evse_id=1)
    body = await get_ok(server, "/stations/CP1/tariff", evse_id=1)
    english = next(t["text"] for t in alt["tariff_alt_text"] if t["language"] == "en")
    assert body["display_text"] == english


# price feeds ----------------------------------------------------------------------------------
FEED = {"id": "EPEX-NL", "name": "Day-ahead NL", "currency": "EUR"}

CSV_PRICES = (
    "starts_at,price,ends_at\n"
    "2026-03-01T01:00:00Z,0.1200,\n"
    "2026-03-01T00:00:00Z,0.1000,2026-03-01T01:00:00Z\n"
    "2026-03-01T03:00:00+01:00,0.0800,2026-03-01T02:30:00Z\n"
)


async def test_price_feed_create_and_import_csv_and_json(db_server: RunningServer) -> None:
    feed = await create(db_server, "/price-feeds", {
        **FEED, "source_url": "https://prices.example.com/nl.csv", "poll_interval_s": 3600})
    assert feed == {**FEED, "source_url": "https://prices.example.com/nl.csv",
                    "poll_interval_s": 3600, "last_fetched_at": None, "last_error": None}
    assert await get_ok(db_server, "/price-feeds/EPEX-NL") == feed
    plain = await create(db_server, "/price-feeds", {**FEED, "id": "PLAIN"})
    assert plain["source_url"] is None and plain["poll_interval_s"] is None
    assert [f["id"] for f in (await get_ok(db_server, "/price-feeds"))["items"]] == ["EPEX-NL", "PLAIN"]

    resp = await db_server.api.put("/price-feeds/EPEX-NL/prices", content=CSV_PRICES,
                                   headers={"Content-Type": "text/csv"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"imported": 3}
    prices = await get_ok(db_server, "/price-feeds/EPEX-NL/prices")
    # Sorted, in UTC; a row without ends_at lasts one hour.
    assert prices == [
        {"starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-01T01:00:00Z", "price": 0.1},
        {"starts_at": "2026-03-01T01:00:00Z", "ends_at": "2026-03-01T02:00:00Z", "price": 0.12},
        {"starts_at": "2026-03-01T02:00:00Z", "ends_at": "2026-03-01T02:30:00Z", "price": 0.08},
    ]
    assert await get_ok(db_server, "/price-feeds/PLAIN/prices") == []


async def test_price_feed_prices_by_date_range(db_server: RunningServer) -> None:
    await create(db_server, "/price-feeds", FEED)
    rows = [{"starts_at": f"2026-03-01T{h:02d}:00:00Z", "price": round(0.05 + h / 100, 4)}
            for h in range(6)]
    rows.append({"starts_at": "2026-03-01T06:00:00Z", "ends_at": "2026-03-01T06:15:00Z",
                 "price": 0.5})
    resp = await db_server.api.put("/price-feeds/EPEX-NL/prices", json=rows)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"imported": 7}

    every = await get_ok(db_server, "/price-feeds/EPEX-NL/prices")
    assert [p["starts_at"] for p in every] == [r["starts_at"] for r in rows]
    assert [p["ends_at"] for p in every][:3] == [
        "2026-03-01T01:00:00Z", "2026-03-01T02:00:00Z", "2026-03-01T03:00:00Z"]
    assert every[-1] == {"starts_at": "2026-03-01T06:00:00Z", "ends_at": "2026-03-01T06:15:00Z",
                         "price": 0.5}
    assert [p["price"] for p in every[:6]] == [r["price"] for r in rows[:6]]

    # Prices in force within [date_from, date_to).
    window = await get_ok(db_server, "/price-feeds/EPEX-NL/prices",
                          date_from="2026-03-01T02:30:00Z", date_to="2026-03-01T04:00:00Z")
    assert [p["starts_at"] for p in window] == ["2026-03-01T02:00:00Z", "2026-03-01T03:00:00Z"]
    later = await get_ok(db_server, "/price-feeds/EPEX-NL/prices",
                         date_from="2026-03-01T06:00:00+01:00")
    assert [p["starts_at"] for p in later] == [f"2026-03-01T0{h}:00:00Z" for h in (5, 6)]
    assert await get_ok(db_server, "/price-feeds/EPEX-NL/prices",
                        date_to="2026-03-01T00:00:00Z") == []
    resp = await db_server.api.get("/price-feeds/EPEX-NL/prices",
                                   params={"date_from": "2026-03-01T00:00:00"})
    assert_detail_names(resp, 422, "date_from")

    # The JSON object form; a re-import of an hour replaces its price.
    resp = await db_server.api.put(
        "/price-feeds/EPEX-NL/prices",
        json={"prices": [{"starts_at": "2026-03-01T00:00:00Z", "price": "0.2"}]})
    assert resp.status_code == 200, resp.text
    first = (await get_ok(db_server, "/price-feeds/EPEX-NL/prices",
                          date_to="2026-03-01T01:00:00Z"))
    assert first == [{"starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-01T01:00:00Z",
                      "price": 0.2}]


@pytest.mark.parametrize(("body", "fields"), [
    pytest.param("starts_at,cost\n2026-03-01T00:00:00Z,0.1\n", ("header", "price"),
                 id="missing-price-column"),
    pytest.param("begin,price\n2026-03-01T00:00:00Z,0.1\n", ("header", "starts_at"),
                 id="missing-starts-at-column"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,0.1\n2026-03-01T01:00:00Z,cheap\n",
                 ("line 3", "cheap"), id="bad-number"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00,0.1\n", ("line 2", "2026-03-01T00:00:00"),
                 id="naive-datetime"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,0.1\nyesterday,0.1\n", ("line 3",),
                 id="not-a-datetime"),
    pytest.param("starts_at,price,ends_at\n2026-03-01T01:00:00Z,0.1,2026-03-01T00:00:00Z\n",
                 ("line 2", "ends_at"), id="ends-before-start"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,0.1\n2026-03-01T00:30:00Z,0.2\n",
                 ("overlap", "line "), id="overlapping-rows"),
    pytest.param('[{"starts_at": "2026-03-01T00:00:00Z"}]', ("prices[0]", "price"),
                 id="json-without-price"),
    pytest.param('[{"starts_at": "2026-03-01T00:00:00Z", "price": 1}, {"starts_at": '
                 '"2026-03-01T01:00:00Z", "price": "NaN"}]', ("prices[1]",), id="json-nan"),
    pytest.param('{"prices": 3}', ("body",), id="json-not-a-list"),
    pytest.param("[{", ("JSON",), id="broken-json"),
])
async def test_bad_price_import_is_422_naming_the_line(server: RunningServer, body: str,
                                                       fields: tuple[str, ...]) -> None:
    await create(server, "/price-feeds", FEED)
    content_type = "application/json" if body[:1] in "[{" else "text/csv"
    resp = await server.api.put("/price-feeds/EPEX-NL/prices", content=body,
                                headers={"Content-Type": content_type})
    assert_detail_names(resp, 422, *fields)
    assert await get_ok(server, "/price-feeds/EPEX-NL/prices") == []


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({**FEED, "currency": "eur"}, "currency", id="currency"),
    pytest.param({**FEED, "poll_interval_s": 59}, "poll_interval_s", id="poll-too-often"),
    pytest.param({**FEED, "source_url": "ftp://example.com/p.csv"}, "source_url", id="not-http"),
    pytest.param({"name": "x", "currency": "EUR"}, "id", id="no-id"),
    pytest.param({**FEED, "name": ""}, "name", id="empty-name"),
    pytest.param({**FEED, "colour": "red"}, "colour", id="unknown-field"),
])
async def test_invalid_price_feed_is_422(server: RunningServer, body: dict[str, Any],
                                         field: str) -> None:
    assert_detail_names(await server.api.post("/price-feeds", json=body), 422, field)
    assert (await get_ok(server, "/price-feeds"))["items"] == []


async def test_duplicate_price_feed_id_is_409(db_server: RunningServer) -> None:
    # CONTRACT.md: 409 for a duplicate id; a second POST must not overwrite the feed.
    first = await create(db_server, "/price-feeds", {**FEED, "poll_interval_s": 900})
    resp = await db_server.api.post("/price-feeds", json={**FEED, "name": "Other"})
    assert_detail_names(resp, 409, "EPEX-NL")
    assert await get_ok(db_server, "/price-feeds/EPEX-NL") == first


async def test_unknown_price_feed_is_404(server: RunningServer) -> None:
    api = server.api
    assert_detail_names(await api.get("/price-feeds/NOPE"), 404, "NOPE")
    assert_detail_names(await api.get("/price-feeds/NOPE/prices"), 404, "NOPE")
    assert_detail_names(await api.put("/price-feeds/NOPE/prices", content=CSV_PRICES,
                                      headers={"Content-Type": "text/csv"}), 404, "NOPE")
    assert_detail_names(await api.post("/price-feeds/NOPE/refresh"), 404, "NOPE")
    assert_detail_names(await api.delete("/price-feeds/NOPE"), 404, "NOPE")


async def test_deleting_a_feed_deletes_its_prices(db_server: RunningServer) -> None:
    await create(db_server, "/price-feeds", FEED)
    resp = await db_server.api.put("/price-feeds/EPEX-NL/prices", content=CSV_PRICES,
                                   headers={"Content-Type": "text/csv"})
    assert resp.json() == {"imported": 3}
    assert (await db_server.api.delete("/price-feeds/EPEX-NL")).status_code == 204
    assert (await db_server.api.get("/price-feeds/EPEX-NL")).status_code == 404
    await create(db_server, "/price-feeds", FEED)
    assert await get_ok(db_server, "/price-feeds/EPEX-NL/prices") == []


@asynccontextmanager
async def price_source(status: int, body: str,
                       content_type: str = "text/csv") -> AsyncIterator[tuple[str, list[str]]]:
    """A tiny HTTP/1.1 server on loopback answering every GET with `body`; yields its base URL
    and the request lines it got."""
    requests: list[str] = []
    reason = {200: "OK", 500: "Internal Server Error"}.get(status, "Status")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            requests.append(head.split(b"\r\n", 1)[0].decode())
            payload = body.encode()
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", requests
    finally:
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_refresh_imports_prices_from_the_source(db_server: RunningServer) -> None:
    source = "starts_at,price\n2026-04-01T00:00:00Z,0.11\n2026-04-01T01:00:00Z,0.13\n"
    async with price_source(200, source) as (url, requests):
        await create(db_server, "/price-feeds", {**FEED, "source_url": f"{url}/day-ahead.csv"})
        resp = await db_server.api.post("/price-feeds/EPEX-NL/refresh")
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"imported": 2}
    assert requests == ["GET /day-ahead.csv HTTP/1.1"]
    feed = await get_ok(db_server, "/price-feeds/EPEX-NL")
    assert feed["last_error"] is None
    assert recent(feed["last_fetched_at"])
    assert await get_ok(db_server, "/price-feeds/EPEX-NL/prices") == [
        {"starts_at": "2026-04-01T00:00:00Z", "ends_at": "2026-04-01T01:00:00Z", "price": 0.11},
        {"starts_at": "2026-04-01T01:00:00Z", "ends_at": "2026-04-01T02:00:00Z", "price": 0.13},
    ]


async def test_refresh_from_a_json_source(server: RunningServer) -> None:
    source = json.dumps({"prices": [{"starts_at": "2026-04-01T00:00:00Z", "price": 0.2}]})
    async with price_source(200, source, "application/json") as (url, _):
        await create(server, "/price-feeds", {**FEED, "source_url": url + "/p"})
        resp = await server.api.post("/price-feeds/EPEX-NL/refresh")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"imported": 1}


async def test_refresh_from_an_unreachable_source_is_422_and_kept_on_the_feed(
    db_server: RunningServer,
) -> None:
    await create(db_server, "/price-feeds",
                 {**FEED, "source_url": f"http://127.0.0.1:{closed_port()}/prices.csv"})
    resp = await db_server.api.post("/price-feeds/EPEX-NL/refresh")
    assert_detail_names(resp, 422, "source_url")
    feed = await get_ok(db_server, "/price-feeds/EPEX-NL")
    assert feed["last_error"]
    assert recent(feed["last_fetched_at"])
    assert await get_ok(db_server, "/price-feeds/EPEX-NL/prices") == []


@pytest.mark.parametrize(("status", "body"), [
    pytest.param(500, "oops", id="server-error"),
    pytest.param(200, "starts_at,price\n2026-04-01T00:00:00Z,lots\n", id="bad-csv"),
])
async def test_refresh_with_a_bad_answer_is_422_and_kept_on_the_feed(
    server: RunningServer, status: int, body: str,
) -> None:
    async with price_source(status, body) as (url, _):
        await create(server, "/price-feeds", {**FEED, "source_url": url + "/p.csv"})
        resp = await server.api.post("/price-feeds/EPEX-NL/refresh")
    assert_detail_names(resp, 422, "source_url")
    feed = await get_ok(server, "/price-feeds/EPEX-NL")
    assert feed["last_error"]
    if status == 500:
        assert "500" in feed["last_error"]
    else:
        assert "line 2" in feed["last_error"]
    assert await get_ok(server, "/price-feeds/EPEX-NL/prices") == []


async def test_refresh_without_a_source_is_422(server: RunningServer) -> None:
    await create(server, "/price-feeds", FEED)
    assert_detail_names(await server.api.post("/price-feeds/EPEX-NL/refresh"), 422, "source_url")


# CDRs -----------------------------------------------------------------------------------------
TARIFF = energy_tariff("T-025", 0.25, vat=10)  # 10 kWh: 2.50 excl., 2.75 incl. VAT
OTHER_TARIFF = energy_tariff("T-040", 0.40, vat=21)  # 10 kWh: 4.00 excl., 4.84 incl. VAT


async def test_a_finished_session_gets_one_ocpi_cdr(db_server: RunningServer) -> None:
    await billed_station(db_server, "CP-BILL", TARIFF)
    txn_id = await session(db_server, "CP-BILL")

    [cdr] = await get_ok(db_server, f"/transactions/{txn_id}/cdrs")
    assert cdr["id"] == str(txn_id)
    assert cdr["transaction_id"] == txn_id
    assert (cdr["station_id"], cdr["location_id"], cdr["id_token"]) == ("CP-BILL", "LOC1",
                                                                         "DRIVER")
    assert (cdr["start_date_time"], cdr["end_date_time"]) == (T0, T1)
    assert cdr["currency"] == "EUR"
    assert cdr["total_cost"] == {"excl_vat": 2.5, "incl_vat": 2.75}
    assert cdr["total_energy_kwh"] == 10.0
    assert cdr["credit"] is False and cdr["credit_reference_id"] is None
    assert recent(cdr["created_at"])
    assert cdr["breakdown"] and {line["dimension"] for line in cdr["breakdown"]} == {"ENERGY"}
    assert await get_ok(db_server, f"/cdrs/{cdr['id']}") == cdr

    ocpi = cdr["cdr"]
    assert (ocpi["country_code"], ocpi["party_id"], ocpi["id"]) == ("NL", "VHB", str(txn_id))
    assert (ocpi["start_date_time"], ocpi["end_date_time"]) == (T0, T1)
    assert ocpi["cdr_token"]["uid"] == "DRIVER"
    assert ocpi["cdr_token"]["type"] == "RFID"
    assert ocpi["cdr_token"]["contract_id"] == "DRIVER"
    assert ocpi["auth_method"] == "WHITELIST"
    location = ocpi["cdr_location"]
    assert location["id"] == "LOC1"
    assert (location["address"], location["city"], location["country"]) == (
        "Main Street 1", "Utrecht", "NLD")
    assert location["coordinates"] == {"latitude": "52.090000", "longitude": "5.120000"}
    assert location["evse_uid"] == "CP-BILL-1"
    assert location["evse_id"] == "NL*VHB*ECPBILL*1"  # '-' is not in eMI3's alphabet
    assert location["connector_id"] == "1"
    assert ocpi["currency"] == "EUR"
    [tariff] = ocpi["tariffs"]
    assert tariff["id"] == "T-025"
    assert (tariff["country_code"], tariff["party_id"]) == ("NL", "VHB")
    assert tariff["elements"] == TARIFF["elements"]
    assert ocpi["charging_periods"]
    assert ocpi["charging_periods"][0]["start_date_time"] == T0
    energy = sum(d["volume"] for p in ocpi["charging_periods"] for d in p["dimensions"]
                 if d["type"] == "ENERGY")
    assert energy == pytest.approx(10.0)
    assert ocpi["total_cost"] == {"excl_vat": 2.5, "incl_vat": 2.75}
    assert ocpi["total_energy_cost"] == {"excl_vat": 2.5, "incl_vat": 2.75}
    assert ocpi["total_energy"] == 10.0
    assert ocpi["total_time"] == 1.0
    assert recent(ocpi["last_updated"])
    assert "credit" not in ocpi or ocpi["credit"] is False

    page = await get_ok(db_server, "/cdrs")
    assert (page["total"], page["limit"], page["offset"]) == (1, 100, 0)
    assert page["items"] == [cdr]


async def test_cdrs_are_listed_by_station_and_end_time(db_server: RunningServer) -> None:
    await billed_station(db_server, "CP-A", TARIFF)
    await billed_station(db_server, "CP-B", TARIFF)
    first = await session(db_server, "CP-A", T0, T1)
    second = await session(db_server, "CP-A", T2, T3)
    other = await session(db_server, "CP-B", T0, T1, meter_start=0, meter_stop=4000)

    async def ids(**params: Any) -> list[str]:
        page = await get_ok(db_server, "/cdrs", **params)
        assert page["total"] == len(page["items"]) or "limit" in params
        return [c["id"] for c in page["items"]]

    assert sorted(await ids()) == sorted(str(t) for t in (first, second, other))
    assert await ids(station_id="CP-A") == [str(first), str(second)]
    assert await ids(station_id="CP-B") == [str(other)]
    assert await ids(station_id="CP-NONE") == []
    # By end of session: date_from inclusive, date_to exclusive.
    assert sorted(await ids(date_from=T1)) == sorted(str(t) for t in (first, second, other))
    assert await ids(date_from="2026-01-01T11:00:01Z") == [str(second)]
    assert await ids(date_to=T1) == []
    assert sorted(await ids(date_to="2026-01-01T11:00:01Z")) == sorted([str(first), str(other)])
    assert await ids(station_id="CP-A", date_from="2026-01-01T12:00:00+01:00",
                     date_to=T3) == [str(first)]
    page = await get_ok(db_server, "/cdrs", station_id="CP-A", limit=1, offset=1)
    assert ([c["id"] for c in page["items"]], page["total"]) == ([str(second)], 2)
    assert_detail_names(await db_server.api.get("/cdrs", params={"date_to": "tomorrow"}),
                        422, "date_to")
    assert_detail_names(await db_server.api.get("/cdrs/NOPE"), 404, "NOPE")
    assert (await db_server.api.get("/transactions/999999/cdrs")).status_code == 404


async def test_cdr_export_as_csv_and_json(db_server: RunningServer) -> None:
    await billed_station(db_server, "CP-EXP", TARIFF)
    txn_id = await session(db_server, "CP-EXP")
    cdr = await get_ok(db_server, f"/cdrs/{txn_id}")

    resp = await db_server.api.get("/cdrs/export", params={"format": "csv"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    lines = resp.text.splitlines()
    assert len(lines) == 2
    assert lines[0].split(",")[:3] == ["id", "transaction_id", "station_id"]
    [row] = list(csv.DictReader(io.StringIO(resp.text)))
    assert row["id"] == str(txn_id)
    assert row["station_id"] == "CP-EXP"
    assert row["evse_uid"] == "CP-EXP-1"
    assert float(row["total_cost_excl_vat"]) == cdr["total_cost"]["excl_vat"] == 2.5
    assert float(row["total_cost_incl_vat"]) == 2.75
    assert float(row["total_energy_kwh"]) == 10.0
    assert row["tariff_id"] == "T-025"
    assert (row["start_date_time"], row["end_date_time"]) == (T0, T1)
    assert row["credit"] == "false"

    default = await db_server.api.get("/cdrs/export")
    assert default.headers["content-type"].startswith("text/csv")
    assert default.text == resp.text
    empty = await db_server.api.get("/cdrs/export", params={"station_id": "CP-NONE"})
    assert empty.text.splitlines() == [lines[0]]

    resp = await db_server.api.get("/cdrs/export", params={"format": "json"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json() == [cdr["cdr"]]
    assert (await db_server.api.get("/cdrs/export", params={"format": "xml"})).status_code == 422


async def test_credit_and_reissue_leave_the_original_cdr_unchanged(
    db_server: RunningServer,
) -> None:
    api = db_server.api
    await billed_station(db_server, "CP-CR", TARIFF)
    await create(db_server, "/tariffs", OTHER_TARIFF)
    txn_id = await session(db_server, "CP-CR")
    cdr_id = str(txn_id)
    original = await get_ok(db_server, f"/cdrs/{cdr_id}")

    resp = await api.post(f"/cdrs/{cdr_id}/credit", json={})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["replacement"] is None
    credit = body["credit"]
    assert credit["id"] == f"{cdr_id}-C"
    assert credit["credit"] is True
    assert credit["credit_reference_id"] == cdr_id
    assert credit["total_cost"] == {"excl_vat": -2.5, "incl_vat": -2.75}
    assert credit["transaction_id"] == txn_id
    assert credit["cdr"]["id"] == f"{cdr_id}-C"
    assert credit["cdr"]["credit"] is True
    assert credit["cdr"]["credit_reference_id"] == cdr_id
    assert credit["cdr"]["total_cost"] == {"excl_vat": -2.5, "incl_vat": -2.75}
    assert credit["cdr"]["total_energy"] == 10.0
    assert await get_ok(db_server, f"/cdrs/{cdr_id}-C") == credit

    assert_detail_names(await api.post(f"/cdrs/{cdr_id}/credit", json={}), 409, cdr_id)
    assert_detail_names(await api.post(f"/cdrs/{cdr_id}/credit",
                                       json={"reissue": True}), 409, cdr_id)
    assert_detail_names(await api.post(f"/cdrs/{cdr_id}-C/credit", json={}), 409, f"{cdr_id}-C")
    assert_detail_names(await api.post("/cdrs/NOPE/credit", json={}), 404, "NOPE")
    assert_detail_names(await api.post(f"/cdrs/{cdr_id}/credit", json={"tariff_id": "T-040"}),
                        422, "tariff_id")
    assert_detail_names(await api.post(f"/cdrs/{cdr_id}/credit", json={"refund": True}),
                        422, "refund")

    # A fresh session, credited and issued again with another tariff.
    fresh_txn = await session(db_server, "CP-CR", T2, T3)
    fresh_id = str(fresh_txn)
    fresh = await get_ok(db_server, f"/cdrs/{fresh_id}")
    assert fresh["total_cost"] == {"excl_vat": 2.5, "incl_vat": 2.75}
    assert_detail_names(await api.post(f"/cdrs/{fresh_id}/credit",
                                       json={"tariff_id": "T-040"}), 422, "tariff_id")
    assert_detail_names(await api.post(f"/cdrs/{fresh_id}/credit",
                                       json={"reissue": True, "tariff_id": "NOPE"}), 404, "NOPE")
    resp = await api.post(f"/cdrs/{fresh_id}/credit",
                          json={"reissue": True, "tariff_id": "T-040", "remark": "wrong tariff"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["credit"]["id"] == f"{fresh_id}-C"
    assert body["credit"]["cdr"]["remark"] == "wrong tariff"
    replacement = body["replacement"]
    assert replacement["id"] == f"{fresh_txn}-2"
    assert replacement["credit"] is False and replacement["credit_reference_id"] is None
    assert replacement["total_cost"] == {"excl_vat": 4.0, "incl_vat": 4.84}
    assert replacement["cdr"]["id"] == f"{fresh_txn}-2"
    assert replacement["cdr"]["total_cost"] == {"excl_vat": 4.0, "incl_vat": 4.84}
    assert [t["id"] for t in replacement["cdr"]["tariffs"]] == ["T-040"]
    assert (replacement["start_date_time"], replacement["end_date_time"]) == (T2, T3)
    assert replacement["total_energy_kwh"] == 10.0
    assert await get_ok(db_server, f"/cdrs/{fresh_txn}-2") == replacement

    of_fresh = await get_ok(db_server, f"/transactions/{fresh_txn}/cdrs")
    assert sorted(c["id"] for c in of_fresh) == sorted([fresh_id, f"{fresh_id}-C",
                                                         f"{fresh_txn}-2"])
    assert await get_ok(db_server, f"/cdrs/{fresh_id}") == fresh

    # The replacement can be credited and reissued in turn (same tariff as the session's).
    resp = await api.post(f"/cdrs/{fresh_txn}-2/credit", json={"reissue": True})
    assert resp.status_code == 201, resp.text
    assert resp.json()["credit"]["total_cost"] == {"excl_vat": -4.0, "incl_vat": -4.84}
    assert resp.json()["replacement"]["id"] == f"{fresh_txn}-3"
    assert resp.json()["replacement"]["total_cost"] == {"excl_vat": 2.5, "incl_vat": 2.75}

    # Immutability: the first CDR is exactly as it was issued.
    assert await get_ok(db_server, f"/cdrs/{cdr_id}") == original
    assert await get_ok(db_server, f"/cdrs/{fresh_id}") == fresh
    assert [c["id"] for c in await get_ok(db_server, f"/transactions/{txn_id}/cdrs")] == [
        cdr_id, f"{cdr_id}-C"]
    exported = (await api.get("/cdrs/export", params={"format": "json"})).json()
    assert next(c for c in exported if c["id"] == cdr_id) == original["cdr"]


async def test_a_session_keeps_the_tariff_and_feed_prices_of_its_start(
    db_server: RunningServer,
) -> None:
    """Dynamic ENERGY prices follow the feed (+ markup); changing the tariff or the feed after
    the start does not change the session's CDR."""
    await create(db_server, "/price-feeds", FEED)
    resp = await db_server.api.put(
        "/price-feeds/EPEX-NL/prices", headers={"Content-Type": "text/csv"},
        content="starts_at,price,ends_at\n2026-01-01T10:00:00Z,0.10,2026-01-01T10:30:00Z\n"
                "2026-01-01T10:30:00Z,0.20,2026-01-01T11:00:00Z\n")
    assert resp.json() == {"imported": 2}
    dynamic = {"id": "DYN", "currency": "EUR", "elements": [{"price_components": [
        {"type": "ENERGY", "price": 0.30, "step_size": 1, "price_feed_id": "EPEX-NL",
         "price_feed_markup": 0.05}]}]}
    await billed_station(db_server, "CP-DYN", dynamic)
    assert (await get_ok(db_server, "/stations/CP-DYN/tariff"))["display_text"] == \
        "0.30 EUR/kWh (dynamic) incl. VAT"

    async with connect16(db_server.ocpp_url, "CP-DYN") as station:
        started = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER", meter_start=0, timestamp=T0), suppress=False)
        # Both change after the start: the session keeps what it started with.
        resp = await db_server.api.put("/price-feeds/EPEX-NL/prices", json=[
            {"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-01T10:30:00Z", "price": 9},
            {"starts_at": "2026-01-01T10:30:00Z", "ends_at": "2026-01-01T11:00:00Z", "price": 9}])
        assert resp.status_code == 200, resp.text
        resp = await db_server.api.patch("/tariffs/DYN", json={"elements": [{"price_components": [
            {"type": "ENERGY", "price": 5, "step_size": 1}]}]})
        assert resp.status_code == 200, resp.text
        await station.call(call.StopTransaction(
            meter_stop=10000, timestamp=T1, transaction_id=started.transaction_id,
            reason="Local", id_tag="DRIVER"), suppress=False)
    [txn] = (await get_ok(db_server, "/transactions", station_id="CP-DYN"))["items"]
    cdr = await get_ok(db_server, f"/cdrs/{txn['id']}")
    # 5 kWh at 0.10 + 0.05 and 5 kWh at 0.20 + 0.05; no VAT in the tariff.
    assert cdr["total_cost"] == {"excl_vat": 2.0, "incl_vat": 2.0}
    assert [t["elements"] for t in cdr["cdr"]["tariffs"]] == [dynamic["elements"]]
    assert sorted((float(line["unit_price"]), float(line["quantity"]))
                  for line in cdr["breakdown"]) == [(0.15, 5.0), (0.25, 5.0)]


async def test_running_cost_of_an_active_session(db_server: RunningServer) -> None:
    await billed_station(db_server, "CP-RUN", TARIFF)
    await create(db_server, "/stations", {"id": "CP-FREE"})
    now = datetime.now(UTC).replace(microsecond=0)
    started_at = (now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    measured_at = (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    async with connect16(db_server.ocpp_url, "CP-RUN") as station:
        started = await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER", meter_start=1000, timestamp=started_at),
            suppress=False)
        await station.call(call.MeterValues(
            connector_id=1, transaction_id=started.transaction_id,
            meter_value=[{"timestamp": measured_at, "sampledValue": [{
                "value": "3000", "measurand": "Energy.Active.Import.Register", "unit": "Wh",
                "context": "Sample.Periodic"}]}]), suppress=False)
    [txn] = (await get_ok(db_server, "/transactions", station_id="CP-RUN"))["items"]
    assert txn["status"] == "active"

    cost = await get_ok(db_server, f"/transactions/{txn['id']}/cost")
    assert cost["transaction_id"] == txn["id"]
    assert cost["tariff_id"] == "T-025"
    assert cost["currency"] == "EUR"
    assert cost["total_energy_kwh"] == 2.0
    assert cost["total_cost"] == {"excl_vat": 0.5, "incl_vat": 0.55}
    assert cost["lines"]
    assert {line["dimension"] for line in cost["lines"]} == {"ENERGY"}
    assert sum(line["quantity"] for line in cost["lines"]) == pytest.approx(2.0)
    assert sum(line["cost"]["excl_vat"] for line in cost["lines"]) == pytest.approx(0.5)
    assert all(line["unit_price"] == 0.25 and line["vat"] == 10 for line in cost["lines"])
    assert 0.16 <= cost["total_time_h"] <= 0.2
    # An active session has no CDR yet.
    assert await get_ok(db_server, f"/transactions/{txn['id']}/cdrs") == []

    async with connect16(db_server.ocpp_url, "CP-FREE") as station:
        await station.call(call.StartTransaction(
            connector_id=1, id_tag="DRIVER", meter_start=0, timestamp=started_at), suppress=False)
    [free] = (await get_ok(db_server, "/transactions", station_id="CP-FREE"))["items"]
    assert_detail_names(await db_server.api.get(f"/transactions/{free['id']}/cost"), 404,
                        str(free["id"]))
    assert (await db_server.api.get("/transactions/999999/cost")).status_code == 404


async def test_a_session_without_a_tariff_gets_a_zero_cdr(server: RunningServer) -> None:
    await create(server, "/id-tokens", {"id_token": "DRIVER"})
    txn_id = await session(server, "CP-NOTARIFF")
    cdr = await get_ok(server, f"/cdrs/{txn_id}")
    assert cdr["total_cost"] == {"excl_vat": 0.0, "incl_vat": 0.0}
    assert cdr["location_id"] is None
    assert cdr["cdr"]["tariffs"] == []
    assert cdr["cdr"]["total_energy"] == 10.0
    assert cdr["cdr"]["cdr_location"]["id"] == "#NA"
    assert "no tariff" in cdr["cdr"]["remark"]

