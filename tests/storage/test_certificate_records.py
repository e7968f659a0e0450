"""Certificate records (migration 0003) on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from volthub.domain.certificates import CertificateRecord
from volthub.storage.interface import Repositories
from volthub.storage.sql.database import SqlStorage, open_storage

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[SqlStorage]:
    async with open_storage(database_url) as opened:
        yield opened


async def test_certificate_records_round_trip(storage: SqlStorage) -> None:
    accepted = CertificateRecord(
        station_id="S1", csr="CSR-1", certificate_type="ChargingStationCertificate",
        received_at=T0, status="Accepted", certificate_chain="PEM", serial_number="ab" * 16,
        valid_from=T0, valid_to=T0 + timedelta(days=365))
    rejected = CertificateRecord(station_id="S1", csr="CSR-2", certificate_type=None,
                                 received_at=T0 + timedelta(seconds=1), status="Rejected",
                                 reason="wrong CN")

    async def write(r: Repositories) -> int:
        first = await r.insert_certificate_record(accepted)
        await r.insert_certificate_record(rejected)
        await r.insert_certificate_record(CertificateRecord(
            station_id="S2", csr="X", certificate_type=None, received_at=T0))
        await r.update_certificate_record(first, {"delivery_status": "Accepted",
                                                  "delivered_at": T0 + timedelta(minutes=1)})
        return first

    first_id = await storage.write(write)
    records = await storage.read(lambda r: r.list_certificate_records("S1", 10))
    assert [r.csr for r in records] == ["CSR-2", "CSR-1"]  # newest first
    got = records[1]
    assert got.id == first_id and got.status == "Accepted"
    assert got.valid_to == T0 + timedelta(days=365) and got.valid_to.tzinfo is not None
    assert (got.delivery_status, got.delivered_at) == ("Accepted", T0 + timedelta(minutes=1))
    assert records[0].reason == "wrong CN" and records[0].certificate_chain is None
    assert len(await storage.read(lambda r: r.list_certificate_records("S1", 1))) == 1
