"""The credentials handshake in both directions, re-registration and unregistration
(credentials §Registration, §Updating to a newer version, §Changing endpoints)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from volthub.api.errors import describe_validation_errors
from volthub.domain.errors import Conflict, InvalidInput, NotFound
from volthub.domain.roaming import Partner, PartnerStatus
from volthub.ocpi.auth import new_token, token_digest
from volthub.ocpi.client import OcpiClient, OcpiReply, PartnerUnreachable
from volthub.ocpi.envelope import OcpiError, OcpiStatus
from volthub.ocpi.schemas import Credentials
from volthub.services.ports import Clock
from volthub.storage.interface import Storage

log = logging.getLogger("volthub.ocpi")

VERSION = "2.2.1"


@dataclass(frozen=True, slots=True)
class OcpiIdentity:
    """Who we are in OCPI: one party (country code + party id) in each of our roles."""

    country_code: str
    party_id: str
    name: str
    roles: tuple[str, ...] = ("CPO", "EMSP")

    @property
    def party(self) -> tuple[str, str]:
        return (self.country_code, self.party_id)

    def is_us(self, country_code: str | None, party_id: str | None) -> bool:
        return (country_code or "").upper() == self.country_code.upper() and \
            (party_id or "").upper() == self.party_id.upper()

    def credentials(self, token: str, versions_url: str) -> dict[str, Any]:
        """Our Credentials object (credentials §Credentials object), one role per role we play."""
        return {
            "token": token,
            "url": versions_url,
            "roles": [{"role": role, "party_id": self.party_id,
                       "country_code": self.country_code,
                       "business_details": {"name": self.name}} for role in self.roles],
        }


class RegistrationError(Exception):
    """The partner's side of a registration failed (its API unusable, no common version)."""

    def __init__(self, status: OcpiStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class Registration:
    """Partners: registration tokens, registering with them and them with us."""

    def __init__(self, storage: Storage, clock: Clock, client: OcpiClient,
                 identity: OcpiIdentity) -> None:
        self.storage = storage
        self.clock = clock
        self.client = client
        self.identity = identity
        # Told about every partner that became CONNECTED by a handshake (initial pushes).
        self.on_connected: Callable[[Partner], Awaitable[None]] | None = None

    # admin side -------------------------------------------------------------------------
    async def issue_registration_token(self) -> tuple[Partner, str]:
        """A token A for a partner that will register with us: a PLANNED partner until then."""
        token = new_token()
        partner = Partner(id=0, status=PartnerStatus.PLANNED, token_in_sha256=token_digest(token))
        now = self.clock()
        partner.id = await self.storage.write(lambda r: r.insert_partner(partner, now))
        return partner, token

    async def register_with(self, versions_url: str, token_a: str,
                            our_versions_url: str) -> Partner:
        """We start the handshake (credentials §Registration, we are the 'Sender')."""
        try:
            version_url = await self._pick_version(versions_url, token_a, plain=False)
            endpoints = await self._endpoints(version_url, token_a, plain=False)
        except RegistrationError as exc:
            raise InvalidInput(f"versions_url: {exc}") from exc
        credentials_url = _credentials_url(endpoints)
        token_b = new_token()
        now = self.clock()
        # Token B must work before the POST: the partner may call our versions with it while
        # it handles our POST.
        planned = Partner(id=0, status=PartnerStatus.PLANNED, versions_url=versions_url,
                          version=VERSION, endpoints=endpoints,
                          token_in_sha256=token_digest(token_b))
        planned.id = await self.storage.write(lambda r: r.insert_partner(planned, now))
        try:
            reply = await self.client.request(
                "POST", credentials_url, token_a,
                body=self.identity.credentials(token_b, our_versions_url))
        except PartnerUnreachable as exc:
            await self._suspend(planned.id)
            raise InvalidInput(f"versions_url: the partner's credentials endpoint failed: "
                               f"{exc}") from exc
        if not reply.ok or not isinstance(reply.data, dict):
            await self._suspend(planned.id)
            raise InvalidInput(f"versions_url: the partner refused our credentials "
                               f"({reply.describe()})")
        theirs = reply.data
        try:
            _check_credentials(theirs)
        except InvalidInput as exc:
            await self._suspend(planned.id)
            raise InvalidInput(f"versions_url: the partner's credentials are invalid: {exc}"
                               ) from exc
        # Their credentials may name another versions URL (credentials §Registration step 6):
        # refresh endpoints from it.
        if theirs["url"] != versions_url:
            try:
                version_url = await self._pick_version(theirs["url"], theirs["token"], False)
                endpoints = await self._endpoints(version_url, theirs["token"], plain=False)
            except RegistrationError as exc:
                await self._suspend(planned.id)
                raise InvalidInput(f"versions_url: {exc}") from exc
        fields = {"status": PartnerStatus.CONNECTED, "roles": theirs["roles"],
                  "versions_url": theirs["url"], "endpoints": endpoints,
                  "token_out": theirs["token"], "failures": 0, "last_error": None}
        await self.storage.write(lambda r: r.update_partner(planned.id, fields, self.clock()))
        log.info("registered with OCPI partner", extra={"partner": planned.id})
        partner = await self.get(planned.id)
        await self._connected(partner)
        return partner

    async def reregister(self, partner_id: int, our_versions_url: str) -> Partner:
        """credentials §PUT from our side: a new token for them, our current versions URL and
        roles; their answer carries their new token, and we re-read their endpoints."""
        partner = await self.get(partner_id)
        url = partner.endpoint("credentials", "SENDER") or partner.endpoint("credentials",
                                                                            "RECEIVER")
        if partner.status not in (PartnerStatus.CONNECTED, PartnerStatus.OFFLINE) \
                or not partner.token_out or url is None:
            raise Conflict(f"partner {partner_id} is not registered")
        new_in = new_token()
        old_digest = partner.token_in_sha256
        # The partner calls our versions with the new token during its PUT handling.
        await self.storage.write(lambda r: r.update_partner(
            partner_id, {"token_in_sha256": token_digest(new_in)}, self.clock()))
        try:
            reply = await self.client.request("PUT", url, partner.token_out,
                                              body=self.identity.credentials(new_in,
                                                                             our_versions_url),
                                              plain_token=partner.sends_plain_token)
            if not reply.ok or not isinstance(reply.data, dict):
                raise InvalidInput(f"the partner refused the update ({reply.describe()})")
            _check_credentials(reply.data)
            theirs = reply.data
            version_url = await self._pick_version(theirs["url"], theirs["token"],
                                                   partner.sends_plain_token)
            endpoints = await self._endpoints(version_url, theirs["token"],
                                              partner.sends_plain_token)
        except (PartnerUnreachable, RegistrationError, InvalidInput) as exc:
            await self.storage.write(lambda r: r.update_partner(
                partner_id, {"token_in_sha256": old_digest}, self.clock()))
            raise Conflict(f"partner {partner_id}: re-registration failed: {exc}") from exc
        fields = {"roles": theirs["roles"], "versions_url": theirs["url"],
                  "endpoints": endpoints, "token_out": theirs["token"]}
        await self.storage.write(lambda r: r.update_partner(partner_id, fields, self.clock()))
        return await self.get(partner_id)

    async def unregister_from(self, partner_id: int) -> Partner:
        """Operator ends the relation: DELETE on their credentials, then forget their token."""
        partner = await self.get(partner_id)
        url = partner.endpoint("credentials", "SENDER") or partner.endpoint("credentials",
                                                                            "RECEIVER")
        if partner.token_out and url:
            try:
                reply = await self.client.request("DELETE", url, partner.token_out,
                                                  plain_token=partner.sends_plain_token)
                if not reply.ok:
                    log.warning("partner refused unregistration",
                                extra={"partner": partner_id, "reply": reply.describe()})
            except PartnerUnreachable as exc:
                log.warning("partner unreachable for unregistration",
                            extra={"partner": partner_id, "error": str(exc)})
        await self._suspend(partner_id)
        return await self.get(partner_id)

    async def get(self, partner_id: int) -> Partner:
        partner = await self.storage.read(lambda r: r.get_partner(partner_id))
        if partner is None:
            raise NotFound(f"partner {partner_id} not found")
        return partner

    async def all(self) -> list[Partner]:
        return await self.storage.read(lambda r: r.list_partners())

    # the partner's side: our credentials endpoint -----------------------------------------
    async def accept_registration(self, caller: Partner, theirs: dict[str, Any],
                                  our_versions_url: str, plain: bool) -> dict[str, Any]:
        """POST credentials with token A: fetch their versions with token B, answer token C."""
        if caller.status is not PartnerStatus.PLANNED:
            # credentials §POST: a registered party must use PUT (HTTP 405).
            raise OcpiError(OcpiStatus.CLIENT_ERROR, "already registered: use PUT to update",
                            http_status=405)
        return await self._take_credentials(caller, theirs, our_versions_url, plain)

    async def update_registration(self, caller: Partner, theirs: dict[str, Any],
                                  our_versions_url: str, plain: bool) -> dict[str, Any]:
        """PUT credentials: new token/endpoints of theirs, a new token C of ours."""
        if caller.status is PartnerStatus.PLANNED:
            raise OcpiError(OcpiStatus.CLIENT_ERROR, "not registered: use POST to register",
                            http_status=405)
        return await self._take_credentials(caller, theirs, our_versions_url, plain)

    async def accept_unregistration(self, caller: Partner) -> None:
        if caller.status is PartnerStatus.PLANNED:
            raise OcpiError(OcpiStatus.CLIENT_ERROR, "not registered", http_status=405)
        await self._suspend(caller.id)

    async def _take_credentials(self, caller: Partner, theirs: dict[str, Any],
                                our_versions_url: str, plain: bool) -> dict[str, Any]:
        try:
            _check_credentials(theirs)
        except InvalidInput as exc:
            raise OcpiError(OcpiStatus.INVALID_PARAMETERS, str(exc)) from exc
        for role in theirs["roles"]:
            if self.identity.is_us(role["country_code"], role["party_id"]):
                raise OcpiError(OcpiStatus.INVALID_PARAMETERS,
                                "roles: a partner cannot use our own party id")
        try:
            version_url = await self._pick_version(theirs["url"], theirs["token"], plain)
            endpoints = await self._endpoints(version_url, theirs["token"], plain)
        except RegistrationError as exc:
            raise OcpiError(exc.status, str(exc)) from exc
        token_c = new_token()
        fields = {"status": PartnerStatus.CONNECTED, "roles": theirs["roles"],
                  "versions_url": theirs["url"], "version": VERSION, "endpoints": endpoints,
                  "token_out": theirs["token"], "token_in_sha256": token_digest(token_c),
                  "sends_plain_token": caller.sends_plain_token or plain, "failures": 0,
                  "last_error": None}
        await self.storage.write(lambda r: r.update_partner(caller.id, fields, self.clock()))
        log.info("OCPI partner registered", extra={"partner": caller.id})
        await self._connected(await self.get(caller.id))
        return self.identity.credentials(token_c, our_versions_url)

    # helpers ----------------------------------------------------------------------------
    async def _connected(self, partner: Partner) -> None:
        if self.on_connected is None:
            return
        try:
            await self.on_connected(partner)
        except Exception:
            log.exception("initial pushes to a new partner failed", extra={"partner": partner.id})

    async def _get(self, url: str, token: str, plain: bool) -> OcpiReply:
        try:
            reply = await self.client.request("GET", url, token, plain_token=plain)
        except PartnerUnreachable as exc:
            raise RegistrationError(OcpiStatus.CLIENT_API_UNUSABLE, str(exc)) from exc
        if not reply.ok:
            raise RegistrationError(OcpiStatus.CLIENT_API_UNUSABLE,
                                    f"GET {url}: {reply.describe()}")
        return reply

    async def _pick_version(self, versions_url: str, token: str, plain: bool) -> str:
        reply = await self._get(versions_url, token, plain)
        versions = reply.data if isinstance(reply.data, list) else []
        for version in versions:
            if isinstance(version, dict) and version.get("version") == VERSION:
                return str(version["url"])
        raise RegistrationError(
            OcpiStatus.UNSUPPORTED_VERSION,
            f"no OCPI {VERSION} among the partner's versions "
            f"{[v.get('version') for v in versions if isinstance(v, dict)]}")

    async def _endpoints(self, version_url: str, token: str, plain: bool) -> list[dict[str, Any]]:
        reply = await self._get(version_url, token, plain)
        data = reply.data if isinstance(reply.data, dict) else {}
        endpoints = [e for e in data.get("endpoints", []) if isinstance(e, dict)
                     and {"identifier", "url"} <= e.keys()]
        if not any(e["identifier"] != "credentials" for e in endpoints):
            raise RegistrationError(OcpiStatus.NO_MATCHING_ENDPOINTS,
                                    "the partner offers no module besides credentials")
        return [{"identifier": e["identifier"], "role": e.get("role", "SENDER"),
                 "url": e["url"]} for e in endpoints]

    async def _suspend(self, partner_id: int) -> None:
        fields = {"status": PartnerStatus.SUSPENDED, "token_in_sha256": None, "token_out": None}
        await self.storage.write(lambda r: r.update_partner(partner_id, fields, self.clock()))

    async def suspend(self, partner_id: int) -> Partner:
        await self.get(partner_id)
        await self._suspend(partner_id)
        return await self.get(partner_id)


def _credentials_url(endpoints: list[dict[str, Any]]) -> str:
    for e in endpoints:
        if e["identifier"] == "credentials":
            return str(e["url"])
    raise InvalidInput("versions_url: the partner has no credentials endpoint")


def _check_credentials(data: Any) -> None:
    """credentials §Credentials object, validated by its schema model; the url must be one we
    can call (http or https)."""
    try:
        Credentials.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_errors(list(exc.errors()))) from exc
    if not str(data["url"]).startswith(("http://", "https://")):
        raise InvalidInput("url: an http(s) URL is required")

