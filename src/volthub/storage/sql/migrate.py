"""Applies the Alembic migrations to a database, from the CLI or at server start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` inside one transaction."""

    def _run(sync_connection: Connection) -> None:
        command.upgrade(alembic_config(sync_connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)
