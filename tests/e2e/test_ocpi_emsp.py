"""OCPI 2.2.1 eMSP role between real servers: receivers for what CPOs push (locations,
sessions, CDRs, tariffs) with the spec's examples, our tokens (GET, real-time authorization,
push) and commands to a CPO (a stand-in CPO answers and posts the CommandResult)."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.ocpi import cpo_and_emsp, ocpi_call, ocpi_settings, register, token_header
from tests.support.ocpi_peer import LoopbackServer, free_port
from tests.support.server import RunningServer, run_server
from volthub.config import Settings
from volthub.domain.roaming import Partner, PartnerStatus
from volthub.ocpi import schemas
from volthub.ocpi.auth import token_digest
from volthub.ocpi.envelope import envelope

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi_examples"
LOC = "/emsp/2.2.1/locations"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def normal(model: type[BaseModel], data: Any) -> Any:
    """What we store for `data`: the validated object written without nulls."""
    return model.model_validate(data).model_dump(mode="json", exclude_none=True)


def check(answer: httpx.Response, status_code: int, http_status: int = 200) -> Any:
    assert answer.status_code == http_status, answer.text
    body = answer.json()
    assert body["status_code"] == status_code, body
    return body.get("data")


@dataclass
class Cpo:
    server: RunningServer
    token: str  # what this CPO uses at the eMSP

    async def call(self, emsp: RunningServer, method: str, path: str, **kwargs: Any
                   ) -> httpx.Response:
        return await ocpi_call(emsp, method, path, self.token, **kwargs)


@asynccontextmanager
async def emsp_with_cpos(tmp_path: Path, *parties: tuple[str, str],
                         emsp_db: str | None = None, **emsp_overrides: Any
                         ) -> AsyncIterator[tuple[RunningServer, list[Cpo]]]:
    """An eMSP (DE/MSP) and one CPO instance per party, each registered with the eMSP."""
    async with run_server(ocpi_settings(emsp_db or f"sqlite:///{tmp_path}/emsp.db", "DE", "MSP",
                                        "EMSP", **emsp_overrides)) as emsp:
        cpos: list[Cpo] = []
        async with AsyncExitStack() as stack:
            for cc, pid in parties:
                server = await stack.enter_async_context(run_server(ocpi_settings(
                    f"sqlite:///{tmp_path}/cpo-{cc}{pid}.db", cc, pid, "CPO")))
                partner_id, _ = await register(server, emsp)
                partner = await server.container.roaming.registration.get(partner_id)
                assert partner.token_out
                cpos.append(Cpo(server, partner.token_out))
            yield emsp, cpos


async def received(server: RunningServer, module: str) -> dict[str, Any]:
    answer = await server.api.get(f"/ocpi/{module}")
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


# --- locations -----------------------------------------------------------------------------


async def test_locations_receiver_with_the_spec_examples(database_url: str,
                                                         tmp_path: Path) -> None:
    async with emsp_with_cpos(tmp_path, ("BE", "BEC"), emsp_db=database_url) as (emsp, [cpo]):
        location = example("location_example.json")
        url = f"{LOC}/BE/BEC/LOC1"
        check(await cpo.call(emsp, "PUT", url, json=location), 1000, 201)
        assert check(await cpo.call(emsp, "GET", url), 1000) == \
            normal(schemas.Location, location)
        # The same PUT again replaces it: 200, not 201 (status_codes).
        check(await cpo.call(emsp, "PUT", url, json=location), 1000, 200)
        evse = check(await cpo.call(emsp, "GET", f"{url}/3256"), 1000)
        assert evse["evse_id"] == "BE*BEC*E041503001"
        connector = check(await cpo.call(emsp, "GET", f"{url}/3256/2"), 1000)
        assert connector["tariff_ids"] == ["13"]

        # The spec's "add an EVSE" example lacks required connector fields: refused.
        check(await cpo.call(emsp, "PUT", f"{url}/3256",
                             json=example("location_put_example_add_evse.json")), 2001)
        new_evse = {**copy.deepcopy(location["evses"][1]), "uid": "3258",
                    "last_updated": "2019-06-24T12:39:09Z"}
        check(await cpo.call(emsp, "PUT", f"{url}/3258", json=new_evse), 1000, 201)
        stored = check(await cpo.call(emsp, "GET", url), 1000)
        assert [e["uid"] for e in stored["evses"]] == ["3256", "3257", "3258"]
        # mod_locations §PUT: the parent Location takes the EVSE's last_updated.
        assert stored["last_updated"] == "2019-06-24T12:39:09Z"
        new_connector = {**copy.deepcopy(location["evses"][0]["connectors"][0]), "id": "3",
                         "last_updated": "2019-07-01T10:00:00Z"}
        check(await cpo.call(emsp, "PUT", f"{url}/3256/3", json=new_connector), 1000, 201)
        stored = check(await cpo.call(emsp, "GET", url), 1000)
        assert stored["evses"][0]["last_updated"] == "2019-07-01T10:00:00Z"
        assert stored["last_updated"] == "2019-07-01T10:00:00Z"

        check(await cpo.call(emsp, "PATCH", f"{url}/3256",
                             json=example("location_patch_example_status.json")), 1000)
        check(await cpo.call(emsp, "PATCH", f"{url}/3256/2",
                             json=example("location_patch_example_tariff.json")), 1000)
        check(await cpo.call(emsp, "PATCH", url,
                             json=example("location_patch_example_location.json")), 1000)
        check(await cpo.call(emsp, "PATCH", f"{url}/3257",
                             json=example("location_patch_example_remove_evse.json")), 1000)
        stored = check(await cpo.call(emsp, "GET", url), 1000)
        assert stored["name"] == "Interparking Gent Zuid"
        assert [e["status"] for e in stored["evses"]] == ["CHARGING", "REMOVED", "RESERVED"]
        assert stored["evses"][0]["connectors"][1]["tariff_ids"] == ["15"]
        # The untouched connector keeps its data; patched ones their new last_updated.
        assert stored["evses"][0]["connectors"][0]["tariff_ids"] == ["11"]
        assert stored["evses"][0]["connectors"][1]["last_updated"] == "2019-06-24T12:39:09Z"
        schemas.Location.model_validate(stored)

        # PATCH needs last_updated (status_codes 2001's own example) and valid values.
        check(await cpo.call(emsp, "PATCH", f"{url}/3256", json={"status": "AVAILABLE"}), 2001)
        check(await cpo.call(emsp, "PATCH", f"{url}/3256", json={
            "status": "BROKEN", "last_updated": "2019-06-25T00:00:00Z"}), 2001)
        # Ids in the body must be those of the URL (transport_and_format §Errors).
        check(await cpo.call(emsp, "PUT", f"{LOC}/BE/BEC/LOC2", json=location), 2001)
        check(await cpo.call(emsp, "PATCH", f"{url}/3256", json={
            "uid": "9999", "last_updated": "2019-06-25T00:00:00Z"}), 2001)
        # Unknown objects: 404 (status_codes), 2003 Unknown Location.
        check(await cpo.call(emsp, "GET", f"{LOC}/BE/BEC/NOPE"), 2003, 404)
        check(await cpo.call(emsp, "GET", f"{url}/9999"), 2003, 404)
        check(await cpo.call(emsp, "GET", f"{url}/3256/9"), 2003, 404)
        check(await cpo.call(emsp, "PUT", f"{LOC}/BE/BEC/NOPE/3258", json=new_evse), 2003, 404)
        check(await cpo.call(emsp, "PATCH", f"{url}/9999",
                             json=example("location_patch_example_status.json")), 2003, 404)
        # Not JSON: HTTP 400.
        answer = await cpo.call(emsp, "PUT", url, content=b"{not json",
                                headers={"Content-Type": "application/json"})
        assert answer.status_code == 400

        page = await received(emsp, "locations")
        assert page["total"] == 1
        [item] = page["items"]
        assert (item["country_code"], item["party_id"], item["id"]) == ("BE", "BEC", "LOC1")
        assert item["data"]["name"] == "Interparking Gent Zuid"
        one = (await emsp.api.get("/ocpi/locations/BE/BEC/LOC1")).json()
        assert one["data"] == stored
        assert (await emsp.api.get("/ocpi/locations/BE/BEC/NOPE")).status_code == 404


async def test_a_cpo_cannot_push_or_read_for_another_party(tmp_path: Path) -> None:
    async with emsp_with_cpos(tmp_path, ("BE", "BEC"), ("NL", "CPO")) as (emsp, [bec, other]):
        location = example("location_example.json")
        url = f"{LOC}/BE/BEC/LOC1"
        check(await bec.call(emsp, "PUT", url, json=location), 1000, 201)
        # transport_and_format §Errors: another party's objects answer 404.
        check(await other.call(emsp, "PUT", url, json=location), 2000, 404)
        check(await other.call(emsp, "GET", url), 2000, 404)
        check(await other.call(emsp, "PATCH", f"{url}/3256",
                               json=example("location_patch_example_status.json")), 2000, 404)
        # Its own party in the URL, another in the body: 2001 (the party SHALL be the same).
        check(await other.call(emsp, "PUT", f"{LOC}/NL/CPO/LOC1", json=location), 2001)
        # A CDR of another party.
        check(await other.call(emsp, "POST", "/emsp/2.2.1/cdrs",
                               json=example("cdr_example.json")), 2000)
        stored = check(await bec.call(emsp, "GET", url), 1000)
        assert stored["evses"][0]["status"] == "AVAILABLE"
        assert (await received(emsp, "locations"))["total"] == 1
        assert (await received(emsp, "cdrs"))["total"] == 0


# --- sessions ------------------------------------------------------------------------------


async def test_sessions_receiver_put_and_patch(tmp_path: Path) -> None:
    async with emsp_with_cpos(tmp_path, ("NL", "STK")) as (emsp, [cpo]):
        session = example("session_example_1_simple_start.json")
        url = "/emsp/2.2.1/sessions/NL/STK/101"
        check(await cpo.call(emsp, "GET", url), 2000, 404)
        check(await cpo.call(emsp, "PATCH", url,
                             json=example("session_patch_example_total_cost.json")), 2000, 404)
        check(await cpo.call(emsp, "PUT", url, json=session), 1000, 201)
        assert check(await cpo.call(emsp, "GET", url), 1000) == normal(schemas.Session, session)

        check(await cpo.call(emsp, "PATCH", url,
                             json=example("session_patch_example_total_cost.json")), 1000)
        stored = check(await cpo.call(emsp, "GET", url), 1000)
        assert stored["total_cost"] == {"excl_vat": 0.6, "incl_vat": 0.66}
        assert stored["last_updated"] == "2019-06-23T08:11:00Z"
        assert stored["status"] == "PENDING"  # untouched fields stay

        period = example("session_patch_example_charging_period.json")
        check(await cpo.call(emsp, "PATCH", url, json=period), 1000)
        second = copy.deepcopy(period)
        second["charging_periods"][0]["start_date_time"] = "2019-06-23T08:30:00Z"
        second["kwh"] = 16.5
        check(await cpo.call(emsp, "PATCH", url, json=second), 1000)
        # mod_sessions §PATCH: charging_periods are added; an empty list changes nothing.
        check(await cpo.call(emsp, "PATCH", url, json={
            "charging_periods": [], "last_updated": "2019-06-23T08:40:00Z"}), 1000)
        stored = check(await cpo.call(emsp, "GET", url), 1000)
        assert [p["start_date_time"] for p in stored["charging_periods"]] == \
            ["2019-06-23T08:16:02Z", "2019-06-23T08:30:00Z"]
        assert stored["kwh"] == 16.5
        schemas.Session.model_validate(stored)

        check(await cpo.call(emsp, "PATCH", url, json={"kwh": 20}), 2001)
        check(await cpo.call(emsp, "PATCH", url, json={
            "kwh": "20", "last_updated": "2019-06-23T09:00:00Z"}), 2001)
        # mod_sessions §PUT: the new object replaces the old, charging_periods included.
        check(await cpo.call(emsp, "PUT", url, json=session), 1000, 200)
        stored = check(await cpo.call(emsp, "GET", url), 1000)
        assert "charging_periods" not in stored
        check(await cpo.call(emsp, "PUT", "/emsp/2.2.1/sessions/NL/STK/102", json=session), 2001)
        page = await received(emsp, "sessions")
        assert page["total"] == 1 and page["items"][0]["data"]["id"] == "101"


# --- CDRs ----------------------------------------------------------------------------------


async def test_cdrs_receiver_post_location_header_and_immutability(tmp_path: Path) -> None:
    async with emsp_with_cpos(tmp_path, ("BE", "BEC")) as (emsp, [cpo]):
        cdr = example("cdr_example.json")
        answer = await cpo.call(emsp, "POST", "/emsp/2.2.1/cdrs", json=cdr)
        check(answer, 1000, 201)
        where = answer.headers["Location"]
        assert where == f"{emsp.base_url}/ocpi/emsp/2.2.1/cdrs/BE/BEC/12345"
        async with httpx.AsyncClient() as client:
            fetched = await client.get(where, headers=token_header(cpo.token))
        assert check(fetched, 1000) == normal(schemas.CDR, cdr)
        assert check(await cpo.call(emsp, "GET", "/emsp/2.2.1/cdrs/12345"), 1000)["id"] == "12345"
        check(await cpo.call(emsp, "GET", "/emsp/2.2.1/cdrs/99999"), 2000, 404)

        # A retry of the same CDR is acknowledged; another CDR under its id is refused.
        again = await cpo.call(emsp, "POST", "/emsp/2.2.1/cdrs", json=cdr)
        check(again, 1000, 200)
        assert again.headers["Location"] == where
        changed = {**cdr, "total_energy": 99.0}
        check(await cpo.call(emsp, "POST", "/emsp/2.2.1/cdrs", json=changed), 2001)
        without_cost = {k: v for k, v in cdr.items() if k != "total_cost"}
        check(await cpo.call(emsp, "POST", "/emsp/2.2.1/cdrs", json=without_cost), 2001)
        # A Credit CDR is a new CDR with its own id.
        credit = {**cdr, "id": "12345-C", "credit": True, "credit_reference_id": "12345",
                  "total_cost": {"excl_vat": -4.0, "incl_vat": -4.4}}
        check(await cpo.call(emsp, "POST", "/emsp/2.2.1/cdrs", json=credit), 1000, 201)
        page = await received(emsp, "cdrs")
        assert sorted(i["id"] for i in page["items"]) == ["12345", "12345-C"]
        assert (await emsp.api.get("/ocpi/cdrs/BE/BEC/12345")).json()["data"]["id"] == "12345"


# --- tariffs -------------------------------------------------------------------------------


async def test_tariffs_receiver_put_get_delete(tmp_path: Path) -> None:
    async with emsp_with_cpos(tmp_path, ("DE", "ALL")) as (emsp, [cpo]):
        base = "/emsp/2.2.1/tariffs/DE/ALL"
        for name in ("tariff_1_simple_2hour.json", "tariff_4_complex.json",
                     "tariff_15_reservation_5_euro_per_hour.json"):
            tariff = example(name)
            url = f"{base}/{tariff['id']}"
            check(await cpo.call(emsp, "PUT", url, json=tariff), 1000, 201)
            assert check(await cpo.call(emsp, "GET", url), 1000) == \
                normal(schemas.Tariff, tariff)
            check(await cpo.call(emsp, "PUT", url, json=tariff), 1000, 200)
        assert (await received(emsp, "tariffs"))["total"] == 3
        # The spec's PUT example has no last_updated (required in mod_tariffs §Tariff object).
        check(await cpo.call(emsp, "PUT", f"{base}/12",
                             json=example("tariff_put_example.json")), 2001)
        check(await cpo.call(emsp, "PUT", f"{base}/13",
                             json=example("tariff_1_simple_2hour.json")), 2001)
        check(await cpo.call(emsp, "PUT", f"{base}/12", json={
            **example("tariff_1_simple_2hour.json"), "currency": "euro"}), 2001)
        check(await cpo.call(emsp, "DELETE", f"{base}/12"), 1000)
        check(await cpo.call(emsp, "GET", f"{base}/12"), 2000, 404)
        check(await cpo.call(emsp, "DELETE", f"{base}/12"), 2000, 404)
        assert (await received(emsp, "tariffs"))["total"] == 2


# --- tokens: GET list and real-time authorization ------------------------------------------


async def create_token(server: RunningServer, id_token: str, **fields: Any) -> None:
    answer = await server.api.post("/id-tokens", json={"id_token": id_token, **fields})
    assert answer.status_code == 201, answer.text


async def test_tokens_sender_lists_our_tokens_paginated(database_url: str,
                                                        tmp_path: Path) -> None:
    async with emsp_with_cpos(tmp_path, ("NL", "CPO"), emsp_db=database_url) as (emsp, [cpo]):
        await create_token(emsp, "CARD0001", type="ISO14443")
        await create_token(emsp, "APP-42", type="Central", group_id="FAMILY1")
        await create_token(emsp, "BLOCKED1", status="Blocked")
        await create_token(emsp, "X" * 40)  # longer than Token.uid CiString(36): not listed
        answer = await cpo.call(emsp, "GET", "/emsp/2.2.1/tokens", params={"limit": 2})
        first = check(answer, 1000)
        assert answer.headers["X-Total-Count"] == "3"
        assert answer.headers["X-Limit"] == "100"
        link = answer.headers["Link"]
        assert link.startswith(f"<{emsp.base_url}/ocpi/emsp/2.2.1/tokens?") and \
            link.endswith('>; rel="next"')
        async with httpx.AsyncClient() as client:
            answer = await client.get(link[1:link.index(">")], headers=token_header(cpo.token))
        second = check(answer, 1000)
        assert "Link" not in answer.headers
        tokens = {t["uid"]: t for t in first + second}
        assert sorted(tokens) == ["APP-42", "BLOCKED1", "CARD0001"]
        for token in tokens.values():
            schemas.Token.model_validate(token)
            assert (token["country_code"], token["party_id"]) == ("DE", "MSP")
            assert token["whitelist"] == "ALLOWED"
            assert token["issuer"] == "volthub"
        card = tokens["CARD0001"]
        assert (card["type"], card["contract_id"], card["valid"]) == \
            ("RFID", "DE-MSP-CCARD0001", True)
        assert (tokens["APP-42"]["type"], tokens["APP-42"]["group_id"]) == ("APP_USER", "FAMILY1")
        assert tokens["BLOCKED1"]["valid"] is False

        future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = await cpo.call(emsp, "GET", "/emsp/2.2.1/tokens/",
                                params={"date_from": future})
        assert check(answer, 1000) == [] and answer.headers["X-Total-Count"] == "0"
        answer = await cpo.call(emsp, "GET", "/emsp/2.2.1/tokens",
                                params={"date_to": "2020-01-01T00:00:00Z"})
        assert check(answer, 1000) == []
        check(await cpo.call(emsp, "GET", "/emsp/2.2.1/tokens",
                             params={"date_from": "yesterday"}), 2001)
        # Only registered partners may read them.
        assert (await ocpi_call(emsp, "GET", "/emsp/2.2.1/tokens", "nope")).status_code == 401


def test_token_whitelist_setting() -> None:
    env = {"VOLTHUB_OCPI_TOKEN_WHITELIST": "never"}
    assert Settings.from_env(env).ocpi_token_whitelist == "NEVER"
    with pytest.raises(ValueError, match="ALLOWED_OFFLINE"):
        Settings.from_env({"VOLTHUB_OCPI_TOKEN_WHITELIST": "sometimes"})


async def test_real_time_authorization(tmp_path: Path) -> None:
    # mod_tokens §Real-time authorization: tokens the CPO must ask for are whitelist NEVER.
    async with emsp_with_cpos(tmp_path, ("NL", "CPO"), ocpi_token_whitelist="NEVER") as (
            emsp, [cpo]):
        await create_token(emsp, "CARD0001")
        await create_token(emsp, "BLOCKED1", status="Blocked")
        await create_token(emsp, "OLD1", expires_at="2020-01-01T00:00:00Z")
        where = {"location_id": "LOC1", "evse_uids": ["3256", "3257"]}

        info = check(await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/CARD0001/authorize",
                                    params={"type": "RFID"}, json=where), 1000)
        schemas.AuthorizationInfo.model_validate(info)
        assert info["allowed"] == "ALLOWED"
        assert info["location"] == where
        assert (info["token"]["uid"], info["token"]["whitelist"]) == ("CARD0001", "NEVER")
        assert 0 < len(info["authorization_reference"]) <= 36
        # Without a body and a type.
        info = check(await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/CARD0001/authorize"),
                     1000)
        assert info["allowed"] == "ALLOWED" and "location" not in info

        info = check(await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/BLOCKED1/authorize",
                                    json=where), 1000)
        assert info["allowed"] == "BLOCKED"
        assert "authorization_reference" not in info and "location" not in info
        info = check(await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/OLD1/authorize"), 1000)
        assert (info["allowed"], info["token"]["valid"]) == ("EXPIRED", False)

        # mod_tokens §POST: an unknown token is HTTP 404 with 2004 and no data.
        answer = await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/NOBODY/authorize")
        assert check(answer, 2004, 404) is None
        answer = await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/CARD0001/authorize",
                                params={"type": "APP_USER"})
        check(answer, 2004, 404)
        check(await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/CARD0001/authorize",
                             params={"type": "CARD"}), 2001)
        check(await cpo.call(emsp, "POST", "/emsp/2.2.1/tokens/CARD0001/authorize",
                             json={"evse_uids": ["1"]}), 2001)


# --- tokens: push to CPOs ------------------------------------------------------------------


async def flush(server: RunningServer) -> None:
    await server.container.services.events.drain()
    await server.container.roaming.outbox.deliver_due()


async def test_token_changes_are_pushed_to_the_cpo(tmp_path: Path) -> None:
    async with cpo_and_emsp(f"sqlite:///{tmp_path}/cpo.db",
                            f"sqlite:///{tmp_path}/emsp.db") as pair:
        emsp = pair.emsp
        await create_token(emsp, "CARD0001")
        await flush(emsp)
        pushes = (await emsp.api.get("/ocpi/outbox")).json()
        [push] = [p for p in pushes if p["module"] == "tokens"]
        assert (push["method"], push["path"], push["object_key"], push["partner_id"]) == \
            ("PUT", "/DE/MSP/CARD0001?type=RFID", "tokens/CARD0001", pair.emsp_partner_id)
        assert push["delivered"] or push["failed"] or push["attempts"] >= 1
        entries = await emsp.container.services.storage.read(
            lambda r: r.list_pushes(pair.emsp_partner_id, False, 100))
        body = next(e.body for e in entries if e.module == "tokens")
        token = schemas.Token.model_validate(body)
        assert (token.uid, token.valid, token.whitelist) == ("CARD0001", True, "ALLOWED")
        if push["delivered"]:  # the CPO's tokens receiver kept it
            stored = await pair.cpo.container.services.storage.read(
                lambda r: r.get_roaming_object("tokens", "DE", "MSP", "CARD0001"))
            assert stored is not None and stored.data["valid"] is True

        # Another type is another Token at the CPO: the old one is invalidated first.
        answer = await emsp.api.patch("/id-tokens/CARD0001", json={"type": "Central"})
        assert answer.status_code == 200, answer.text
        await flush(emsp)
        # mod_tokens §Push model: a token is invalidated, never deleted.
        assert (await emsp.api.delete("/id-tokens/CARD0001")).status_code == 204
        await flush(emsp)
        entries = await emsp.container.services.storage.read(
            lambda r: r.list_pushes(pair.emsp_partner_id, False, 100))
        sent = [(e.path, e.body["type"], e.body["valid"]) for e in entries
                if e.module == "tokens"]
        assert sent == [("/DE/MSP/CARD0001?type=RFID", "RFID", True),
                        ("/DE/MSP/CARD0001?type=RFID", "RFID", False),
                        ("/DE/MSP/CARD0001?type=APP_USER", "APP_USER", True),
                        ("/DE/MSP/CARD0001?type=APP_USER", "APP_USER", False)]
        if push["delivered"]:
            stored = await pair.cpo.container.services.storage.read(
                lambda r: r.get_roaming_object("tokens", "DE", "MSP", "CARD0001"))
            assert stored is not None and stored.data["valid"] is False


# --- commands ------------------------------------------------------------------------------


@dataclass
class StandInCpo:
    """A CPO's commands Receiver: answers each command with `responses` and then POSTs the
    `results` for it to the command's response_url, as a CPO would after the station."""

    token_to_emsp: str
    responses: dict[str, str] = field(default_factory=lambda: {"UNLOCK_CONNECTOR": "REJECTED"})
    results: dict[str, list[str]] = field(default_factory=lambda: {
        "START_SESSION": ["ACCEPTED"], "RESERVE_NOW": ["ACCEPTED", "CANCELED_RESERVATION"]})
    received: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    result_answers: list[int] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _loopback: LoopbackServer | None = None
    _later: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _command(self, request: Request) -> JSONResponse:
        command = request.path_params["command"]
        body = await request.json()
        self.received.append((command, dict(request.headers), body))
        answer = self.responses.get(command, "ACCEPTED")
        if answer == "ACCEPTED":
            self._later.append(asyncio.create_task(self._post_results(command, body)))
        return JSONResponse(envelope({"result": answer, "timeout": 30}))

    async def _post_results(self, command: str, body: dict[str, Any]) -> None:
        await asyncio.sleep(0.1)
        async with httpx.AsyncClient() as client:
            for result in self.results.get(command, []):
                answer = await client.post(body["response_url"], json={"result": result},
                                           headers=token_header(self.token_to_emsp))
                self.result_answers.append(answer.status_code)

    async def start(self) -> None:
        self._loopback = LoopbackServer(self.port)
        await self._loopback.start(Starlette(routes=[
            Route("/commands/{command}", self._command, methods=["POST"])]))

    async def stop(self) -> None:
        for task in self._later:
            await task
        if self._loopback is not None:
            await self._loopback.stop()


async def add_stand_in(emsp: RunningServer, cpo: StandInCpo) -> int:
    """The stand-in as a registered partner of the eMSP (no handshake): two CPO parties."""
    roles = [{"role": "CPO", "country_code": "NL", "party_id": pid,
              "business_details": {"name": "stand-in"}} for pid in ("SIC", "SID")]
    partner = Partner(id=0, status=PartnerStatus.CONNECTED, roles=roles,
                      versions_url=f"{cpo.url}/versions", version="2.2.1",
                      endpoints=[{"identifier": "commands", "role": "RECEIVER",
                                  "url": f"{cpo.url}/commands"}],
                      token_out="token-for-stand-in",
                      token_in_sha256=token_digest(cpo.token_to_emsp))
    now = emsp.container.services.clock()
    return await emsp.container.services.storage.write(lambda r: r.insert_partner(partner, now))


async def wait_for_state(emsp: RunningServer, command_id: str, state: str,
                         results: int = 1) -> dict[str, Any]:
    for _ in range(200):
        shown: dict[str, Any] = (await emsp.api.get(f"/ocpi/commands/{command_id}")).json()
        if shown["state"] == state and len(shown["results"]) >= results:
            return shown
        await asyncio.sleep(0.05)
    raise AssertionError(f"command {command_id} never reached {state}: {shown}")


async def test_commands_to_a_cpo_and_their_results(tmp_path: Path) -> None:
    cpo = StandInCpo(token_to_emsp="token-of-stand-in")
    await cpo.start()
    try:
        async with run_server(ocpi_settings(f"sqlite:///{tmp_path}/emsp.db", "DE", "MSP",
                                            "EMSP")) as emsp:
            partner_id = await add_stand_in(emsp, cpo)
            await create_token(emsp, "CARD0001")
            await create_token(emsp, "BLOCKED1", status="Blocked")
            # The location as this CPO pushed it, under its second party NL/SID.
            location = {**example("location_example.json"), "country_code": "NL",
                        "party_id": "SID", "id": "LOC9"}
            check(await ocpi_call(emsp, "PUT", f"{LOC}/NL/SID/LOC9", cpo.token_to_emsp,
                                  json=location), 1000, 201)

            answer = await emsp.api.post("/ocpi/commands/START_SESSION", json={
                "partner_id": partner_id, "location_id": "LOC9", "evse_uid": "3256",
                "connector_id": "1", "id_token": "CARD0001"})
            assert answer.status_code == 201, answer.text
            sent = answer.json()
            assert sent["response"] == {"result": "ACCEPTED", "timeout": 30}
            assert sent["to_party"] == ["NL", "SID"]  # the owner of the location
            assert sent["request"]["response_url"] == \
                f"{emsp.base_url}/ocpi/emsp/2.2.1/commands/START_SESSION/{sent['id']}"
            command, headers, body = cpo.received[-1]
            assert command == "START_SESSION"
            start = schemas.StartSession.model_validate(body)
            assert (start.token.uid, start.token.party_id, start.location_id, start.evse_uid,
                    start.connector_id) == ("CARD0001", "MSP", "LOC9", "3256", "1")
            assert start.authorization_reference
            assert (headers["ocpi-to-country-code"], headers["ocpi-to-party-id"]) == \
                ("NL", "SID")
            assert (headers["ocpi-from-country-code"], headers["ocpi-from-party-id"]) == \
                ("DE", "MSP")
            assert headers["authorization"] == token_header("token-for-stand-in")["Authorization"]
            done = await wait_for_state(emsp, sent["id"], "DONE")
            assert done["result"]["result"] == "ACCEPTED"

            # A reservation the CPO later cancels: both results are kept, in order.
            answer = await emsp.api.post("/ocpi/commands/RESERVE_NOW", json={
                "partner_id": partner_id, "location_id": "LOC9", "id_token": "CARD0001",
                "expiry_date": "2030-01-01T12:00:00Z", "reservation_id": "R1"})
            assert answer.status_code == 201, answer.text
            reserved = await wait_for_state(emsp, answer.json()["id"], "DONE", results=2)
            assert [r["result"] for r in reserved["results"]] == \
                ["ACCEPTED", "CANCELED_RESERVATION"]
            assert reserved["request"]["reservation_id"] == "R1"

            # Refused by the CPO: no result will come.
            answer = await emsp.api.post("/ocpi/commands/UNLOCK_CONNECTOR", json={
                "partner_id": partner_id, "location_id": "LOC9", "evse_uid": "3256",
                "connector_id": "1"})
            assert answer.status_code == 201, answer.text
            assert answer.json()["state"] == "REJECTED"
            # Without a stored location or session: the partner's first CPO party.
            answer = await emsp.api.post("/ocpi/commands/STOP_SESSION", json={
                "partner_id": partner_id, "session_id": "S1"})
            stopped = answer.json()
            assert (stopped["to_party"], stopped["state"]) == (["NL", "SIC"], "PENDING")
            assert cpo.received[-1][2]["session_id"] == "S1"

            listed = (await emsp.api.get("/ocpi/commands")).json()
            assert listed["total"] == 4

            # Bad requests never reach the CPO.
            count = len(cpo.received)
            for command, body, status in [
                ("STOP_SESSION", {"partner_id": partner_id}, 422),
                ("START_SESSION", {"partner_id": partner_id, "location_id": "LOC9",
                                   "id_token": "NOBODY"}, 404),
                ("START_SESSION", {"partner_id": partner_id, "location_id": "LOC9",
                                   "id_token": "BLOCKED1"}, 422),
                ("START_SESSION", {"partner_id": partner_id, "location_id": "LOC9"}, 422),
                ("UNLOCK_CONNECTOR", {"partner_id": partner_id, "location_id": "LOC9"}, 422),
                ("START_SESSION", {"partner_id": 999, "location_id": "LOC9",
                                   "id_token": "CARD0001"}, 404),
                ("SELF_DESTRUCT", {"partner_id": partner_id}, 422),
            ]:
                answer = await emsp.api.post(f"/ocpi/commands/{command}", json=body)
                assert answer.status_code == status, (command, body, answer.text)
            assert len(cpo.received) == count
            assert (await emsp.api.get("/ocpi/commands/nope")).status_code == 404

            # Results only on a response_url we gave, for its command.
            for path in (f"/emsp/2.2.1/commands/START_SESSION/{'0' * 32}",
                         f"/emsp/2.2.1/commands/STOP_SESSION/{sent['id']}"):
                check(await ocpi_call(emsp, "POST", path, cpo.token_to_emsp,
                                      json={"result": "ACCEPTED"}), 2000, 404)
            check(await ocpi_call(emsp, "POST",
                                  f"/emsp/2.2.1/commands/START_SESSION/{sent['id']}",
                                  cpo.token_to_emsp, json={"result": "MAYBE"}), 2001)
            assert set(cpo.result_answers) == {200}

            # The partner is down: 502, the command is kept with its error.
            await cpo.stop()
            answer = await emsp.api.post("/ocpi/commands/STOP_SESSION", json={
                "partner_id": partner_id, "session_id": "S1"})
            assert answer.status_code == 502, answer.text
            failed = [c for c in (await emsp.api.get("/ocpi/commands")).json()["items"]
                      if c["state"] == "FAILED"]
            assert len(failed) == 1 and failed[0]["command"] == "STOP_SESSION"
            assert failed[0]["error"].startswith("POST ")
    finally:
        await cpo.stop()
