"""Billing records: tariff assignments, price feeds, a session's priced snapshot and CDRs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from volthub.domain.tariffs import Tariff
from volthub.pricing.timeline import PricePoint


@dataclass(slots=True)
class TariffAssignment:
    """Where a tariff applies: everywhere, a location, a station or one EVSE; optionally only
    for the id tokens of one group."""

    id: int
    tariff_id: str
    location_id: str | None = None
    station_id: str | None = None
    evse_id: int | None = None
    group_id: str | None = None
    priority: int = 0
    created_at: datetime | None = None

    @property
    def specificity(self) -> int:
        """EVSE 3, station 2, location 1, everywhere 0."""
        if self.evse_id is not None:
            return 3
        if self.station_id is not None:
            return 2
        return 1 if self.location_id is not None else 0


@dataclass(slots=True)
class PriceFeed:
    """An imported price series (e.g. hourly day-ahead prices) a tariff's energy can follow."""

    id: str
    name: str
    currency: str
    source_url: str | None = None
    poll_interval_s: int | None = None
    last_fetched_at: datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class TransactionPricing:
    """The tariff as it was when the session started, and the series prices it used.

    Kept with the session so that a later change of the tariff or the feed never rewrites
    its bill (mod_tariffs note on start_date_time; mod_cdrs: CDR data as at session start).
    """

    transaction_id: int
    tariff: Tariff
    time_zone: str
    priced_at: datetime
    series: dict[str, list[PricePoint]] = field(default_factory=dict)


@dataclass(slots=True)
class CdrRecord:
    """One CDR as issued: immutable; a correction is a credit CDR plus a new one."""

    id: str
    transaction_id: int | None
    station_id: str
    location_id: str | None
    id_token: str | None
    start_date_time: datetime
    end_date_time: datetime
    currency: str
    total_cost_excl_vat: Decimal
    total_cost_incl_vat: Decimal
    total_energy_kwh: Decimal
    credit: bool
    credit_reference_id: str | None
    created_at: datetime
    document: dict[str, Any]
