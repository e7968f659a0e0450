"""The SQL storage: engine per URL, group-committed writes, bulk message log, retried hiccups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from volthub.domain.model import MessageRecord
from volthub.storage.interface import Operation
from volthub.storage.sql.repositories import SqlRepositories

T = TypeVar("T")
log = logging.getLogger("volthub.storage")

MAX_BATCH_OPERATIONS = 512
# Retry delays for a database hiccup (lost connection, lock timeout); after the last one the
# operation fails. Rule: never answer a station with an error for our own hiccup without retrying.
RETRY_DELAYS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


def async_database_url(url: str) -> str:
    """Map the contract's plain URLs (sqlite:///, postgresql://) to their async drivers."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str) -> AsyncEngine:
    """An async engine with the pragmas SQLite needs to serve concurrent readers and one writer."""
    async_url = async_database_url(url)
    if async_url.startswith("sqlite"):
        engine = create_async_engine(async_url, pool_size=8, max_overflow=8)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets the admin API read while the committer writes; NORMAL syncs at checkpoints,
            # which keeps committed data safe against a process crash (not an OS crash).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    return create_async_engine(async_url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class _Pending:
    __slots__ = ("future", "operation")

    def __init__(self, operation: Operation[Any], future: asyncio.Future[Any] | None) -> None:
        self.operation = operation
        self.future = future


class SqlStorage:
    """Storage on SQLAlchemy: one committer task batches all writes into few transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: list[_Pending] = []
        self._messages: list[MessageRecord] = []
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="volthub-committer")

    async def close(self) -> None:
        """Commit everything queued, then stop and release connections."""
        await self.flush()
        self._closing = True
        self._wakeup.set()
        if self._task:
            await self._task
        await self.engine.dispose()

    # public contract ------------------------------------------------------------------
    async def write(self, operation: Operation[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Pending(operation, future))
        return await future

    def write_later(self, operation: Operation[Any]) -> None:
        self._enqueue(_Pending(operation, None))

    def log_message(self, record: MessageRecord) -> None:
        self._messages.append(record)
        self._idle.clear()
        self._wakeup.set()

    async def read(self, operation: Operation[T]) -> T:
        return await self._with_retries(lambda: self._read_once(operation))

    async def flush(self) -> None:
        while self._pending or self._messages or not self._idle.is_set():
            await self._idle.wait()
            if self._pending or self._messages:
                await asyncio.sleep(0)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    # internals ------------------------------------------------------------------------
    def _enqueue(self, pending: _Pending) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError("storage is not running")
        self._pending.append(pending)
        self._idle.clear()
        self._wakeup.set()

    async def _read_once(self, operation: Operation[T]) -> T:
        async with self.engine.connect() as conn:
            return await operation(SqlRepositories(conn))

    @staticmethod
    async def _run_alone(operation: Operation[T], conn: AsyncConnection) -> T:
        repos = SqlRepositories(conn)
        result = await operation(repos)
        await repos.flush_staged()
        return result

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending or self._messages:
                batch = self._pending[:MAX_BATCH_OPERATIONS]
                del self._pending[:MAX_BATCH_OPERATIONS]
                messages, self._messages = self._messages, []
                await self._commit_batch(batch, messages)
            self._idle.set()
            if self._closing:
                return

    async def _commit_batch(self, batch: list[_Pending], messages: list[MessageRecord]) -> None:
        results: list[Any] = []

        async def all_in_one(conn: AsyncConnection) -> None:
            repos = SqlRepositories(conn)
            results.clear()
            for item in batch:
                results.append(await item.operation(repos))
            await repos.flush_staged()
            await repos.insert_messages(messages)

        try:
            await self._with_retries(lambda: self._in_transaction(all_in_one))
        except Exception:
            # One operation failed: the batch was rolled back, so run each alone to give every
            # caller its own outcome and lose nobody else's write.
            await self._commit_one_by_one(batch, messages)
            return
        for item, result in zip(batch, results, strict=True):
            if item.future is not None and not item.future.done():
                item.future.set_result(result)

    async def _commit_one_by_one(
        self, batch: list[_Pending], messages: list[MessageRecord]
    ) -> None:
        for item in batch:
            operation = item.operation
            try:
                result = await self._with_retries(
                    lambda op=operation: self._in_transaction(  # type: ignore[misc]
                        lambda conn: self._run_alone(op, conn)
                    )
                )
            except Exception as exc:
                if item.future is None:
                    log.exception("background write failed")
                elif not item.future.done():
                    item.future.set_exception(exc)
                continue
            if item.future is not None and not item.future.done():
                item.future.set_result(result)
        if messages:
            try:
                await self._with_retries(
                    lambda: self._in_transaction(
                        lambda conn: SqlRepositories(conn).insert_messages(messages)
                    )
                )
            except Exception:
                log.exception("message log write failed", extra={"lost": len(messages)})

    async def _in_transaction(self, body: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.engine.begin() as conn:
            return await body(conn)

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        for delay in (*RETRY_DELAYS_S, None):
            try:
                return await attempt()
            except Exception as exc:
                if delay is None or not _is_transient(exc):
                    raise
                log.warning("database hiccup, retrying", extra={"error": str(exc), "delay_s": delay})
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def open_storage(url: str) -> Any:
    """Create, migrate and start a storage; close it on exit."""
    from volthub.storage.sql.migrate import upgrade

    engine = create_engine(url)
    await upgrade(engine)
    storage = SqlStorage(engine)
    await storage.start()
    try:
        yield storage
    finally:
        await storage.close()
