"""Station certificates: CSRs from SignCertificate signed by the built-in CA, and their record.

OCPP 1.6 security whitepaper A02/A03 and 2.0.1 A02/A03: the CSMS answers SignCertificate
Accepted when it can process the request (A02.FR.11) and Rejected otherwise (A02.FR.12), then
sends the signed chain with CertificateSigned (ocpp/security.py does that after the answer).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from volthub.domain.certificates import CertificateRecord
from volthub.domain.model import SecurityEvent
from volthub.security.ca import CertificateAuthority, CsrRejected, IssuedCertificate
from volthub.services.ports import Clock
from volthub.storage.interface import Repositories, Storage

# What the built-in CA signs: 1.6 sends no type (a Charge Point certificate); V2G (ISO 15118)
# certificates belong to the V2G PKI, which is not ours.
SIGNED_TYPES = (None, "ChargingStationCertificate")
EVENT_CSR_REJECTED = "CertificateSigningRequestRejected"


@dataclass(slots=True, frozen=True)
class CertificateIssue:
    """The CA's answer to one CSR."""

    record_id: int
    accepted: bool
    certificate_chain: str | None = None  # PEM, leaf then CA
    reason: str | None = None  # why it was rejected


class CertificateService:
    """Signs station CSRs with the CA in `{data_dir}/ca` (made on first use) and keeps a record."""

    def __init__(self, storage: Storage, clock: Clock, data_dir: str | Path,
                 validity_days: int = 365) -> None:
        self.storage = storage
        self.clock = clock
        self.ca_dir = Path(data_dir) / "ca"
        self.validity = timedelta(days=validity_days)
        self._ca: CertificateAuthority | None = None
        self._lock = threading.Lock()

    def authority(self) -> CertificateAuthority:
        """The CA, loaded (or created) once."""
        with self._lock:
            if self._ca is None:
                self._ca = CertificateAuthority.load_or_create(self.ca_dir)
            return self._ca

    async def sign(self, station_id: str, csr: str, certificate_type: str | None) -> CertificateIssue:
        now = self.clock()
        issued: IssuedCertificate | None = None
        reason: str | None = None
        if certificate_type not in SIGNED_TYPES:
            reason = (f"certificateType {certificate_type}: the built-in CA signs charging "
                      "station certificates only")
        else:
            try:
                ca = await asyncio.to_thread(self.authority)
                issued = await asyncio.to_thread(
                    ca.sign_csr, csr, station_id, validity=self.validity, now=now)
            except CsrRejected as exc:
                reason = str(exc)
        record = CertificateRecord(
            station_id=station_id, csr=csr, certificate_type=certificate_type, received_at=now,
            status="Accepted" if issued else "Rejected", reason=reason,
            certificate_chain=issued.chain_pem if issued else None,
            serial_number=issued.serial_number if issued else None,
            valid_from=issued.valid_from if issued else None,
            valid_to=issued.valid_to if issued else None,
        )

        async def op(repos: Repositories) -> int:
            record_id = await repos.insert_certificate_record(record)
            if issued is None:
                await repos.insert_security_event(SecurityEvent(
                    station_id=station_id, timestamp=now, type=EVENT_CSR_REJECTED,
                    tech_info=reason, source="csms"))
            return record_id

        record_id = await self.storage.write(op)
        if issued is None:
            return CertificateIssue(record_id, False, reason=reason)
        return CertificateIssue(record_id, True, certificate_chain=issued.chain_pem)

    async def delivered(self, record_id: int, status: str) -> None:
        """The station's answer to CertificateSigned, or why the chain did not reach it."""
        now = self.clock()
        await self.storage.write(lambda r: r.update_certificate_record(
            record_id, {"delivery_status": status[:255], "delivered_at": now}))

    async def list(self, station_id: str, limit: int) -> list[CertificateRecord]:
        return await self.storage.read(lambda r: r.list_certificate_records(station_id, limit))
