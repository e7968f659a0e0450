"""Repositories on one SQLAlchemy AsyncConnection (Core statements, no ORM on the hot path)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from volthub.domain.certificates import CertificateRecord
from volthub.domain.enums import (
    AuthStatus,
    Direction,
    MessageType,
    RegistrationStatus,
    ReservationStatus,
    TokenStatus,
    TokenType,
    TransactionStatus,
)
from volthub.domain.model import (
    ChargingProfileRecord,
    ConnectorState,
    DeviceVariable,
    IdToken,
    LocalListEntry,
    Location,
    MessageRecord,
    MeterReading,
    Reservation,
    SecurityEvent,
    Station,
    StationIdentity,
    StationReport,
    Transaction,
    TransactionEventRecord,
)
from volthub.storage.sql import tables as t
from volthub.storage.sql.base import utc as _utc
from volthub.storage.sql.billing import SqlBillingRepositories
from volthub.storage.sql.roaming import SqlRoamingRepositories

IDENTITY_FIELDS = tuple(StationIdentity.__slots__)


_CERTIFICATE_FIELDS = (
    "station_id", "csr", "certificate_type", "received_at", "status", "reason",
    "certificate_chain", "serial_number", "valid_from", "valid_to", "delivery_status",
    "delivered_at",
)


def _station(row: Row[Any]) -> Station:
    m = row._mapping
    return Station(
        id=m["id"],
        registration_status=RegistrationStatus(m["registration_status"]),
        security_profile=m["security_profile"],
        password_hash=m["password_hash"],
        ocpp_version=m["ocpp_version"],
        identity=StationIdentity(**{f: m[f] for f in IDENTITY_FIELDS}),
        location_id=m["location_id"],
        last_seen=_utc(m["last_seen"]),
        last_boot_at=_utc(m["last_boot_at"]),
        local_list_version=m["local_list_version"],
        configuration=m["configuration"],
        configuration_at=_utc(m["configuration_at"]),
        firmware_status=m["firmware_status"],
        diagnostics_status=m["diagnostics_status"],
        log_status=m["log_status"],
        publish_firmware_status=m["publish_firmware_status"],
        boot_reason=m["boot_reason"],
        created_at=_utc(m["created_at"]),
    )


def _connector(row: Row[Any]) -> ConnectorState:
    m = dict(row._mapping)
    m["status_at"] = _utc(m["status_at"])
    return ConnectorState(**m)


def _token(row: Row[Any]) -> IdToken:
    m = row._mapping
    return IdToken(
        id_token=m["id_token"],
        type=TokenType(m["type"]),
        status=TokenStatus(m["status"]),
        expires_at=_utc(m["expires_at"]),
        group_id=m["group_id"],
    )


def _transaction(row: Row[Any]) -> Transaction:
    m = row._mapping
    return Transaction(
        id=m["id"],
        station_id=m["station_id"],
        station_transaction_id=m["station_transaction_id"],
        evse_id=m["evse_id"],
        connector_id=m["connector_id"],
        id_token=m["id_token"],
        auth_status=AuthStatus(m["auth_status"]) if m["auth_status"] else None,
        status=TransactionStatus(m["status"]),
        started_at=_utc(m["started_at"]),  # type: ignore[arg-type]
        stopped_at=_utc(m["stopped_at"]),
        meter_start_wh=m["meter_start_wh"],
        meter_stop_wh=m["meter_stop_wh"],
        energy_wh=m["energy_wh"],
        stop_reason=m["stop_reason"],
        stop_id_token=m["stop_id_token"],
        reservation_id=m["reservation_id"],
        remote_start_id=m["remote_start_id"],
        id_token_type=m["id_token_type"],
        charging_state=m["charging_state"],
        trigger_reason=m["trigger_reason"],
        number_of_phases=m["number_of_phases"],
        cable_max_current_a=m["cable_max_current_a"],
        offline=bool(m["offline"]),
        last_seq_no=m["last_seq_no"],
    )


def _device_variable(row: Row[Any]) -> DeviceVariable:
    m = row._mapping
    return DeviceVariable(
        component=m["component"],
        variable=m["variable"],
        attribute_type=m["attribute_type"],
        component_instance=m["component_instance"] or None,
        evse_id=m["evse_id"] or None,
        connector_id=m["connector_id"] or None,
        variable_instance=m["variable_instance"] or None,
        value=m["value"],
        mutability=m["mutability"],
        persistent=m["persistent"],
        constant=m["constant"],
        characteristics=m["characteristics"],
        updated_at=_utc(m["updated_at"]),
    )


def _reservation(row: Row[Any]) -> Reservation:
    m = row._mapping
    return Reservation(
        id=m["id"],
        station_id=m["station_id"],
        evse_id=m["evse_id"],
        id_token=m["id_token"],
        parent_id_token=m["parent_id_token"],
        expires_at=_utc(m["expires_at"]),  # type: ignore[arg-type]
        status=ReservationStatus(m["status"]),
        created_at=_utc(m["created_at"]),
    )


def _location(row: Row[Any]) -> Location:
    m = dict(row._mapping)
    m.pop("created_at")
    return Location(**m)


class SqlRepositories(SqlBillingRepositories, SqlRoamingRepositories):
    """The storage contract implemented with SQLAlchemy Core for SQLite and PostgreSQL."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        # Meter readings of every operation in a batch are inserted with one executemany
        # (flush_staged) instead of one statement per operation: readings dominate the volume.
        self._staged_readings: list[dict[str, Any]] = []
        # Latest-state fields of 2.x transactions (seqNo, trigger, charging state), written
        # with one executemany per batch like the readings: every Updated event changes them.
        self._staged_progress: dict[int, dict[str, Any]] = {}

    async def flush_staged(self) -> None:
        """Write staged bulk rows; the committer calls it before commit, reads call it first."""
        if self._staged_readings:
            rows, self._staged_readings = self._staged_readings, []
            await self.conn.execute(insert(t.meter_values), rows)
        if self._staged_progress:
            progress, self._staged_progress = self._staged_progress, {}
            c = t.transactions.c
            await self.conn.execute(
                update(t.transactions)
                .where(c.id == bindparam("b_id"))
                .values(last_seq_no=bindparam("b_seq"), trigger_reason=bindparam("b_trigger"),
                        charging_state=func.coalesce(bindparam("b_state"), c.charging_state)),
                [{"b_id": txn_id, **fields} for txn_id, fields in progress.items()],
            )

    # stations -------------------------------------------------------------------------
    async def get_station(self, station_id: str) -> Station | None:
        row = (await self.conn.execute(select(t.stations).where(t.stations.c.id == station_id))).first()
        return _station(row) if row else None

    async def insert_station(self, station: Station) -> None:
        values: dict[str, Any] = {
            "id": station.id,
            "registration_status": station.registration_status.value,
            "security_profile": station.security_profile,
            "password_hash": station.password_hash,
            "ocpp_version": station.ocpp_version,
            "location_id": station.location_id,
            "local_list_version": station.local_list_version,
            "created_at": station.created_at or datetime.now(UTC),
        }
        values.update({f: getattr(station.identity, f) for f in IDENTITY_FIELDS})
        await self.conn.execute(insert(t.stations).values(**values))

    async def update_station(self, station_id: str, fields: dict[str, Any]) -> bool:
        if not fields:
            return await self.get_station(station_id) is not None
        result = await self.conn.execute(
            update(t.stations).where(t.stations.c.id == station_id).values(**fields)
        )
        return bool(result.rowcount)

    async def delete_station(self, station_id: str) -> bool:
        await self.conn.execute(delete(t.connectors).where(t.connectors.c.station_id == station_id))
        result = await self.conn.execute(delete(t.stations).where(t.stations.c.id == station_id))
        return bool(result.rowcount)

    async def list_stations(self, limit: int, offset: int) -> tuple[list[Station], int]:
        rows = await self.conn.execute(
            select(t.stations).order_by(t.stations.c.id).limit(limit).offset(offset)
        )
        return [_station(r) for r in rows], await self._count(t.stations)

    async def touch_station(self, station_id: str, seen_at: datetime) -> None:
        await self.conn.execute(
            update(t.stations).where(t.stations.c.id == station_id).values(last_seen=seen_at)
        )

    # connectors -----------------------------------------------------------------------
    async def upsert_connector_status(self, state: ConnectorState) -> None:
        status = {
            "status": state.status,
            "error_code": state.error_code,
            "info": state.info,
            "vendor_id": state.vendor_id,
            "vendor_error_code": state.vendor_error_code,
            "status_at": state.status_at,
        }
        stmt = self._insert(t.connectors).values(
            station_id=state.station_id,
            evse_id=state.evse_id,
            connector_id=state.connector_id,
            **status,
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["station_id", "evse_id", "connector_id"], set_=status
            )
        )

    async def update_connector_metadata(
        self, station_id: str, evse_id: int, connector_id: int, fields: dict[str, Any]
    ) -> None:
        stmt = self._insert(t.connectors).values(
            station_id=station_id, evse_id=evse_id, connector_id=connector_id, **fields
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["station_id", "evse_id", "connector_id"], set_=fields
            )
            if fields
            else stmt.on_conflict_do_nothing()
        )

    async def list_connectors(self, station_ids: Sequence[str]) -> list[ConnectorState]:
        if not station_ids:
            return []
        rows = await self.conn.execute(
            select(t.connectors)
            .where(t.connectors.c.station_id.in_(list(station_ids)))
            .order_by(t.connectors.c.station_id, t.connectors.c.evse_id, t.connectors.c.connector_id)
        )
        return [_connector(r) for r in rows]

    # id tokens ------------------------------------------------------------------------
    async def get_token(self, id_token: str) -> IdToken | None:
        row = (
            await self.conn.execute(select(t.id_tokens).where(t.id_tokens.c.id_token == id_token))
        ).first()
        return _token(row) if row else None

    async def insert_token(self, token: IdToken) -> None:
        now = datetime.now(UTC)
        await self.conn.execute(
            insert(t.id_tokens).values(
                id_token=token.id_token,
                type=token.type.value,
                status=token.status.value,
                expires_at=token.expires_at,
                group_id=token.group_id,
                created_at=now,
                updated_at=now,
            )
        )

    async def update_token(self, id_token: str, fields: dict[str, Any]) -> bool:
        result = await self.conn.execute(
            update(t.id_tokens)
            .where(t.id_tokens.c.id_token == id_token)
            .values(**fields, updated_at=datetime.now(UTC))
        )
        return bool(result.rowcount)

    async def delete_token(self, id_token: str) -> bool:
        result = await self.conn.execute(
            delete(t.id_tokens).where(t.id_tokens.c.id_token == id_token)
        )
        return bool(result.rowcount)

    async def list_tokens(self, limit: int | None, offset: int) -> tuple[list[IdToken], int]:
        stmt = select(t.id_tokens).order_by(t.id_tokens.c.id_token).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = await self.conn.execute(stmt)
        return [_token(r) for r in rows], await self._count(t.id_tokens)

    # transactions ---------------------------------------------------------------------
    async def insert_transaction(self, txn: Transaction, start_key: str | None) -> int:
        result = await self.conn.execute(
            insert(t.transactions)
            .values(
                station_id=txn.station_id,
                station_transaction_id=txn.station_transaction_id,
                evse_id=txn.evse_id,
                connector_id=txn.connector_id,
                id_token=txn.id_token,
                auth_status=txn.auth_status.value if txn.auth_status else None,
                status=txn.status.value,
                started_at=txn.started_at,
                meter_start_wh=txn.meter_start_wh,
                reservation_id=txn.reservation_id,
                start_key=start_key,
                remote_start_id=txn.remote_start_id,
                id_token_type=txn.id_token_type,
                charging_state=txn.charging_state,
                trigger_reason=txn.trigger_reason,
                number_of_phases=txn.number_of_phases,
                cable_max_current_a=txn.cable_max_current_a,
                offline=txn.offline,
                last_seq_no=txn.last_seq_no,
            )
            .returning(t.transactions.c.id)
        )
        return int(result.scalar_one())

    async def set_station_transaction_id(self, txn_id: int, reference: str) -> None:
        await self.conn.execute(
            update(t.transactions)
            .where(t.transactions.c.id == txn_id)
            .values(station_transaction_id=reference)
        )

    async def find_transaction_by_start_key(
        self, station_id: str, start_key: str
    ) -> Transaction | None:
        row = (
            await self.conn.execute(
                select(t.transactions).where(
                    t.transactions.c.station_id == station_id,
                    t.transactions.c.start_key == start_key,
                )
            )
        ).first()
        return _transaction(row) if row else None

    async def get_transaction(self, txn_id: int) -> Transaction | None:
        row = (
            await self.conn.execute(select(t.transactions).where(t.transactions.c.id == txn_id))
        ).first()
        return _transaction(row) if row else None

    async def get_transaction_by_reference(
        self, station_id: str, reference: str
    ) -> Transaction | None:
        row = (
            await self.conn.execute(
                select(t.transactions).where(
                    t.transactions.c.station_id == station_id,
                    t.transactions.c.station_transaction_id == reference,
                )
            )
        ).first()
        return _transaction(row) if row else None

    async def update_transaction(self, txn_id: int, fields: dict[str, Any]) -> None:
        await self.conn.execute(
            update(t.transactions).where(t.transactions.c.id == txn_id).values(**fields)
        )

    async def list_transactions(
        self, station_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Transaction], int]:
        where = []
        if station_id is not None:
            where.append(t.transactions.c.station_id == station_id)
        if status is not None:
            where.append(t.transactions.c.status == status)
        stmt = select(t.transactions).order_by(t.transactions.c.id.desc())
        if where:
            stmt = stmt.where(and_(*where))
        rows = await self.conn.execute(stmt.limit(limit).offset(offset))
        return [_transaction(r) for r in rows], await self._count(t.transactions, *where)

    async def insert_transaction_event(self, event: TransactionEventRecord) -> bool:
        stmt = self._insert(t.transaction_events).values(
            station_id=event.station_id,
            station_transaction_id=event.station_transaction_id,
            seq_no=event.seq_no,
            event_type=event.event_type,
            trigger_reason=event.trigger_reason,
            timestamp=event.timestamp,
            offline=event.offline,
            received_at=event.received_at,
        ).on_conflict_do_nothing(
            index_elements=["station_id", "station_transaction_id", "seq_no"]
        )
        result = await self.conn.execute(stmt)
        return bool(result.rowcount)

    async def stage_transaction_progress(
        self, txn_id: int, last_seq_no: int, trigger_reason: str, charging_state: str | None
    ) -> None:
        self._staged_progress[txn_id] = {"b_seq": last_seq_no, "b_trigger": trigger_reason,
                                         "b_state": charging_state}

    async def transaction_seq_nos(self, station_id: str, reference: str) -> list[int]:
        c = t.transaction_events.c
        rows = await self.conn.execute(
            select(c.seq_no)
            .where(c.station_id == station_id, c.station_transaction_id == reference)
            .order_by(c.seq_no)
        )
        return [int(r[0]) for r in rows]

    # meter values ---------------------------------------------------------------------
    async def insert_readings(
        self, station_id: str, evse_id: int, transaction_id: int | None,
        readings: Sequence[MeterReading],
    ) -> None:
        self._staged_readings.extend(
            [
                {
                    "station_id": station_id,
                    "transaction_id": transaction_id,
                    "evse_id": evse_id,
                    "timestamp": r.timestamp,
                    "measurand": r.measurand,
                    "phase": r.phase,
                    "location": r.location,
                    "context": r.context,
                    "unit": r.unit,
                    "value": r.value,
                    "raw_value": r.raw_value,
                    "format": r.format,
                    "signed_data": r.signed_data,
                }
                for r in readings
            ]
        )

    async def energy_register_range(self, transaction_id: int) -> tuple[float, float] | None:
        await self.flush_staged()
        c = t.meter_values.c
        row = (
            await self.conn.execute(
                select(func.min(c.value), func.max(c.value)).where(
                    c.transaction_id == transaction_id,
                    c.measurand == "Energy.Active.Import.Register",
                    c.phase.is_(None),
                    c.unit == "Wh",
                )
            )
        ).first()
        if row is None or row[0] is None:
            return None
        return float(row[0]), float(row[1])

    async def list_readings(self, transaction_id: int) -> list[MeterReading]:
        await self.flush_staged()
        rows = await self.conn.execute(
            select(t.meter_values)
            .where(t.meter_values.c.transaction_id == transaction_id)
            .order_by(t.meter_values.c.timestamp, t.meter_values.c.id)
        )
        return [
            MeterReading(
                timestamp=_utc(m["timestamp"]),  # type: ignore[arg-type]
                value=m["value"],
                raw_value=m["raw_value"],
                measurand=m["measurand"],
                unit=m["unit"],
                phase=m["phase"],
                location=m["location"],
                context=m["context"],
                format=m["format"],
                signed_data=m["signed_data"],
            )
            for m in (r._mapping for r in rows)
        ]

    # reservations ---------------------------------------------------------------------
    async def insert_reservation(self, reservation: Reservation) -> int:
        result = await self.conn.execute(
            insert(t.reservations)
            .values(
                station_id=reservation.station_id,
                evse_id=reservation.evse_id,
                id_token=reservation.id_token,
                parent_id_token=reservation.parent_id_token,
                expires_at=reservation.expires_at,
                status=reservation.status.value,
                created_at=reservation.created_at or datetime.now(UTC),
            )
            .returning(t.reservations.c.id)
        )
        return int(result.scalar_one())

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        row = (
            await self.conn.execute(
                select(t.reservations).where(t.reservations.c.id == reservation_id)
            )
        ).first()
        return _reservation(row) if row else None

    async def update_reservation_status(self, reservation_id: int, status: str) -> None:
        await self.conn.execute(
            update(t.reservations).where(t.reservations.c.id == reservation_id).values(status=status)
        )

    async def expire_reservations(self, now: datetime) -> int:
        c = t.reservations.c
        result = await self.conn.execute(
            update(t.reservations)
            .where(
                c.status.in_([ReservationStatus.ACCEPTED.value, ReservationStatus.REQUESTED.value]),
                c.expires_at <= now,
            )
            .values(status=ReservationStatus.EXPIRED.value)
        )
        return int(result.rowcount)

    async def list_reservations(self, station_id: str, limit: int) -> list[Reservation]:
        rows = await self.conn.execute(
            select(t.reservations)
            .where(t.reservations.c.station_id == station_id)
            .order_by(t.reservations.c.id.desc())
            .limit(limit)
        )
        return [_reservation(r) for r in rows]

    # charging profiles ----------------------------------------------------------------
    async def upsert_charging_profile(self, record: ChargingProfileRecord) -> None:
        values = {
            "evse_id": record.evse_id,
            "stack_level": record.stack_level,
            "purpose": record.purpose,
            "transaction_id": record.transaction_id,
            "profile": record.profile,
            "created_at": datetime.now(UTC),
        }
        stmt = self._insert(t.charging_profiles).values(
            station_id=record.station_id, profile_id=record.profile_id, **values
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(index_elements=["station_id", "profile_id"], set_=values)
        )

    async def delete_charging_profiles(
        self, station_id: str, profile_id: int | None, evse_id: int | None,
        purpose: str | None, stack_level: int | None,
    ) -> int:
        c = t.charging_profiles.c
        where = [c.station_id == station_id]
        if profile_id is not None:
            where.append(c.profile_id == profile_id)
        if evse_id is not None:
            where.append(c.evse_id == evse_id)
        if purpose is not None:
            where.append(c.purpose == purpose)
        if stack_level is not None:
            where.append(c.stack_level == stack_level)
        result = await self.conn.execute(delete(t.charging_profiles).where(*where))
        return int(result.rowcount)

    async def list_charging_profiles(self, station_id: str) -> list[ChargingProfileRecord]:
        rows = await self.conn.execute(
            select(t.charging_profiles)
            .where(t.charging_profiles.c.station_id == station_id)
            .order_by(t.charging_profiles.c.profile_id)
        )
        return [
            ChargingProfileRecord(
                station_id=m["station_id"],
                profile_id=m["profile_id"],
                evse_id=m["evse_id"],
                stack_level=m["stack_level"],
                purpose=m["purpose"],
                profile=m["profile"],
                transaction_id=m["transaction_id"],
            )
            for m in (r._mapping for r in rows)
        ]

    # local list -----------------------------------------------------------------------
    async def get_local_list(self, station_id: str) -> list[LocalListEntry]:
        rows = await self.conn.execute(
            select(t.local_list_entries)
            .where(t.local_list_entries.c.station_id == station_id)
            .order_by(t.local_list_entries.c.id_token)
        )
        return [
            LocalListEntry(
                id_token=m["id_token"],
                status=AuthStatus(m["status"]),
                expires_at=_utc(m["expires_at"]),
                group_id=m["group_id"],
            )
            for m in (r._mapping for r in rows)
        ]

    async def replace_local_list(
        self, station_id: str, entries: Sequence[LocalListEntry]
    ) -> None:
        await self.conn.execute(
            delete(t.local_list_entries).where(t.local_list_entries.c.station_id == station_id)
        )
        if entries:
            await self.conn.execute(
                insert(t.local_list_entries),
                [
                    {
                        "station_id": station_id,
                        "id_token": e.id_token,
                        "status": e.status.value,
                        "expires_at": e.expires_at,
                        "group_id": e.group_id,
                    }
                    for e in entries
                ],
            )

    # security -------------------------------------------------------------------------
    async def insert_security_event(self, event: SecurityEvent) -> None:
        await self.conn.execute(
            insert(t.security_events).values(
                station_id=event.station_id,
                timestamp=event.timestamp,
                type=event.type,
                tech_info=event.tech_info,
                source=event.source,
            )
        )

    async def list_security_events(self, station_id: str, limit: int) -> list[SecurityEvent]:
        rows = await self.conn.execute(
            select(t.security_events)
            .where(t.security_events.c.station_id == station_id)
            .order_by(t.security_events.c.id.desc())
            .limit(limit)
        )
        return [
            SecurityEvent(
                station_id=m["station_id"],
                timestamp=_utc(m["timestamp"]),  # type: ignore[arg-type]
                type=m["type"],
                tech_info=m["tech_info"],
                source=m["source"],
            )
            for m in (r._mapping for r in rows)
        ]

    async def insert_certificate_request(
        self, station_id: str, csr: str, certificate_type: str | None, at: datetime
    ) -> None:
        await self.conn.execute(
            insert(t.certificate_requests).values(
                station_id=station_id, csr=csr, certificate_type=certificate_type, received_at=at
            )
        )

    async def insert_certificate_record(self, record: CertificateRecord) -> int:
        result = await self.conn.execute(
            insert(t.certificate_requests)
            .values({f: getattr(record, f) for f in _CERTIFICATE_FIELDS})
            .returning(t.certificate_requests.c.id)
        )
        return int(result.scalar_one())

    async def update_certificate_record(self, record_id: int, fields: dict[str, Any]) -> None:
        await self.conn.execute(
            update(t.certificate_requests)
            .where(t.certificate_requests.c.id == record_id)
            .values(fields)
        )

    async def list_certificate_records(
        self, station_id: str, limit: int
    ) -> list[CertificateRecord]:
        rows = await self.conn.execute(
            select(t.certificate_requests)
            .where(t.certificate_requests.c.station_id == station_id)
            .order_by(t.certificate_requests.c.id.desc())
            .limit(limit)
        )
        records = []
        for row in rows:
            m = row._mapping
            values = {f: m[f] for f in _CERTIFICATE_FIELDS}
            for f in ("received_at", "valid_from", "valid_to", "delivered_at"):
                values[f] = _utc(values[f])
            records.append(CertificateRecord(id=m["id"], **values))
        return records

    # message log ----------------------------------------------------------------------
    async def insert_messages(self, records: Sequence[MessageRecord]) -> None:
        if not records:
            return
        await self.conn.execute(
            insert(t.messages),
            [
                {
                    "station_id": r.station_id,
                    "timestamp": r.timestamp,
                    "direction": r.direction.value,
                    "message_type": r.message_type.value,
                    "message_id": r.message_id,
                    "action": r.action,
                    # Kept verbatim as text: a frame that was not valid JSON is logged too.
                    "payload": r.payload
                    if isinstance(r.payload, str)
                    else orjson.dumps(r.payload).decode(),
                }
                for r in records
            ],
        )

    async def list_messages(self, station_id: str, limit: int) -> list[MessageRecord]:
        rows = await self.conn.execute(
            select(t.messages)
            .where(t.messages.c.station_id == station_id)
            .order_by(t.messages.c.id.desc())
            .limit(limit)
        )
        out = []
        for m in (r._mapping for r in rows):
            try:
                payload = orjson.loads(m["payload"])
            except orjson.JSONDecodeError:
                payload = m["payload"]
            out.append(
                MessageRecord(
                    station_id=m["station_id"],
                    timestamp=_utc(m["timestamp"]),  # type: ignore[arg-type]
                    direction=Direction(m["direction"]),
                    message_type=MessageType(m["message_type"]),
                    message_id=m["message_id"],
                    action=m["action"],
                    payload=payload,
                )
            )
        return out

    # locations ------------------------------------------------------------------------
    async def get_location(self, location_id: str) -> Location | None:
        row = (
            await self.conn.execute(select(t.locations).where(t.locations.c.id == location_id))
        ).first()
        return _location(row) if row else None

    async def insert_location(self, location: Location) -> None:
        now = datetime.now(UTC)
        await self.conn.execute(
            insert(t.locations).values(
                id=location.id,
                name=location.name,
                address=location.address,
                city=location.city,
                postal_code=location.postal_code,
                country=location.country,
                latitude=location.latitude,
                longitude=location.longitude,
                time_zone=location.time_zone,
                created_at=now,
                updated_at=now,
            )
        )

    async def update_location(self, location_id: str, fields: dict[str, Any]) -> bool:
        result = await self.conn.execute(
            update(t.locations)
            .where(t.locations.c.id == location_id)
            .values(**fields, updated_at=datetime.now(UTC))
        )
        return bool(result.rowcount)

    async def list_locations(self, limit: int, offset: int) -> tuple[list[Location], int]:
        rows = await self.conn.execute(
            select(t.locations).order_by(t.locations.c.id).limit(limit).offset(offset)
        )
        return [_location(r) for r in rows], await self._count(t.locations)

    # device model and station reports ---------------------------------------------------
    async def upsert_device_variables(
        self, station_id: str, variables: Sequence[DeviceVariable]
    ) -> None:
        now = datetime.now(UTC)
        for v in variables:
            key = {
                "station_id": station_id,
                "component": v.component,
                "component_instance": v.component_instance or "",
                "evse_id": v.evse_id or 0,
                "connector_id": v.connector_id or 0,
                "variable": v.variable,
                "variable_instance": v.variable_instance or "",
                "attribute_type": v.attribute_type,
            }
            # A report names what it knows; a GetVariables answer only the value: keep the rest.
            values: dict[str, Any] = {"updated_at": v.updated_at or now, "value": v.value}
            for name in ("mutability", "persistent", "constant", "characteristics"):
                if getattr(v, name) is not None:
                    values[name] = getattr(v, name)
            stmt = self._insert(t.device_model).values(**key, **values)
            await self.conn.execute(
                stmt.on_conflict_do_update(index_elements=list(key), set_=values)
            )

    async def list_device_model(
        self, station_id: str, component: str | None, variable: str | None
    ) -> list[DeviceVariable]:
        c = t.device_model.c
        stmt = select(t.device_model).where(c.station_id == station_id)
        if component is not None:
            stmt = stmt.where(c.component == component)
        if variable is not None:
            stmt = stmt.where(c.variable == variable)
        rows = await self.conn.execute(stmt.order_by(
            c.component, c.component_instance, c.evse_id, c.connector_id, c.variable,
            c.variable_instance, c.attribute_type))
        return [_device_variable(r) for r in rows]

    async def insert_station_report(self, report: StationReport) -> int:
        result = await self.conn.execute(
            insert(t.station_reports).values(
                station_id=report.station_id, action=report.action,
                request_id=report.request_id, evse_id=report.evse_id,
                received_at=report.received_at, payload=report.payload,
            ).returning(t.station_reports.c.id)
        )
        return int(result.scalar_one())

    async def list_station_reports(
        self, station_id: str, action: str | None, limit: int
    ) -> list[StationReport]:
        c = t.station_reports.c
        stmt = select(t.station_reports).where(c.station_id == station_id)
        if action is not None:
            stmt = stmt.where(c.action == action)
        rows = await self.conn.execute(stmt.order_by(c.id.desc()).limit(limit))
        return [
            StationReport(station_id=m["station_id"], action=m["action"],
                          received_at=_utc(m["received_at"]),  # type: ignore[arg-type]
                          payload=m["payload"], request_id=m["request_id"],
                          evse_id=m["evse_id"], id=m["id"])
            for m in (r._mapping for r in rows)
        ]

    # settings -------------------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None:
        row = (
            await self.conn.execute(select(t.settings.c.value).where(t.settings.c.key == key))
        ).first()
        return str(row[0]) if row else None

    async def set_setting(self, key: str, value: str) -> None:
        stmt = self._insert(t.settings).values(key=key, value=value)
        await self.conn.execute(
            stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value})
        )
