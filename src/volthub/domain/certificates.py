"""Certificates stations asked for (SignCertificate) and what the built-in CA made of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class CertificateRecord:
    """One SignCertificate request: the CSR, our answer, and the delivered certificate."""

    station_id: str
    csr: str
    certificate_type: str | None  # None for OCPP 1.6 (a Charge Point certificate)
    received_at: datetime
    status: str | None = None  # Accepted | Rejected (None: kept by an older release)
    reason: str | None = None  # why it was rejected
    certificate_chain: str | None = None  # PEM, leaf first
    serial_number: str | None = None  # hexadecimal
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    # The station's answer to CertificateSigned (Accepted, Rejected) or why it was not delivered.
    delivery_status: str | None = None
    delivered_at: datetime | None = None
    id: int = 0
