"""Our tariffs pushed to eMSPs (mod_tariffs §Receiver interface: PUT on change, DELETE)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from volthub.domain.roaming import Partner
from volthub.ocpi.locations import receiving_party
from volthub.ocpi.modules.cpo_tariffs import all_tariffs, tariff_document
from volthub.services.events import EventListener

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming
    from volthub.wiring import Services

log = logging.getLogger("volthub.ocpi")
MODULE = "tariffs"


class TariffPusher(EventListener):
    """A tariff created or changed is PUT, a deleted one DELETEd, at every eMSP that offers a
    tariffs Receiver; a new partner gets them all."""

    def __init__(self, roaming: Roaming, services: Services) -> None:
        self.roaming = roaming

    def _path(self, tariff_id: str) -> str:
        identity = self.roaming.identity
        return f"/{identity.country_code}/{identity.party_id}/{tariff_id}"

    async def tariff_changed(self, tariff_id: str) -> None:
        try:
            partners = await self.roaming.partners_with("EMSP", MODULE, "RECEIVER")
            if not partners:
                return
            tariff = await self.roaming.storage.read(lambda r: r.get_tariff(tariff_id))
            for partner in partners:
                if tariff is None:
                    await self.roaming.outbox.push(
                        partner.id, MODULE, "DELETE", self._path(tariff_id), None,
                        f"tariffs/{tariff_id}", receiving_party(partner))
                else:
                    await self.roaming.outbox.push(
                        partner.id, MODULE, "PUT", self._path(tariff_id),
                        tariff_document(tariff, self.roaming.identity), f"tariffs/{tariff_id}",
                        receiving_party(partner))
        except Exception:
            log.exception("tariff push failed", extra={"tariff": tariff_id})

    async def push_all(self, partner: Partner) -> int:
        """PUT every tariff to a partner that just registered (if it receives tariffs)."""
        if partner.endpoint(MODULE, "RECEIVER") is None:
            return 0
        tariffs = await self.roaming.storage.read(all_tariffs)
        for tariff in tariffs:
            await self.roaming.outbox.push(
                partner.id, MODULE, "PUT", self._path(tariff.id),
                tariff_document(tariff, self.roaming.identity), f"tariffs/{tariff.id}",
                receiving_party(partner))
        return len(tariffs)
