"""Helpers for OCPI tests: two volthub instances that registered with each other, raw calls."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.server import RunningServer, run_server, test_settings


def token_header(token: str, plain: bool = False) -> dict[str, str]:
    value = token if plain else base64.b64encode(token.encode()).decode()
    return {"Authorization": f"Token {value}"}


def ocpi_settings(database_url: str, country_code: str, party_id: str, roles: str,
                  **overrides: Any) -> Any:
    return test_settings(database_url, ocpi_country_code=country_code, ocpi_party_id=party_id,
                         ocpi_roles=roles, ocpi_retry_base_s=0.2, ocpi_retry_max_s=1.0,
                         ocpi_timeout_s=5.0, **overrides)


@dataclass
class Pair:
    """A CPO and an eMSP instance; the CPO registered with the eMSP."""

    cpo: RunningServer
    emsp: RunningServer
    cpo_partner_id: int  # the eMSP as the CPO's partner
    emsp_partner_id: int  # the CPO as the eMSP's partner

    async def token_cpo_uses(self) -> str:
        partner = await self.cpo.container.roaming.registration.get(self.cpo_partner_id)
        assert partner.token_out
        return partner.token_out

    async def token_emsp_uses(self) -> str:
        partner = await self.emsp.container.roaming.registration.get(self.emsp_partner_id)
        assert partner.token_out
        return partner.token_out


async def register(initiator: RunningServer, other: RunningServer) -> tuple[int, int]:
    """`initiator` registers with `other` through the admin APIs; returns both partner ids."""
    issued = (await other.api.post("/ocpi/registration-tokens")).json()
    answer = await initiator.api.post("/ocpi/partners", json={
        "versions_url": f"{other.base_url}/ocpi/versions", "token": issued["token"]})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"]), int(issued["partner_id"])


@asynccontextmanager
async def cpo_and_emsp(cpo_db: str, emsp_db: str, **cpo_overrides: Any) -> AsyncIterator[Pair]:
    async with run_server(ocpi_settings(cpo_db, "NL", "CPO", "CPO", **cpo_overrides)) as cpo, \
            run_server(ocpi_settings(emsp_db, "DE", "MSP", "EMSP")) as emsp:
        cpo_partner, emsp_partner = await register(cpo, emsp)
        yield Pair(cpo, emsp, cpo_partner, emsp_partner)


async def ocpi_get(server: RunningServer, path: str, token: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{server.base_url}/ocpi", timeout=10) as client:
        headers = {**token_header(token), **kwargs.pop("headers", {})}
        return await client.get(path, headers=headers, **kwargs)


async def ocpi_call(server: RunningServer, method: str, path: str, token: str | None,
                    headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{server.base_url}/ocpi", timeout=10) as client:
        all_headers = {**(token_header(token) if token else {}), **(headers or {})}
        return await client.request(method, path, headers=all_headers, **kwargs)
