"""Admin API: station certificates (SignCertificate requests and what the built-in CA issued)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query
from pydantic import BaseModel

from volthub.api.deps import ServicesDep
from volthub.api.schemas import Page, UtcTime
from volthub.domain.errors import NotFound

router = APIRouter(tags=["certificates"])


class CertificateOut(BaseModel):
    id: int
    station_id: str
    certificate_type: str | None
    received_at: UtcTime
    csr: str
    status: str | None  # Accepted | Rejected: our SignCertificate answer
    reason: str | None
    certificate_chain: str | None
    serial_number: str | None
    valid_from: UtcTime | None
    valid_to: UtcTime | None
    delivery_status: str | None  # the station's CertificateSigned answer
    delivered_at: UtcTime | None


class CertificateAuthorityOut(BaseModel):
    certificate: str  # PEM: the root stations trust for certificates the CSMS issues


@router.get("/stations/{station_id}/certificates", response_model=Page[CertificateOut])
async def list_certificates(
    station_id: str, services: ServicesDep, limit: int = Query(100, ge=1, le=1000)
) -> Page[CertificateOut]:
    """Newest first: each CSR a station sent, our answer, and the certificate issued for it."""
    if await services.storage.read(lambda r: r.get_station(station_id)) is None:
        raise NotFound(f"station {station_id!r} not found")
    records = await services.certificates.list(station_id, limit)
    items = [CertificateOut.model_validate(r, from_attributes=True) for r in records]
    return Page(items=items, total=len(items), limit=limit, offset=0)


@router.get("/certificate-authority", response_model=CertificateAuthorityOut)
async def certificate_authority(services: ServicesDep) -> CertificateAuthorityOut:
    """The built-in CA's certificate (made on first use)."""
    ca = await asyncio.to_thread(services.certificates.authority)
    return CertificateAuthorityOut(certificate=ca.certificate_pem)
