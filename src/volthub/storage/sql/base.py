"""What every SQL repository shares: the connection, the dialect's insert, counting, UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection


def utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class SqlBase:
    """Shared by the repository classes that make up SqlRepositories."""

    conn: AsyncConnection
    _insert: Any  # the dialect's insert (PostgreSQL or SQLite), for ON CONFLICT

    async def _count(self, table: Any, *where: Any) -> int:
        stmt = select(func.count()).select_from(table)
        if where:
            stmt = stmt.where(*where)
        return int((await self.conn.execute(stmt)).scalar_one())
