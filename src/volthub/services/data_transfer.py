"""Vendor-specific DataTransfer handlers; without one a station hears UnknownVendorId."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

DataTransferHandler = Callable[[str, str | None, str | None], Awaitable["DataTransferReply"]]


@dataclass(slots=True, frozen=True)
class DataTransferReply:
    status: str  # Accepted | Rejected | UnknownMessageId | UnknownVendorId
    data: str | None = None


class DataTransferRegistry:
    """Handlers by vendor id (and optionally message id) for station-initiated DataTransfer."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], DataTransferHandler] = {}

    def register(self, vendor_id: str, handler: DataTransferHandler,
                 message_id: str | None = None) -> None:
        self._handlers[(vendor_id, message_id)] = handler

    async def handle(self, station_id: str, vendor_id: str, message_id: str | None,
                     data: str | None) -> DataTransferReply:
        handler = self._handlers.get((vendor_id, message_id)) or self._handlers.get(
            (vendor_id, None)
        )
        if handler is None:
            known_vendor = any(v == vendor_id for v, _ in self._handlers)
            return DataTransferReply("UnknownMessageId" if known_vendor else "UnknownVendorId")
        return await handler(station_id, message_id, data)
