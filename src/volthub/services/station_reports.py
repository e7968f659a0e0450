"""What stations report about themselves beyond transactions: device model and notifications."""

from __future__ import annotations

from collections.abc import Sequence

from volthub.domain.model import DeviceVariable, JsonObject, StationReport
from volthub.services.ports import Clock
from volthub.storage.interface import Storage


class StationReportService:
    """Keeps 2.x device models and station notifications, and reads them back."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    async def record(self, station_id: str, action: str, payload: JsonObject,
                     request_id: int | None = None, evse_id: int | None = None) -> None:
        report = StationReport(station_id=station_id, action=action, received_at=self.clock(),
                               payload=payload, request_id=request_id, evse_id=evse_id)
        await self.storage.write(lambda r: r.insert_station_report(report))

    async def reports(self, station_id: str, action: str | None, limit: int
                      ) -> list[StationReport]:
        return await self.storage.read(lambda r: r.list_station_reports(station_id, action, limit))

    async def record_variables(self, station_id: str, variables: Sequence[DeviceVariable]) -> None:
        if variables:
            await self.storage.write(lambda r: r.upsert_device_variables(station_id, variables))

    async def device_model(self, station_id: str, component: str | None = None,
                           variable: str | None = None) -> list[DeviceVariable]:
        return await self.storage.read(
            lambda r: r.list_device_model(station_id, component, variable))
