"""Shared fixtures: databases (SQLite and PostgreSQL), a running server, test stations."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from pytest_postgresql import factories

from tests.support.postgres import LOCAL_ADMIN_DSN, fresh_database, local_server_answers
from tests.support.server import RunningServer, run_server, test_settings

# A throwaway cluster from the installed PostgreSQL binaries, used only when the local service
# does not answer (pytest-postgresql finds pg_ctl under /usr/lib/postgresql/*/bin).
_pg_bin = next(
    (f"/usr/lib/postgresql/{v}/bin/pg_ctl" for v in ("17", "16", "15", "14")
     if os.path.exists(f"/usr/lib/postgresql/{v}/bin/pg_ctl")),
    None,
)
throwaway_postgresql = factories.postgresql_proc(port=None, executable=_pg_bin) if _pg_bin else None


@pytest.fixture(scope="session")
def postgres_admin_dsn(request: pytest.FixtureRequest) -> str:
    """A DSN with CREATE DATABASE rights; fails (never skips) when no PostgreSQL can run."""
    if local_server_answers():
        return LOCAL_ADMIN_DSN
    if throwaway_postgresql is None:
        pytest.fail("PostgreSQL tests need the local service at 127.0.0.1:5432 or installed "
                    "PostgreSQL binaries; neither is available")
    proc = request.getfixturevalue("throwaway_postgresql")
    return f"postgresql://{proc.user}@{proc.host}:{proc.port}/postgres"


@pytest.fixture
def postgres_url(postgres_admin_dsn: str) -> Iterator[str]:
    with fresh_database(postgres_admin_dsn) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/volthub.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both supported databases: tests using this run twice."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[RunningServer]:
    """A real server on SQLite with default settings."""
    async with run_server(test_settings(sqlite_url)) as running:
        yield running
