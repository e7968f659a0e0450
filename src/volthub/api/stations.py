"""Admin API: /stations."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from volthub.api.deps import PagingDep, ServicesDep
from volthub.api.schemas import (
    ChargingProfileOut,
    DeviceVariableOut,
    MessageOut,
    Page,
    ReservationOut,
    SecurityEventOut,
    StationCreate,
    StationOut,
    StationPatch,
    StationReportOut,
)

router = APIRouter(prefix="/stations", tags=["stations"])


@router.get("", response_model=Page[StationOut])
async def list_stations(services: ServicesDep, paging: PagingDep) -> Page[StationOut]:
    views, total = await services.station_admin.list(paging.limit, paging.offset)
    return Page(items=[StationOut.of(v) for v in views], total=total, limit=paging.limit,
                offset=paging.offset)


@router.post("", response_model=StationOut, status_code=201)
async def create_station(body: StationCreate, services: ServicesDep) -> StationOut:
    fields = body.model_dump(exclude_unset=True, exclude={"id"})
    return StationOut.of(await services.station_admin.create(body.id, fields))


@router.get("/{station_id}", response_model=StationOut)
async def get_station(station_id: str, services: ServicesDep) -> StationOut:
    return StationOut.of(await services.station_admin.get(station_id))


@router.patch("/{station_id}", response_model=StationOut)
async def patch_station(station_id: str, body: StationPatch, services: ServicesDep) -> StationOut:
    fields = body.model_dump(exclude_unset=True)
    return StationOut.of(await services.station_admin.update(station_id, fields))


@router.delete("/{station_id}", status_code=204)
async def delete_station(station_id: str, services: ServicesDep) -> Response:
    await services.station_admin.delete(station_id)
    return Response(status_code=204)


@router.get("/{station_id}/messages", response_model=Page[MessageOut])
async def list_messages(
    station_id: str, services: ServicesDep, limit: int = Query(100, ge=1, le=1000)
) -> Page[MessageOut]:
    await services.storage.flush()  # what was just exchanged is visible at once
    records = await services.records.messages(station_id, limit)
    return Page(items=[MessageOut.of(m) for m in records], total=len(records), limit=limit,
                offset=0)


@router.get("/{station_id}/security-events", response_model=Page[SecurityEventOut])
async def list_security_events(
    station_id: str, services: ServicesDep, limit: int = Query(100, ge=1, le=1000)
) -> Page[SecurityEventOut]:
    events = await services.records.security_events(station_id, limit)
    items = [SecurityEventOut(timestamp=e.timestamp, type=e.type, tech_info=e.tech_info,
                              source=e.source) for e in events]
    return Page(items=items, total=len(items), limit=limit, offset=0)


@router.get("/{station_id}/reservations", response_model=Page[ReservationOut])
async def list_reservations(
    station_id: str, services: ServicesDep, limit: int = Query(100, ge=1, le=1000)
) -> Page[ReservationOut]:
    reservations = await services.records.reservations(station_id, limit)
    items = [ReservationOut.model_validate(r, from_attributes=True) for r in reservations]
    return Page(items=items, total=len(items), limit=limit, offset=0)


@router.get("/{station_id}/device-model", response_model=Page[DeviceVariableOut])
async def device_model(
    station_id: str, services: ServicesDep, component: str | None = None,
    variable: str | None = None,
) -> Page[DeviceVariableOut]:
    """A 2.x station's device model as last reported (NotifyReport, Get/SetVariables)."""
    await services.records.require_station(station_id)
    rows = await services.reports.device_model(station_id, component, variable)
    items = [DeviceVariableOut.model_validate(r, from_attributes=True) for r in rows]
    return Page(items=items, total=len(items), limit=len(items), offset=0)


@router.get("/{station_id}/reports", response_model=Page[StationReportOut])
async def station_reports(
    station_id: str, services: ServicesDep, action: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> Page[StationReportOut]:
    """Notifications a station sent (NotifyEvent, ReportChargingProfiles, ...), newest first."""
    await services.records.require_station(station_id)
    rows = await services.reports.reports(station_id, action, limit)
    items = [StationReportOut.model_validate(r, from_attributes=True) for r in rows]
    return Page(items=items, total=len(items), limit=limit, offset=0)


@router.get("/{station_id}/charging-profiles", response_model=Page[ChargingProfileOut])
async def charging_profiles(station_id: str, services: ServicesDep) -> Page[ChargingProfileOut]:
    """Charging profiles the station accepted, in the version-neutral form."""
    await services.records.require_station(station_id)
    rows = await services.storage.read(lambda r: r.list_charging_profiles(station_id))
    items = [ChargingProfileOut.model_validate(r, from_attributes=True) for r in rows]
    return Page(items=items, total=len(items), limit=len(items), offset=0)
