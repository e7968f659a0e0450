"""Domain events → OCPI pushes: the role-specific pushers, and the initial push to a partner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from volthub.domain.roaming import Partner
from volthub.services.events import EventListener

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming
    from volthub.wiring import Services


def ocpi_pushers(roaming: Roaming, services: Services) -> list[EventListener]:
    """One listener per pushed module (CPO: locations, sessions and CDRs, tariffs; eMSP:
    tokens); the composition root subscribes each to the domain events."""
    from volthub.ocpi.emsp import TokenPusher
    from volthub.ocpi.locations import LocationPusher
    from volthub.ocpi.sessions import SessionPusher
    from volthub.ocpi.tariffs_push import TariffPusher

    return [factory(roaming, services)
            for factory in (LocationPusher, SessionPusher, TariffPusher, TokenPusher)]


async def push_all_to(pushers: list[EventListener], partner: Partner) -> None:
    """A partner just (re-)registered: an eMSP gets our locations and tariffs at once, so later
    PATCHes find them (mod_locations: PATCH of an unknown Location is refused). Each pusher's
    push_all checks that the partner offers its module's Receiver."""
    if not ("EMSP" in partner.role_names() or partner.is_hub):
        return
    for pusher in pushers:
        push_all = getattr(pusher, "push_all", None)
        if push_all is not None:
            await push_all(partner)
