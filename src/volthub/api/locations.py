"""Admin API: /locations."""

from __future__ import annotations

from fastapi import APIRouter

from volthub.api.deps import PagingDep, ServicesDep
from volthub.api.schemas import LocationCreate, LocationOut, LocationPatch, Page
from volthub.domain.model import Location

router = APIRouter(prefix="/locations", tags=["locations"])


@router.get("", response_model=Page[LocationOut])
async def list_locations(services: ServicesDep, paging: PagingDep) -> Page[LocationOut]:
    locations, total = await services.locations.list(paging.limit, paging.offset)
    return Page(items=[LocationOut.of(loc) for loc in locations], total=total,
                limit=paging.limit, offset=paging.offset)


@router.post("", response_model=LocationOut, status_code=201)
async def create_location(body: LocationCreate, services: ServicesDep) -> LocationOut:
    return LocationOut.of(await services.locations.create(Location(**body.model_dump())))


@router.get("/{location_id}", response_model=LocationOut)
async def get_location(location_id: str, services: ServicesDep) -> LocationOut:
    return LocationOut.of(await services.locations.get(location_id))


@router.patch("/{location_id}", response_model=LocationOut)
async def patch_location(location_id: str, body: LocationPatch,
                         services: ServicesDep) -> LocationOut:
    fields = body.model_dump(exclude_unset=True)
    return LocationOut.of(await services.locations.update(location_id, fields))
