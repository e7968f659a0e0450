"""Admin API: /cdrs (list, export CSV/JSON, credit) and a transaction's running cost."""

from __future__ import annotations

import csv
import io
import json
from typing import Literal

from fastapi import APIRouter, Response

from volthub.api.billing_schemas import CdrOut, CreditIn, CreditOut, RunningCostOut, query_instant
from volthub.api.deps import PagingDep, ServicesDep
from volthub.api.schemas import Page
from volthub.domain.billing import CdrRecord
from volthub.domain.errors import NotFound

router = APIRouter(tags=["cdrs"])

CSV_COLUMNS = (
    "id", "transaction_id", "station_id", "location_id", "evse_uid", "connector_id", "id_token",
    "start_date_time", "end_date_time", "currency", "total_energy_kwh", "total_time_h",
    "total_parking_time_h", "total_cost_excl_vat", "total_cost_incl_vat",
    "total_fixed_cost_excl_vat", "total_energy_cost_excl_vat", "total_time_cost_excl_vat",
    "total_parking_cost_excl_vat", "total_reservation_cost_excl_vat", "tariff_id", "credit",
    "credit_reference_id", "remark",
)


def _csv_row(r: CdrRecord) -> dict[str, object]:
    cdr = r.document["ocpi"]

    def cost(key: str) -> object:
        value = cdr.get(key)
        return value["excl_vat"] if isinstance(value, dict) else ""

    tariffs = cdr.get("tariffs") or []
    return {
        "id": r.id, "transaction_id": r.transaction_id, "station_id": r.station_id,
        "location_id": r.location_id or "", "evse_uid": cdr["cdr_location"]["evse_uid"],
        "connector_id": cdr["cdr_location"]["connector_id"], "id_token": r.id_token or "",
        "start_date_time": cdr["start_date_time"], "end_date_time": cdr["end_date_time"],
        "currency": r.currency, "total_energy_kwh": r.total_energy_kwh,
        "total_time_h": cdr["total_time"], "total_parking_time_h": cdr.get("total_parking_time", ""),
        "total_cost_excl_vat": r.total_cost_excl_vat, "total_cost_incl_vat": r.total_cost_incl_vat,
        "total_fixed_cost_excl_vat": cost("total_fixed_cost"),
        "total_energy_cost_excl_vat": cost("total_energy_cost"),
        "total_time_cost_excl_vat": cost("total_time_cost"),
        "total_parking_cost_excl_vat": cost("total_parking_cost"),
        "total_reservation_cost_excl_vat": cost("total_reservation_cost"),
        "tariff_id": tariffs[0]["id"] if tariffs else "", "credit": str(r.credit).lower(),
        "credit_reference_id": r.credit_reference_id or "", "remark": cdr.get("remark", ""),
    }


@router.get("/cdrs", response_model=Page[CdrOut])
async def list_cdrs(services: ServicesDep, paging: PagingDep, station_id: str | None = None,
                    date_from: str | None = None, date_to: str | None = None) -> Page[CdrOut]:
    """CDRs by end of session: date_from inclusive, date_to exclusive."""
    records, total = await services.billing.list_page(
        station_id, query_instant(date_from, "date_from"), query_instant(date_to, "date_to"),
        paging.limit, paging.offset)
    return Page(items=[CdrOut.of(r) for r in records], total=total, limit=paging.limit,
                offset=paging.offset)


@router.get("/cdrs/export")
async def export_cdrs(services: ServicesDep, format: Literal["csv", "json"] = "csv",
                      station_id: str | None = None, date_from: str | None = None,
                      date_to: str | None = None) -> Response:
    """Every matching CDR: CSV (one row per CDR, money rounded) or JSON (OCPI CDR objects)."""
    records, _ = await services.billing.list_page(
        station_id, query_instant(date_from, "date_from"), query_instant(date_to, "date_to"),
        None, 0)
    if format == "json":
        body = json.dumps([r.document["ocpi"] for r in records], separators=(",", ":"))
        return Response(body, media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="cdrs.json"'})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow(_csv_row(r))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="cdrs.csv"'})


@router.get("/cdrs/{cdr_id}", response_model=CdrOut)
async def get_cdr(cdr_id: str, services: ServicesDep) -> CdrOut:
    return CdrOut.of(await services.billing.get(cdr_id))


@router.post("/cdrs/{cdr_id}/credit", response_model=CreditOut, status_code=201)
async def credit_cdr(cdr_id: str, body: CreditIn, services: ServicesDep) -> CreditOut:
    """A credit CDR (negated costs, `-C` id); with reissue, a new CDR priced again."""
    credit, replacement = await services.billing.credit(cdr_id, body.reissue, body.tariff_id,
                                                        body.remark)
    return CreditOut(credit=CdrOut.of(credit),
                     replacement=CdrOut.of(replacement) if replacement else None)


@router.get("/transactions/{transaction_id}/cdrs", response_model=list[CdrOut])
async def transaction_cdrs(transaction_id: int, services: ServicesDep) -> list[CdrOut]:
    await services.records.transaction(transaction_id)
    return [CdrOut.of(r) for r in await services.billing.of_transaction(transaction_id)]


@router.get("/transactions/{transaction_id}/cost", response_model=RunningCostOut)
async def transaction_cost(transaction_id: int, services: ServicesDep) -> RunningCostOut:
    """The session's cost so far (or final), priced with the tariff fixed at its start."""
    cost = await services.billing.current_price(transaction_id)
    if cost is None:
        raise NotFound(f"transaction {transaction_id} has no tariff")
    return RunningCostOut.of(transaction_id, cost)
