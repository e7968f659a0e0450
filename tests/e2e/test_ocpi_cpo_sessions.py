"""OCPI CPO role, Sessions and CDRs (mod_sessions, mod_cdrs): a roaming driver's session on an
OCPP 1.6 station is pushed to the token's eMSP (PUT, PATCH, final PUT, then the CDR) and can
be pulled, paged by last_updated; our own drivers' sessions stay home."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from ocpp.v16 import call

from tests.e2e.test_ocpi_cpo_tokens import (
    EXAMPLES,
    STAND_IN_TOKEN,
    StandInEmsp,
    add_stand_in,
    add_station,
    assert_answer,
    ocpi_token,
    put_token,
)
from tests.support.ocpi import ocpi_call, ocpi_settings
from tests.support.server import RunningServer, run_server
from tests.support.station16 import connect16
from volthub.ocpi.envelope import ocpi_timestamp

STATION = "CP-S1"
# The spec's tariff "€ 0.25 per kWh + parking fee + start fee": 20 kWh and 40 minutes of
# parking (billed per 15 minutes) cost € 7.00 excl. VAT, € 7.90 incl. VAT.
TARIFF = "tariff_10_025kwh_parking_start.json"


@pytest.fixture
async def stand_in() -> AsyncIterator[StandInEmsp]:
    emsp = StandInEmsp(decisions={"RT-1": ("ALLOWED", "REF-1"), "RT-2": ("ALLOWED", "REF-2")})
    await emsp.start()
    try:
        yield emsp
    finally:
        await emsp.stop()


@pytest.fixture
async def cpo(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(ocpi_settings(database_url, "NL", "CPO", "CPO")) as server:
        yield server


async def _setup(cpo: RunningServer, stand_in: StandInEmsp) -> tuple[int, str]:
    partner_id = await add_stand_in(cpo, stand_in)
    await put_token(cpo, ocpi_token("RT-1", "NEVER"))
    await put_token(cpo, ocpi_token("RT-2", "ALLOWED"))
    location_id = await add_station(cpo, STATION)
    tariff: dict[str, Any] = json.loads((EXAMPLES / TARIFF).read_text())
    tariff["id"] = "T10"
    for key in ("country_code", "party_id", "last_updated"):
        tariff.pop(key)
    assert (await cpo.api.post("/tariffs", json=tariff)).status_code == 201
    answer = await cpo.api.post("/tariff-assignments", json={"tariff_id": "T10",
                                                             "location_id": location_id})
    assert answer.status_code == 201, answer.text
    assert (await cpo.api.post("/id-tokens", json={"id_token": "DRIVER-1"})).status_code == 201
    return partner_id, location_id


def _at(start: datetime, minutes: int) -> str:
    return (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _meter(wh: int, at: str) -> list[dict[str, Any]]:
    return [{"timestamp": at, "sampledValue": [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]


async def _flush(cpo: RunningServer) -> None:
    """Every domain event handled, every push sent (the events run off the station's path)."""
    await cpo.container.services.events.drain()
    await cpo.container.roaming.outbox.deliver_due()


async def _session(cpo: RunningServer, station: Any, uid: str, connector: int,
                   stop: bool = True) -> int:
    """Authorize, start, charge 10 kWh, EV full after 20 kWh, 40 minutes parked, stop (now)."""
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=160)
    assert (await station.call(call.Authorize(id_tag=uid))).id_tag_info["status"] == "Accepted"
    started = await station.call(call.StartTransaction(
        connector_id=connector, id_tag=uid, meter_start=1000, timestamp=_at(t0, 0)))
    assert started.id_tag_info["status"] == "Accepted"
    txn = int(started.transaction_id)
    await _flush(cpo)
    await station.call(call.StatusNotification(connector_id=connector, error_code="NoError",
                                               status="Charging", timestamp=_at(t0, 0)))
    await station.call(call.MeterValues(connector_id=connector, transaction_id=txn,
                                        meter_value=_meter(11000, _at(t0, 60))))
    await _flush(cpo)
    await station.call(call.StatusNotification(connector_id=connector, error_code="NoError",
                                               status="SuspendedEV", timestamp=_at(t0, 120)))
    # Within 30 s of the last PATCH: no second PATCH (the final PUT carries it).
    await station.call(call.MeterValues(connector_id=connector, transaction_id=txn,
                                        meter_value=_meter(21000, _at(t0, 120))))
    if stop:
        await station.call(call.StopTransaction(meter_stop=21000, timestamp=_at(t0, 160),
                                                transaction_id=txn, reason="EVDisconnected"))
    await _flush(cpo)
    return txn


async def test_a_roaming_session_is_pushed_then_its_cdr(cpo: RunningServer,
                                                        stand_in: StandInEmsp) -> None:
    partner_id, location_id = await _setup(cpo, stand_in)
    async with connect16(cpo.ocpp_url, STATION) as station:
        txn = await _session(cpo, station, "RT-1", 1)
        own = await _session(cpo, station, "DRIVER-1", 2)
    assert own != txn
    pushes = await cpo.container.services.storage.read(
        lambda r: r.list_pushes(partner_id, False, 100))
    session_path = f"/NL/CPO/{txn}"
    assert [(p.module, p.method, p.path, p.object_key) for p in pushes] == [
        ("sessions", "PUT", session_path, f"sessions/{txn}"),
        ("sessions", "PATCH", session_path, f"sessions/{txn}"),
        ("sessions", "PUT", session_path, f"sessions/{txn}"),
        ("cdrs", "POST", "", f"cdrs/{txn}"),
    ]
    assert all((p.to_country_code, p.to_party_id) == ("DE", "MSP") for p in pushes)
    put, patch, final, cdr = (p.body for p in pushes)

    cdr_token = {"country_code": "DE", "party_id": "MSP", "uid": "RT-1", "type": "RFID",
                 "contract_id": "DE-MSP-C-RT-1"}
    assert put["status"] == "ACTIVE" and "end_date_time" not in put
    assert (put["country_code"], put["party_id"], put["id"]) == ("NL", "CPO", str(txn))
    assert put["cdr_token"] == cdr_token
    # Authorized in real time at the eMSP: AUTH_REQUEST with the eMSP's reference.
    assert (put["auth_method"], put["authorization_reference"]) == ("AUTH_REQUEST", "REF-1")
    assert (put["location_id"], put["evse_uid"], put["connector_id"]) == (
        location_id, f"{STATION}-1", "1")
    assert put["currency"] == "EUR" and put["kwh"] == 0.0
    assert put["last_updated"].endswith("Z")
    # mod_sessions §PATCH: only what changed, with last_updated.
    assert set(patch) == {"kwh", "total_cost", "last_updated"}
    assert patch["kwh"] == 10.0
    assert patch["total_cost"] == {"excl_vat": 3.0, "incl_vat": 3.35}  # start fee + 10 kWh
    assert final["status"] == "COMPLETED" and final["kwh"] == 20.0
    duration = datetime.fromisoformat(final["end_date_time"]) - \
        datetime.fromisoformat(final["start_date_time"])
    assert duration == timedelta(minutes=160) and final["start_date_time"] == put[
        "start_date_time"]
    assert final["total_cost"] == {"excl_vat": 7.0, "incl_vat": 7.9}
    assert final["charging_periods"] and final["auth_method"] == "AUTH_REQUEST"
    assert cdr["id"] == str(txn) and cdr["session_id"] == str(txn)
    assert cdr["cdr_token"] == cdr_token
    assert (cdr["auth_method"], cdr["authorization_reference"]) == ("AUTH_REQUEST", "REF-1")
    assert cdr["total_cost"] == {"excl_vat": 7.0, "incl_vat": 7.9}
    assert cdr["total_energy"] == 20.0

    # The eMSP got them in that order, where mod_sessions/mod_cdrs put them.
    got = [(r.method, r.path) for r in stand_in.received if not r.path.endswith("/authorize")]
    assert got == [("PUT", f"/sessions{session_path}"), ("PATCH", f"/sessions{session_path}"),
                   ("PUT", f"/sessions{session_path}"), ("POST", "/cdrs")]
    # Our own driver's session went nowhere (no other partner has pushes either).
    everything = await cpo.container.services.storage.read(
        lambda r: r.list_pushes(None, False, 100))
    assert len(everything) == 4


async def test_whitelisted_roaming_session_says_whitelist(cpo: RunningServer,
                                                          stand_in: StandInEmsp) -> None:
    partner_id, _ = await _setup(cpo, stand_in)
    async with connect16(cpo.ocpp_url, STATION) as station:
        txn = await _session(cpo, station, "RT-2", 1, stop=False)
    pushes = await cpo.container.services.storage.read(
        lambda r: r.list_pushes(partner_id, False, 100))
    assert [p.method for p in pushes] == ["PUT", "PATCH"]
    assert pushes[0].body["id"] == str(txn)
    assert pushes[0].body["auth_method"] == "WHITELIST"
    assert "authorization_reference" not in pushes[0].body
    assert stand_in.authorize_requests() == []


async def test_sessions_and_cdrs_are_pulled_by_their_emsp_only(cpo: RunningServer,
                                                               stand_in: StandInEmsp) -> None:
    await _setup(cpo, stand_in)
    before = ocpi_timestamp()
    async with connect16(cpo.ocpp_url, STATION) as station:
        first = await _session(cpo, station, "RT-1", 1)
        second = await _session(cpo, station, "RT-2", 2, stop=False)
        await _session(cpo, station, "DRIVER-1", 3)
    after = ocpi_timestamp(datetime.now(UTC) + timedelta(seconds=1))

    answer = await ocpi_call(cpo, "GET", "/cpo/2.2.1/sessions", STAND_IN_TOKEN,
                             params={"date_from": before})
    body = assert_answer(answer, 200, 1000)
    assert answer.headers["X-Total-Count"] == "2"
    assert {(s["id"], s["status"]) for s in body["data"]} == {
        (str(first), "COMPLETED"), (str(second), "ACTIVE")}

    # Paginated: one per page, Link to the next page keeping the filter.
    answer = await ocpi_call(cpo, "GET", "/cpo/2.2.1/sessions/", STAND_IN_TOKEN,
                             params={"date_from": before, "limit": 1})
    page = assert_answer(answer, 200, 1000)["data"]
    assert len(page) == 1 and answer.headers["X-Total-Count"] == "2"
    link = urlparse(answer.headers["Link"].split(";")[0].strip("<>"))
    query = parse_qs(link.query)
    assert query["offset"] == ["1"] and query["limit"] == ["1"]
    assert query["date_from"] == [before]
    answer = await ocpi_call(cpo, "GET", f"{link.path.removeprefix('/ocpi')}?{link.query}",
                             STAND_IN_TOKEN)
    rest = assert_answer(answer, 200, 1000)["data"]
    assert [s["id"] for s in page + rest] in ([str(first), str(second)],
                                               [str(second), str(first)])
    assert "Link" not in answer.headers

    # date_from inclusive, date_to exclusive, on last_updated.
    for params in ({"date_from": after}, {"date_to": before}):
        answer = await ocpi_call(cpo, "GET", "/cpo/2.2.1/sessions", STAND_IN_TOKEN,
                                 params=params)
        assert assert_answer(answer, 200, 1000)["data"] == []
        assert answer.headers["X-Total-Count"] == "0"
    answer = await ocpi_call(cpo, "GET", "/cpo/2.2.1/sessions", STAND_IN_TOKEN,
                             params={"date_from": "yesterday"})
    assert_answer(answer, 200, 2001)

    answer = await ocpi_call(cpo, "GET", "/cpo/2.2.1/cdrs", STAND_IN_TOKEN,
                             params={"date_from": before, "date_to": after})
    [cdr] = assert_answer(answer, 200, 1000)["data"]
    assert cdr["id"] == str(first) and cdr["cdr_token"]["uid"] == "RT-1"
    assert cdr["total_cost"] == {"excl_vat": 7.0, "incl_vat": 7.9}
    answer = await ocpi_call(cpo, "GET", "/cpo/2.2.1/cdrs", STAND_IN_TOKEN,
                             params={"date_to": before})
    assert assert_answer(answer, 200, 1000)["data"] == []

    # Another eMSP sees none of them.
    other = StandInEmsp()
    await add_stand_in(cpo, other, token_in="other-emsp", party=("BE", "OTH"))
    for module in ("sessions", "cdrs"):
        answer = await ocpi_call(cpo, "GET", f"/cpo/2.2.1/{module}", "other-emsp")
        assert assert_answer(answer, 200, 1000)["data"] == []

    # mod_sessions §ChargingPreferencesResponse: no EVSE of ours is
    # CHARGING_PREFERENCES_CAPABLE, so HTTP 404 with OCPI 2001.
    preferences = f"/cpo/2.2.1/sessions/{second}/charging_preferences"
    answer = await ocpi_call(cpo, "PUT", preferences, STAND_IN_TOKEN,
                             json={"profile_type": "FAST", "energy_need": 12.5})
    assert assert_answer(answer, 404, 2001)["data"] == "NOT_POSSIBLE"
    answer = await ocpi_call(cpo, "PUT", preferences, STAND_IN_TOKEN,
                             json={"profile_type": "SUPERFAST"})
    assert_answer(answer, 200, 2001)
    answer = await ocpi_call(cpo, "PUT", preferences, "other-emsp",
                             json={"profile_type": "FAST"})
    assert_answer(answer, 404, 2000)
