"""The storage contract, run on SQLite and PostgreSQL: what services rely on, both databases alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from volthub.domain.enums import (
    AuthStatus,
    Direction,
    MessageType,
    RegistrationStatus,
    ReservationStatus,
    TokenStatus,
    TransactionStatus,
)
from volthub.domain.model import (
    ChargingProfileRecord,
    ConnectorState,
    IdToken,
    LocalListEntry,
    Location,
    MessageRecord,
    MeterReading,
    Reservation,
    Station,
    Transaction,
)
from volthub.storage.interface import Repositories
from volthub.storage.sql.database import SqlStorage, open_storage

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[SqlStorage]:
    async with open_storage(database_url) as opened:
        yield opened


def _txn(station_id: str, reference: str, **kw: object) -> Transaction:
    base: dict[str, object] = dict(
        id=0, station_id=station_id, station_transaction_id=reference, evse_id=1,
        connector_id=1, id_token="TAG", status=TransactionStatus.ACTIVE, started_at=T0,
        meter_start_wh=100, auth_status=AuthStatus.ACCEPTED,
    )
    base.update(kw)
    return Transaction(**base)  # type: ignore[arg-type]


async def test_station_round_trip_keeps_timezone_and_fields(storage: SqlStorage) -> None:
    async def op(r: Repositories) -> Station | None:
        await r.insert_station(Station(id="S1", registration_status=RegistrationStatus.PENDING,
                                       created_at=T0))
        await r.update_station("S1", {"vendor": "V", "last_seen": T0, "configuration": {"a": 1}})
        return await r.get_station("S1")

    station = await storage.write(op)
    assert station is not None
    assert station.registration_status is RegistrationStatus.PENDING
    assert station.identity.vendor == "V"
    assert station.last_seen == T0 and station.last_seen.tzinfo is not None
    assert station.configuration == {"a": 1}
    stations, total = await storage.read(lambda r: r.list_stations(10, 0))
    assert total == 1 and stations[0].id == "S1"


async def test_connector_status_upsert_keeps_metadata(storage: SqlStorage) -> None:
    await storage.write(lambda r: r.insert_station(Station(id="S1", created_at=T0)))
    await storage.write(lambda r: r.update_connector_metadata("S1", 1, 1, {"standard": "IEC_62196_T2"}))
    state = ConnectorState("S1", 1, 1, status="Charging", error_code="NoError", status_at=T0)
    await storage.write(lambda r: r.upsert_connector_status(state))
    state2 = ConnectorState("S1", 1, 1, status="Available", error_code="NoError", status_at=T0)
    await storage.write(lambda r: r.upsert_connector_status(state2))
    [conn] = await storage.read(lambda r: r.list_connectors(["S1"]))
    assert conn.status == "Available" and conn.standard == "IEC_62196_T2"


async def test_transaction_ids_are_unique_integers_and_references_unique_per_station(
    storage: SqlStorage,
) -> None:
    ids = await asyncio.gather(*(
        storage.write(lambda r, i=i: r.insert_transaction(_txn("S1", f"ref{i}"), f"key{i}"))
        for i in range(20)
    ))
    assert len(set(ids)) == 20 and all(isinstance(i, int) for i in ids)
    # The same station reference twice is refused by the database, leaving the first intact.
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError of either driver
        await storage.write(lambda r: r.insert_transaction(_txn("S1", "ref0"), None))
    # ... while another station may use the same reference.
    await storage.write(lambda r: r.insert_transaction(_txn("S2", "ref0"), None))
    found = await storage.read(lambda r: r.get_transaction_by_reference("S1", "ref0"))
    assert found is not None and found.id == ids[0]


async def test_failed_operation_in_a_batch_loses_no_other_write(storage: SqlStorage) -> None:
    await storage.write(lambda r: r.insert_token(IdToken("DUP")))

    async def bad(r: Repositories) -> None:
        await r.insert_token(IdToken("DUP"))

    results = await asyncio.gather(
        storage.write(lambda r: r.insert_token(IdToken("A"))),
        storage.write(bad),
        storage.write(lambda r: r.insert_token(IdToken("B"))),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Exception)
    tokens, total = await storage.read(lambda r: r.list_tokens(None, 0))
    assert {t.id_token for t in tokens} == {"A", "B", "DUP"} and total == 3


async def test_start_key_finds_the_same_transaction(storage: SqlStorage) -> None:
    txn_id = await storage.write(lambda r: r.insert_transaction(_txn("S1", "7"), "1|100|t|TAG"))
    again = await storage.read(lambda r: r.find_transaction_by_start_key("S1", "1|100|t|TAG"))
    other = await storage.read(lambda r: r.find_transaction_by_start_key("S2", "1|100|t|TAG"))
    assert again is not None and again.id == txn_id and other is None


async def test_readings_and_energy_register_range(storage: SqlStorage) -> None:
    txn_id = await storage.write(lambda r: r.insert_transaction(_txn("S1", "1"), None))
    readings = [
        MeterReading(T0, 1000.0, "1", unit="Wh"),
        MeterReading(T0 + timedelta(minutes=5), 2500.0, "2.5", unit="Wh"),
        MeterReading(T0, 230.1, "230.1", measurand="Voltage", unit="V", phase="L1"),
        MeterReading(T0, None, "AB12", format="SignedData", signed_data="AB12"),
    ]
    await storage.write(lambda r: r.insert_readings("S1", 1, txn_id, readings))
    assert await storage.read(lambda r: r.energy_register_range(txn_id)) == (1000.0, 2500.0)
    stored = await storage.read(lambda r: r.list_readings(txn_id))
    assert len(stored) == 4
    assert {s.raw_value for s in stored} == {"1", "2.5", "230.1", "AB12"}
    assert next(s for s in stored if s.format == "SignedData").value is None


async def test_reservations_expire(storage: SqlStorage) -> None:
    res = Reservation(0, "S1", 1, "TAG", T0 + timedelta(minutes=10), ReservationStatus.ACCEPTED)
    rid = await storage.write(lambda r: r.insert_reservation(res))
    assert await storage.write(lambda r: r.expire_reservations(T0)) == 0
    assert await storage.write(lambda r: r.expire_reservations(T0 + timedelta(minutes=10))) == 1
    got = await storage.read(lambda r: r.get_reservation(rid))
    assert got is not None and got.status is ReservationStatus.EXPIRED


async def test_local_list_replace_and_charging_profiles(storage: SqlStorage) -> None:
    entries = [LocalListEntry("A", AuthStatus.ACCEPTED, T0, "G"),
               LocalListEntry("B", AuthStatus.BLOCKED)]
    await storage.write(lambda r: r.replace_local_list("S1", entries))
    assert await storage.read(lambda r: r.get_local_list("S1")) == entries
    await storage.write(lambda r: r.replace_local_list("S1", entries[1:]))
    assert await storage.read(lambda r: r.get_local_list("S1")) == entries[1:]

    for pid, purpose in ((1, "TxDefaultProfile"), (2, "ChargePointMaxProfile")):
        record = ChargingProfileRecord("S1", pid, 1, 0, purpose, {"id": pid})
        await storage.write(lambda r, rec=record: r.upsert_charging_profile(rec))
    removed = await storage.write(
        lambda r: r.delete_charging_profiles("S1", None, None, "TxDefaultProfile", None))
    assert removed == 1
    left = await storage.read(lambda r: r.list_charging_profiles("S1"))
    assert [p.profile_id for p in left] == [2]


async def test_message_log_is_bulk_written_and_listed_newest_first(storage: SqlStorage) -> None:
    for i in range(5):
        storage.log_message(MessageRecord("S1", T0, Direction.IN, MessageType.CALL, str(i),
                                          "Heartbeat", {}))
    storage.log_message(MessageRecord("S1", T0, Direction.IN, MessageType.CALL, "-1", None,
                                      "not json"))
    await storage.flush()
    records = await storage.read(lambda r: r.list_messages("S1", 3))
    assert [r.message_id for r in records] == ["-1", "4", "3"]
    assert records[0].payload == "not json"


async def test_tokens_locations_settings(storage: SqlStorage) -> None:
    token = IdToken("T1", status=TokenStatus.BLOCKED, expires_at=T0, group_id="G")
    await storage.write(lambda r: r.insert_token(token))
    assert await storage.read(lambda r: r.get_token("T1")) == token
    assert await storage.write(lambda r: r.update_token("T1", {"status": "Accepted"}))
    assert not await storage.write(lambda r: r.update_token("nope", {"status": "Accepted"}))
    loc = Location("L1", "Depot", "Main St 1", "Utrecht", "NLD", 52.09, 5.12, "3511", "Europe/Amsterdam")
    await storage.write(lambda r: r.insert_location(loc))
    assert await storage.read(lambda r: r.get_location("L1")) == loc
    await storage.write(lambda r: r.set_setting("k", "v1"))
    await storage.write(lambda r: r.set_setting("k", "v2"))
    assert await storage.read(lambda r: r.get_setting("k")) == "v2"
