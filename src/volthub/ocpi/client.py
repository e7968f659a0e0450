"""Calls to partners' OCPI endpoints: auth, request ids, routing headers, envelope parsing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from volthub.ocpi.auth import encode_token

ROUTING_FROM = ("OCPI-from-country-code", "OCPI-from-party-id")
ROUTING_TO = ("OCPI-to-country-code", "OCPI-to-party-id")


class PartnerUnreachable(Exception):
    """No OCPI answer: connection refused, timeout, a 5xx or a body that is not an envelope.
    Worth retrying."""


@dataclass(slots=True)
class OcpiReply:
    http_status: int
    status_code: int | None
    data: Any
    message: str | None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300 and self.status_code is not None \
            and 1000 <= self.status_code < 2000

    def describe(self) -> str:
        return f"HTTP {self.http_status}, OCPI {self.status_code}: {self.message or ''}".strip()


class OcpiClient:
    """One httpx client for every partner; each call names its token and parties."""

    def __init__(self, timeout_s: float = 15.0, transport: httpx.AsyncBaseTransport | None = None
                 ) -> None:
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, url: str, token: str, *, body: Any = None,
        params: dict[str, Any] | None = None, plain_token: bool = False,
        from_party: tuple[str, str] | None = None, to_party: tuple[str, str] | None = None,
        correlation_id: str | None = None,
    ) -> OcpiReply:
        """Send one request; routing headers only for functional modules (the caller passes
        the parties; transport_and_format §Message routing: not for credentials/versions)."""
        headers = {
            "Authorization": f"Token {token}" if plain_token else encode_token(token),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": correlation_id or str(uuid.uuid4()),
        }
        if from_party is not None:
            headers.update(zip(ROUTING_FROM, from_party, strict=True))
        if to_party is not None:
            headers.update(zip(ROUTING_TO, to_party, strict=True))
        try:
            response = await self._http.request(method, url, json=body, params=params,
                                                headers=headers)
        except httpx.HTTPError as exc:
            raise PartnerUnreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise PartnerUnreachable(f"{method} {url}: HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            if response.status_code in (401, 403, 404, 405):
                return OcpiReply(response.status_code, None, None,
                                 response.text[:200] or None, dict(response.headers))
            raise PartnerUnreachable(f"{method} {url}: HTTP {response.status_code}, "
                                     "the answer is not an OCPI envelope")
        code = payload.get("status_code")
        return OcpiReply(response.status_code, int(code) if isinstance(code, int) else None,
                         payload.get("data"), payload.get("status_message"),
                         dict(response.headers))
