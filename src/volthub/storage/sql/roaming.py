"""Roaming repositories (OCPI partners, outbox, received objects, authorizations) in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, select, update

from volthub.domain.enums import TokenStatus, TokenType
from volthub.domain.model import IdToken
from volthub.domain.roaming import (
    OutboxEntry,
    Partner,
    PartnerStatus,
    RoamingAuthorization,
    RoamingObject,
)
from volthub.storage.sql import tables as t
from volthub.storage.sql.base import SqlBase
from volthub.storage.sql.base import utc as _utc

PARTNER_COLUMNS = ("status", "roles", "versions_url", "version", "endpoints", "token_out",
                   "token_in_sha256", "sends_plain_token", "failures", "last_error")


def _partner(row: Row[Any]) -> Partner:
    m = row._mapping
    return Partner(
        id=m["id"], status=PartnerStatus(m["status"]), roles=list(m["roles"] or []),
        versions_url=m["versions_url"], version=m["version"],
        endpoints=list(m["endpoints"] or []), token_out=m["token_out"],
        token_in_sha256=m["token_in_sha256"], sends_plain_token=bool(m["sends_plain_token"]),
        failures=m["failures"], last_error=m["last_error"], created_at=_utc(m["created_at"]),
        updated_at=_utc(m["updated_at"]),
    )


def _outbox(row: Row[Any]) -> OutboxEntry:
    m = row._mapping
    return OutboxEntry(
        id=m["id"], partner_id=m["partner_id"], module=m["module"], role=m["role"],
        method=m["method"], path=m["path"], body=m["body"], object_key=m["object_key"],
        to_country_code=m["to_country_code"], to_party_id=m["to_party_id"],
        attempts=m["attempts"], next_attempt_at=_utc(m["next_attempt_at"]),
        last_error=m["last_error"], created_at=_utc(m["created_at"]),
        delivered_at=_utc(m["delivered_at"]), failed=bool(m["failed"]),
    )


def _object(row: Row[Any]) -> RoamingObject:
    m = row._mapping
    return RoamingObject(
        module=m["module"], country_code=m["country_code"], party_id=m["party_id"],
        object_id=m["object_id"], data=m["data"],
        last_updated=_utc(m["last_updated"]),  # type: ignore[arg-type]
        partner_id=m["partner_id"],
    )


class SqlRoamingRepositories(SqlBase):
    """Mixed into SqlRepositories; shares its connection."""

    # partners ---------------------------------------------------------------------------
    async def insert_partner(self, partner: Partner, now: datetime) -> int:
        values = {c: getattr(partner, c) for c in PARTNER_COLUMNS}
        values["status"] = partner.status.value
        result = await self.conn.execute(
            insert(t.ocpi_partners).values(**values, created_at=now, updated_at=now))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def update_partner(self, partner_id: int, fields: dict[str, Any],
                             now: datetime) -> bool:
        values = {k: (v.value if isinstance(v, PartnerStatus) else v) for k, v in fields.items()}
        result = await self.conn.execute(
            update(t.ocpi_partners).where(t.ocpi_partners.c.id == partner_id)
            .values(**values, updated_at=now))
        return bool(result.rowcount)

    async def get_partner(self, partner_id: int) -> Partner | None:
        row = (await self.conn.execute(
            select(t.ocpi_partners).where(t.ocpi_partners.c.id == partner_id))).first()
        return _partner(row) if row else None

    async def partner_by_token(self, token_sha256: str) -> Partner | None:
        row = (await self.conn.execute(
            select(t.ocpi_partners)
            .where(t.ocpi_partners.c.token_in_sha256 == token_sha256))).first()
        return _partner(row) if row else None

    async def list_partners(self) -> list[Partner]:
        rows = await self.conn.execute(select(t.ocpi_partners).order_by(t.ocpi_partners.c.id))
        return [_partner(r) for r in rows]

    # outbox -----------------------------------------------------------------------------
    async def enqueue_push(self, entry: OutboxEntry, now: datetime) -> int:
        result = await self.conn.execute(insert(t.ocpi_outbox).values(
            partner_id=entry.partner_id, module=entry.module, role=entry.role,
            method=entry.method, path=entry.path, body=entry.body, object_key=entry.object_key,
            to_country_code=entry.to_country_code, to_party_id=entry.to_party_id, attempts=0,
            next_attempt_at=now, created_at=now, failed=False))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def due_pushes(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """The oldest undelivered entry of each (partner, object) whose time has come; an
        object whose oldest entry is not yet due waits, so its pushes stay in order."""
        o = t.ocpi_outbox.c
        pending = and_(o.delivered_at.is_(None), o.failed.is_(False))
        heads = (select(func.min(o.id).label("id")).where(pending)
                 .group_by(o.partner_id, o.object_key).subquery())
        stmt = (select(t.ocpi_outbox).join(heads, heads.c.id == o.id)
                .where(o.next_attempt_at <= now).order_by(o.id).limit(limit))
        return [_outbox(r) for r in await self.conn.execute(stmt)]

    async def next_push_due_at(self) -> datetime | None:
        o = t.ocpi_outbox.c
        value = (await self.conn.execute(
            select(func.min(o.next_attempt_at))
            .where(o.delivered_at.is_(None), o.failed.is_(False)))).scalar_one()
        return _utc(value)

    async def push_delivered(self, entry_id: int, now: datetime) -> None:
        await self.conn.execute(update(t.ocpi_outbox).where(t.ocpi_outbox.c.id == entry_id)
                                .values(delivered_at=now, last_error=None,
                                        attempts=t.ocpi_outbox.c.attempts + 1))

    async def push_failed(self, entry_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retried at `retry_at`, or never (a refusal) when None."""
        values: dict[str, Any] = {"last_error": error[:2000],
                                  "attempts": t.ocpi_outbox.c.attempts + 1}
        if retry_at is None:
            values["failed"] = True
        else:
            values["next_attempt_at"] = retry_at
        await self.conn.execute(update(t.ocpi_outbox).where(t.ocpi_outbox.c.id == entry_id)
                                .values(**values))

    async def reschedule_partner_pushes(self, partner_id: int, at: datetime) -> None:
        """A partner came back: everything waiting for it is due now."""
        o = t.ocpi_outbox.c
        await self.conn.execute(update(t.ocpi_outbox).where(
            o.partner_id == partner_id, o.delivered_at.is_(None), o.failed.is_(False),
            o.next_attempt_at > at).values(next_attempt_at=at))

    async def defer_partner_pushes(self, partner_id: int, until: datetime) -> None:
        """The partner is down: nothing of it is tried again before `until`."""
        o = t.ocpi_outbox.c
        await self.conn.execute(update(t.ocpi_outbox).where(
            o.partner_id == partner_id, o.delivered_at.is_(None), o.failed.is_(False),
            o.next_attempt_at < until).values(next_attempt_at=until))

    async def list_pushes(self, partner_id: int | None, pending_only: bool,
                          limit: int) -> list[OutboxEntry]:
        o = t.ocpi_outbox.c
        stmt = select(t.ocpi_outbox)
        if partner_id is not None:
            stmt = stmt.where(o.partner_id == partner_id)
        if pending_only:
            stmt = stmt.where(o.delivered_at.is_(None), o.failed.is_(False))
        return [_outbox(r) for r in await self.conn.execute(stmt.order_by(o.id).limit(limit))]

    # received objects -------------------------------------------------------------------
    async def get_roaming_object(self, module: str, country_code: str, party_id: str,
                                 object_id: str) -> RoamingObject | None:
        c = t.ocpi_objects.c
        row = (await self.conn.execute(select(t.ocpi_objects).where(
            c.module == module, c.country_code == country_code, c.party_id == party_id,
            c.object_id == object_id))).first()
        return _object(row) if row else None

    async def find_roaming_objects(self, module: str, object_id: str) -> list[RoamingObject]:
        """Objects of `module` with this id under any party (e.g. a token uid from a station)."""
        c = t.ocpi_objects.c
        rows = await self.conn.execute(select(t.ocpi_objects).where(
            c.module == module, c.object_id == object_id).order_by(c.last_updated.desc()))
        return [_object(r) for r in rows]

    async def upsert_roaming_object(self, obj: RoamingObject) -> None:
        values = {"module": obj.module, "country_code": obj.country_code,
                  "party_id": obj.party_id, "object_id": obj.object_id,
                  "partner_id": obj.partner_id, "last_updated": obj.last_updated,
                  "data": obj.data}
        stmt = self._insert(t.ocpi_objects).values(**values)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["module", "country_code", "party_id", "object_id"],
            set_={"partner_id": obj.partner_id, "last_updated": obj.last_updated,
                  "data": obj.data}))

    async def delete_roaming_object(self, module: str, country_code: str, party_id: str,
                                    object_id: str) -> bool:
        c = t.ocpi_objects.c
        result = await self.conn.execute(delete(t.ocpi_objects).where(
            c.module == module, c.country_code == country_code, c.party_id == party_id,
            c.object_id == object_id))
        return bool(result.rowcount)

    async def list_roaming_objects(
        self, module: str, limit: int, offset: int, date_from: datetime | None = None,
        date_to: datetime | None = None, partner_id: int | None = None,
    ) -> tuple[list[RoamingObject], int]:
        c = t.ocpi_objects.c
        where: list[Any] = [c.module == module]
        if date_from is not None:
            where.append(c.last_updated >= date_from)
        if date_to is not None:
            where.append(c.last_updated < date_to)
        if partner_id is not None:
            where.append(c.partner_id == partner_id)
        total = await self._count(t.ocpi_objects, *where)
        rows = await self.conn.execute(select(t.ocpi_objects).where(*where)
                                       .order_by(c.last_updated, c.id).limit(limit)
                                       .offset(offset))
        return [_object(r) for r in rows], total

    # authorizations ---------------------------------------------------------------------
    async def insert_roaming_authorization(self, auth: RoamingAuthorization) -> None:
        await self.conn.execute(insert(t.ocpi_authorizations).values(
            uid=auth.uid, allowed=auth.allowed,
            authorization_reference=auth.authorization_reference,
            location_id=auth.location_id, evse_uid=auth.evse_uid, partner_id=auth.partner_id,
            created_at=auth.created_at, extra=auth.extra))

    async def latest_roaming_authorization(
        self, uid: str, since: datetime | None = None,
    ) -> RoamingAuthorization | None:
        c = t.ocpi_authorizations.c
        stmt = select(t.ocpi_authorizations).where(c.uid == uid)
        if since is not None:
            stmt = stmt.where(c.created_at >= since)
        row = (await self.conn.execute(stmt.order_by(c.created_at.desc(), c.id.desc())
                                       .limit(1))).first()
        if row is None:
            return None
        m = row._mapping
        return RoamingAuthorization(
            uid=m["uid"], allowed=m["allowed"],
            authorization_reference=m["authorization_reference"],
            created_at=_utc(m["created_at"]),  # type: ignore[arg-type]
            location_id=m["location_id"], evse_uid=m["evse_uid"], partner_id=m["partner_id"],
            extra=dict(m["extra"] or {}))


    # our id tokens, for the eMSP role -------------------------------------------------
    async def list_tokens_with_updated_at(
        self, limit: int, offset: int, date_from: datetime | None = None,
        date_to: datetime | None = None, max_id_length: int | None = None,
    ) -> tuple[list[tuple[IdToken, datetime]], int]:
        """Id tokens by last change (then id, a stable order for paging), with that time."""
        c = t.id_tokens.c
        where: list[Any] = []
        if date_from is not None:
            where.append(c.updated_at >= date_from)
        if date_to is not None:
            where.append(c.updated_at < date_to)
        if max_id_length is not None:
            where.append(func.length(c.id_token) <= max_id_length)
        total = await self._count(t.id_tokens, *where)
        rows = await self.conn.execute(select(t.id_tokens).where(*where)
                                       .order_by(c.updated_at, c.id_token).limit(limit)
                                       .offset(offset))
        return [_token_with_updated_at(r) for r in rows], total

    async def get_token_with_updated_at(
        self, id_token: str,
    ) -> tuple[IdToken, datetime] | None:
        row = (await self.conn.execute(select(t.id_tokens).where(
            t.id_tokens.c.id_token == id_token))).first()
        return _token_with_updated_at(row) if row else None


def _token_with_updated_at(row: Row[Any]) -> tuple[IdToken, datetime]:
    m = row._mapping
    token = IdToken(id_token=m["id_token"], type=TokenType(m["type"]),
                    status=TokenStatus(m["status"]), expires_at=_utc(m["expires_at"]),
                    group_id=m["group_id"])
    return token, _utc(m["updated_at"])  # type: ignore[return-value]
