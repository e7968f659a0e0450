"""Admin API: /tariffs (OCPI 2.2.1 Tariff objects) and /tariff-assignments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from volthub.api.billing_schemas import ApplicableTariffOut, AssignmentIn, AssignmentOut
from volthub.api.deps import PagingDep, ServicesDep
from volthub.api.schemas import Page
from volthub.domain.errors import InvalidInput, NotFound
from volthub.domain.tariffs import Tariff
from volthub.pricing.display import tariff_text

router = APIRouter(tags=["tariffs"])


@router.get("/tariffs", response_model=Page[Tariff], response_model_exclude_none=True)
async def list_tariffs(services: ServicesDep, paging: PagingDep) -> Page[Tariff]:
    tariffs, total = await services.tariffs.list_page(paging.limit, paging.offset)
    return Page(items=tariffs, total=total, limit=paging.limit, offset=paging.offset)


@router.post("/tariffs", response_model=Tariff, status_code=201,
             response_model_exclude_none=True)
async def create_tariff(body: Tariff, services: ServicesDep) -> Tariff:
    return await services.tariffs.create(body)


@router.get("/tariffs/{tariff_id}", response_model=Tariff, response_model_exclude_none=True)
async def get_tariff(tariff_id: str, services: ServicesDep) -> Tariff:
    return await services.tariffs.get(tariff_id)


@router.put("/tariffs/{tariff_id}", response_model=Tariff, response_model_exclude_none=True)
async def replace_tariff(tariff_id: str, body: Tariff, services: ServicesDep) -> Tariff:
    if body.id != tariff_id:
        raise InvalidInput(f"id: {body.id!r} differs from the tariff id in the path")
    return await services.tariffs.replace(tariff_id, body)


@router.patch("/tariffs/{tariff_id}", response_model=Tariff, response_model_exclude_none=True)
async def patch_tariff(tariff_id: str, services: ServicesDep,
                       body: dict[str, Any] = Body(...)) -> Tariff:
    return await services.tariffs.patch(tariff_id, body)


@router.delete("/tariffs/{tariff_id}", status_code=204)
async def delete_tariff(tariff_id: str, services: ServicesDep) -> Response:
    await services.tariffs.delete(tariff_id)
    return Response(status_code=204)


@router.get("/tariff-assignments", response_model=Page[AssignmentOut])
async def list_assignments(services: ServicesDep, paging: PagingDep,
                           tariff_id: str | None = None) -> Page[AssignmentOut]:
    found = await services.tariffs.assignments(tariff_id)
    window = found[paging.offset:paging.offset + paging.limit]
    return Page(items=[AssignmentOut.of(a) for a in window], total=len(found),
                limit=paging.limit, offset=paging.offset)


@router.post("/tariff-assignments", response_model=AssignmentOut, status_code=201)
async def assign_tariff(body: AssignmentIn, services: ServicesDep) -> AssignmentOut:
    return AssignmentOut.of(await services.tariffs.assign(body.to_domain()))


@router.delete("/tariff-assignments/{assignment_id}", status_code=204)
async def unassign_tariff(assignment_id: int, services: ServicesDep) -> Response:
    await services.tariffs.unassign(assignment_id)
    return Response(status_code=204)


@router.get("/stations/{station_id}/tariff", response_model=ApplicableTariffOut,
            response_model_exclude_none=True)
async def applicable_tariff(station_id: str, services: ServicesDep, evse_id: int | None = None,
                            id_token: str | None = None) -> ApplicableTariffOut:
    """The tariff a session started now would get (and the text shown to the driver)."""
    await services.station_admin.get(station_id)
    group = None
    if id_token is not None:
        token = await services.tokens.get(id_token)
        group = token.group_id
    tariff = await services.tariffs.applicable(station_id, evse_id, group)
    if tariff is None:
        raise NotFound(f"no tariff applies to station {station_id} now")
    return ApplicableTariffOut(tariff=tariff, display_text=tariff_text(tariff))
