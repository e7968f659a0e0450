"""Assembles the admin API under /api/v1 with bearer auth on every route."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from volthub.api import (
    cdrs,
    certificates,
    commands,
    id_tokens,
    locations,
    ocpi_partners,
    price_feeds,
    roaming,
    stations,
    tariffs,
    transactions,
)
from volthub.api.deps import require_admin


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin)])
    for module in (stations, commands, id_tokens, transactions, locations, certificates,
                   tariffs, price_feeds, cdrs, ocpi_partners, roaming):
        router.include_router(module.router)
    return router
