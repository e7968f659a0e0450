"""The roaming facade the OCPI routes and the domain hooks use: partners, outbox, identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from volthub.domain.roaming import Partner, PartnerStatus
from volthub.ocpi.client import OcpiClient
from volthub.ocpi.outbox import Outbox
from volthub.ocpi.registration import OcpiIdentity, Registration
from volthub.services.ports import Clock
from volthub.storage.interface import Storage

if TYPE_CHECKING:
    from volthub.wiring import Services

# Statuses of a partner we push to: OFFLINE ones too (pushes wait in the outbox for them).
REACHABLE = (PartnerStatus.CONNECTED, PartnerStatus.OFFLINE)


class Roaming:
    """Everything OCPI shares, built once by the composition root."""

    def __init__(self, storage: Storage, clock: Clock, identity: OcpiIdentity,
                 public_url: str | None, client: OcpiClient, outbox: Outbox) -> None:
        self.storage = storage
        self.clock = clock
        self.identity = identity
        self.public_url = public_url
        self.client = client
        self.outbox = outbox
        self.registration = Registration(storage, clock, client, identity)
        # Set by the composition root once the services exist (modules call them).
        self.services: Services | None = None
        # eMSP role: Token.whitelist of our tokens (settings.ocpi_token_whitelist).
        self.token_whitelist = "ALLOWED"

    def require_services(self) -> Services:
        assert self.services is not None, "roaming used before wiring finished"
        return self.services

    async def note_plain_token(self, partner_id: int) -> None:
        """A peer authenticated with an unencoded token: accepted, remembered (and mirrored in
        what we send it), per transport_and_format §Authorization header NOTE."""
        await self.storage.write(lambda r: r.update_partner(
            partner_id, {"sends_plain_token": True}, self.clock()))

    async def partners_with(self, role: str, module: str, interface: str) -> list[Partner]:
        """Registered partners playing `role` that offer `module` with `interface`."""
        partners = await self.storage.read(lambda r: r.list_partners())
        return [p for p in partners if p.status in REACHABLE
                and (role in p.role_names() or p.is_hub)
                and p.endpoint(module, interface) is not None]

    def versions_url(self, base: str) -> str:
        return f"{(self.public_url or base).rstrip('/')}/ocpi/versions"

    async def aclose(self) -> None:
        await self.client.aclose()
