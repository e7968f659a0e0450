"""Admin API: /transactions."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from volthub.api.deps import PagingDep, ServicesDep
from volthub.api.schemas import MeterReadingOut, Page, TransactionOut

router = APIRouter(prefix="/transactions", tags=["transactions"])


@router.get("", response_model=Page[TransactionOut])
async def list_transactions(
    services: ServicesDep,
    paging: PagingDep,
    station_id: str | None = None,
    status: Literal["active", "completed"] | None = None,
) -> Page[TransactionOut]:
    txns, total = await services.records.transactions(station_id, status, paging.limit,
                                                      paging.offset)
    return Page(items=[TransactionOut.of(t) for t in txns], total=total, limit=paging.limit,
                offset=paging.offset)


@router.get("/{transaction_id}", response_model=TransactionOut)
async def get_transaction(transaction_id: int, services: ServicesDep) -> TransactionOut:
    return TransactionOut.of(await services.records.transaction(transaction_id))


@router.get("/{transaction_id}/meter-values", response_model=list[MeterReadingOut])
async def get_meter_values(transaction_id: int, services: ServicesDep) -> list[MeterReadingOut]:
    readings = await services.records.readings(transaction_id)
    return [MeterReadingOut.model_validate(r, from_attributes=True) for r in readings]
