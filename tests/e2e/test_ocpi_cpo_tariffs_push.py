"""Our tariffs pushed to eMSPs (mod_tariffs §Receiver interface): PUT on create and change,
DELETE on delete, all of them to a partner that registers."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_billing_sessions import spec_tariff
from tests.e2e.test_ocpi_cpo_locations import cpo_with_peer, flush
from tests.support.ocpi import ocpi_settings, register
from tests.support.server import run_server
from volthub.domain.tariffs import Tariff


async def test_tariff_changes_are_pushed(sqlite_url: str) -> None:
    async with cpo_with_peer(sqlite_url) as (cpo, peer, _):
        answer = await cpo.api.post("/tariffs", json=spec_tariff(
            "tariff_8_simple_025kwh.json", "T8"))
        assert answer.status_code == 201, answer.text
        await flush(cpo)
        [put] = peer.received
        assert (put.method, put.path) == ("PUT", "/tariffs/receiver/NL/CPO/T8")
        pushed = Tariff.model_validate(put.body)
        assert (pushed.country_code, pushed.party_id, pushed.id) == ("NL", "CPO", "T8")
        assert put.body["last_updated"].endswith("Z")

        answer = await cpo.api.patch("/tariffs/T8", json={"currency": "USD"})
        assert answer.status_code == 200, answer.text
        await flush(cpo)
        assert peer.received[-1].method == "PUT"
        assert peer.received[-1].body["currency"] == "USD"

        assert (await cpo.api.delete("/tariffs/T8")).status_code in (200, 204)
        await flush(cpo)
        last = peer.received[-1]
        assert (last.method, last.path, last.body) == ("DELETE",
                                                       "/tariffs/receiver/NL/CPO/T8", None)
        assert len(peer.received) == 3


async def test_a_new_emsp_gets_every_tariff(sqlite_url: str, tmp_path: Path) -> None:
    async with run_server(ocpi_settings(sqlite_url, "NL", "CPO", "CPO")) as cpo, \
            run_server(ocpi_settings(f"sqlite:///{tmp_path}/emsp.db", "DE", "MSP",
                                     "EMSP")) as emsp:
        for name, tariff_id in (("tariff_8_simple_025kwh.json", "T8"),
                                ("tariff_1_simple_2hour.json", "T1")):
            answer = await cpo.api.post("/tariffs", json=spec_tariff(name, tariff_id))
            assert answer.status_code == 201, answer.text
        await register(cpo, emsp)
        await flush(cpo)
        answer = await emsp.api.get("/ocpi/tariffs")
        assert answer.status_code == 200, answer.text
        stored = {item["data"]["id"]: item["data"] for item in answer.json()["items"]}
        assert sorted(stored) == ["T1", "T8"]
        assert stored["T8"]["party_id"] == "CPO"
