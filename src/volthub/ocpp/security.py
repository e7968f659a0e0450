"""Security handlers shared by every OCPP version: SignCertificate and its CertificateSigned."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from volthub.domain import commands as c
from volthub.domain.errors import DomainError
from volthub.ocpp.context import StationContext

if TYPE_CHECKING:
    from volthub.wiring import Services

log = logging.getLogger("volthub.ocpp")


async def sign_certificate(ctx: StationContext, csr: str, certificate_type: str | None) -> str:
    """Handle a SignCertificate of any version: the built-in CA signs the CSR; the answer is
    "Accepted" or "Rejected" (a CSR that does not verify or whose CN is not the station id,
    with a security event). Once the answer is sent, CertificateSigned carries the chain."""
    issue = await ctx.services.certificates.sign(ctx.station_id, csr, certificate_type)
    chain = issue.certificate_chain
    if issue.accepted and chain is not None:
        services, station_id = ctx.services, ctx.station_id

        async def deliver() -> None:
            await deliver_certificate(services, station_id, issue.record_id, chain,
                                      certificate_type)

        ctx.after_reply(deliver)
    return "Accepted" if issue.accepted else "Rejected"


async def deliver_certificate(services: Services, station_id: str, record_id: int, chain: str,
                              certificate_type: str | None) -> None:
    """Send CertificateSigned and record the station's answer (or why it was not delivered)."""
    command = c.CertificateSigned(
        certificate_chain=chain,
        certificate_type=certificate_type if certificate_type == "ChargingStationCertificate"
        else None,
    )
    try:
        outcome = await services.commands.execute(station_id, command)
        status = outcome.status or "answered"
    except DomainError as exc:
        log.warning("CertificateSigned not delivered",
                    extra={"station_id": station_id, "error": str(exc)})
        status = f"not delivered: {exc}"
    await services.certificates.delivered(record_id, status)
