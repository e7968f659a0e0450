"""Request and response bodies of the billing routes (tariffs, assignments, feeds, CDRs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, model_validator

from volthub.api.schemas import Strict, UtcTime
from volthub.domain.billing import CdrRecord, PriceFeed, TariffAssignment
from volthub.domain.tariffs import Number, Tariff
from volthub.pricing.engine import SessionCost
from volthub.pricing.money import Amount
from volthub.services.price_feeds import parse_instant


class AssignmentIn(Strict):
    tariff_id: str = Field(min_length=1, max_length=36)
    location_id: str | None = Field(default=None, max_length=36)
    station_id: str | None = Field(default=None, max_length=64)
    evse_id: int | None = Field(default=None, ge=1)
    group_id: str | None = Field(default=None, max_length=255)
    priority: int = 0

    @model_validator(mode="after")
    def _one_place(self) -> AssignmentIn:
        if self.location_id is not None and self.station_id is not None:
            raise ValueError("location_id and station_id: give at most one of them")
        if self.evse_id is not None and self.station_id is None:
            raise ValueError("evse_id needs station_id")
        return self

    def to_domain(self) -> TariffAssignment:
        return TariffAssignment(id=0, **self.model_dump())


class AssignmentOut(BaseModel):
    id: int
    tariff_id: str
    location_id: str | None
    station_id: str | None
    evse_id: int | None
    group_id: str | None
    priority: int
    created_at: UtcTime | None

    @classmethod
    def of(cls, a: TariffAssignment) -> AssignmentOut:
        return cls.model_validate(a, from_attributes=True)


class ApplicableTariffOut(BaseModel):
    tariff: Tariff
    display_text: str


class PriceFeedIn(Strict):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=255)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    source_url: str | None = Field(default=None, max_length=2000,
                                   pattern=r"^https?://")
    poll_interval_s: int | None = Field(default=None, ge=60)


class PriceFeedOut(BaseModel):
    id: str
    name: str
    currency: str
    source_url: str | None
    poll_interval_s: int | None
    last_fetched_at: UtcTime | None
    last_error: str | None

    @classmethod
    def of(cls, f: PriceFeed) -> PriceFeedOut:
        return cls.model_validate(f, from_attributes=True)


class PricePointOut(BaseModel):
    starts_at: UtcTime
    ends_at: UtcTime
    price: Number


class ImportResult(BaseModel):
    imported: int


class Money(BaseModel):
    excl_vat: Number
    incl_vat: Number

    @classmethod
    def of(cls, amount: Amount) -> Money:
        return cls(excl_vat=amount.excl_vat, incl_vat=amount.incl_vat)


class CdrOut(BaseModel):
    id: str
    transaction_id: int | None
    station_id: str
    location_id: str | None
    id_token: str | None
    start_date_time: UtcTime
    end_date_time: UtcTime
    currency: str
    total_cost: Money
    total_energy_kwh: Number
    credit: bool
    credit_reference_id: str | None
    created_at: UtcTime
    cdr: dict[str, Any]  # the OCPI 2.2.1 CDR object
    breakdown: list[dict[str, Any]]  # every cost line, exact

    @classmethod
    def of(cls, r: CdrRecord) -> CdrOut:
        return cls(
            id=r.id, transaction_id=r.transaction_id, station_id=r.station_id,
            location_id=r.location_id, id_token=r.id_token, start_date_time=r.start_date_time,
            end_date_time=r.end_date_time, currency=r.currency,
            total_cost=Money(excl_vat=r.total_cost_excl_vat, incl_vat=r.total_cost_incl_vat),
            total_energy_kwh=r.total_energy_kwh, credit=r.credit,
            credit_reference_id=r.credit_reference_id, created_at=r.created_at,
            cdr=r.document["ocpi"], breakdown=r.document.get("breakdown", []),
        )


class CreditIn(Strict):
    remark: str | None = Field(default=None, max_length=255)
    reissue: bool = False
    tariff_id: str | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _tariff_needs_reissue(self) -> CreditIn:
        if self.tariff_id is not None and not self.reissue:
            raise ValueError("tariff_id is only used with reissue: true")
        return self


class CreditOut(BaseModel):
    credit: CdrOut
    replacement: CdrOut | None


class CostLineOut(BaseModel):
    period_start: UtcTime
    dimension: str
    quantity: Number
    unit_price: Number
    vat: Number | None
    cost: Money


class RunningCostOut(BaseModel):
    transaction_id: int
    tariff_id: str
    currency: str
    total_cost: Money  # rounded to the currency
    total_energy_kwh: Number
    total_time_h: Number
    total_parking_time_h: Number
    lines: list[CostLineOut]

    @classmethod
    def of(cls, transaction_id: int, cost: SessionCost) -> RunningCostOut:
        return cls(
            transaction_id=transaction_id, tariff_id=cost.tariff_id, currency=cost.currency,
            total_cost=Money.of(cost.total_cost.rounded(cost.currency)),
            total_energy_kwh=cost.total_energy_kwh.quantize(Decimal("0.0001")),
            total_time_h=cost.total_time_h.quantize(Decimal("0.0001")),
            total_parking_time_h=cost.total_parking_time_h.quantize(Decimal("0.0001")),
            lines=[CostLineOut(period_start=p.start, dimension=line.dimension.value,
                               quantity=line.quantity, unit_price=line.unit_price,
                               vat=line.vat, cost=Money.of(line.cost))
                   for p in cost.periods for line in p.lines],
        )


def query_instant(value: str | None, name: str) -> datetime | None:
    """An optional date-time query parameter (date_from, date_to)."""
    return None if value is None else parse_instant(value, name)
