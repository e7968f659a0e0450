"""Domain events → OCPI pushes: one listener fanning out to the role-specific pushers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from volthub.domain.billing import CdrRecord
from volthub.domain.model import ConnectorState, Transaction
from volthub.domain.roaming import Partner
from volthub.services.events import EventListener

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming
    from volthub.wiring import Services


class OcpiPushes(EventListener):
    """Delegates each event to every pusher that follows it (CPO: locations, sessions, CDRs,
    tariffs; eMSP: tokens)."""

    def __init__(self, roaming: Roaming, services: Services) -> None:
        self.pushers: list[EventListener] = []
        for factory in _pusher_factories():
            self.pushers.append(factory(roaming, services))

    async def partner_connected(self, partner: Partner) -> None:
        """A partner just (re-)registered: an eMSP gets our locations and tariffs at once, so
        later PATCHes find them (mod_locations: PATCH of an unknown Location is refused). Each
        pusher checks that the partner offers its module's Receiver."""
        if not ("EMSP" in partner.role_names() or partner.is_hub):
            return
        for pusher in self.pushers:
            push_all = getattr(pusher, "push_all", None)
            if push_all is not None:
                await push_all(partner)

    async def connector_status(self, state: ConnectorState) -> None:
        for p in self.pushers:
            await p.connector_status(state)

    async def location_changed(self, location_id: str) -> None:
        for p in self.pushers:
            await p.location_changed(location_id)

    async def station_changed(self, station_id: str) -> None:
        for p in self.pushers:
            await p.station_changed(station_id)

    async def session_started(self, txn: Transaction) -> None:
        for p in self.pushers:
            await p.session_started(txn)

    async def session_updated(self, txn: Transaction) -> None:
        for p in self.pushers:
            await p.session_updated(txn)

    async def session_ended(self, txn: Transaction) -> None:
        for p in self.pushers:
            await p.session_ended(txn)

    async def cdr_issued(self, cdr: CdrRecord) -> None:
        for p in self.pushers:
            await p.cdr_issued(cdr)

    async def token_changed(self, id_token: str) -> None:
        for p in self.pushers:
            await p.token_changed(id_token)

    async def tariff_changed(self, tariff_id: str) -> None:
        for p in self.pushers:
            await p.tariff_changed(tariff_id)


def _pusher_factories() -> list[type]:
    """Each pusher class takes (roaming, services)."""
    from volthub.ocpi.emsp import TokenPusher
    from volthub.ocpi.locations import LocationPusher
    from volthub.ocpi.sessions import SessionPusher
    from volthub.ocpi.tariffs_push import TariffPusher

    return [LocationPusher, SessionPusher, TariffPusher, TokenPusher]
