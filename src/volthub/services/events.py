"""Domain events for whoever follows the network (OCPI pushes): emitted in order, delivered
off the station's path so a slow listener never delays an OCPP answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from volthub.domain.billing import CdrRecord
from volthub.domain.model import ConnectorState, Transaction

log = logging.getLogger("volthub.events")


class EventListener:
    """Override what you follow; every event is a no-op by default."""

    async def connector_status(self, state: ConnectorState) -> None:
        return None

    async def location_changed(self, location_id: str) -> None:
        return None

    async def station_changed(self, station_id: str) -> None:
        """The station's location, EVSEs or connectors' metadata changed."""
        return None

    async def session_started(self, txn: Transaction) -> None:
        return None

    async def session_updated(self, txn: Transaction) -> None:
        """New meter values or state of an active session."""
        return None

    async def session_ended(self, txn: Transaction) -> None:
        return None

    async def cdr_issued(self, cdr: CdrRecord) -> None:
        return None

    async def token_changed(self, id_token: str) -> None:
        """One of our id tokens was created, changed or deleted."""
        return None

    async def tariff_changed(self, tariff_id: str) -> None:
        return None


class DomainEvents:
    """An ordered queue of events, delivered to each listener one after another."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []
        self._queue: asyncio.Queue[tuple[str, tuple[Any, ...]]] | None = None
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def emit(self, event: str, *args: Any) -> None:
        """Queue `event` (an EventListener method name); a no-op with nobody listening."""
        if not self._listeners:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="volthub-events")
        self._queue.put_nowait((event, args))

    async def drain(self) -> None:
        """Wait until every queued event was delivered (tests, shutdown)."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.drain(), 5)
            self._task.cancel()

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            event, args = await self._queue.get()
            try:
                for listener in self._listeners:
                    try:
                        await getattr(listener, event)(*args)
                    except Exception:
                        log.exception("event listener failed", extra={"event": event})
            finally:
                self._queue.task_done()
