"""The OCPI 2.2.1 Tariff model (mod_tariffs §Object description): volthub's only price model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

# OCPI `number` is a JSON number; money and quantities stay Decimal inside volthub and are
# written as numbers on the wire (never as strings, never computed as floats).
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

TIME_OF_DAY_PATTERN = r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$"
DATE_PATTERN = r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class TariffDimension(StrEnum):
    """TariffDimensionType: what a price component prices."""

    ENERGY = "ENERGY"  # per kWh, step_size multiplier 1 Wh
    FLAT = "FLAT"  # once, no step_size
    PARKING_TIME = "PARKING_TIME"  # per hour not charging, step_size multiplier 1 s
    TIME = "TIME"  # per hour charging (or reserved), step_size multiplier 1 s


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


WEEKDAYS: tuple[DayOfWeek, ...] = tuple(DayOfWeek)  # index = datetime.weekday()


class ReservationRestriction(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffType(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Price(_Model):
    """OCPI Price: an amount excluding and (optionally) including VAT."""

    excl_vat: Number = Field(ge=0)
    incl_vat: Number | None = Field(default=None, ge=0)


class DisplayText(_Model):
    language: str = Field(min_length=2, max_length=2)
    text: str = Field(max_length=512)


class PriceComponent(_Model):
    """How one dimension is priced: price per unit excl. VAT, VAT %, billing step."""

    type: TariffDimension
    price: Number = Field(ge=0)
    vat: Number | None = Field(default=None, ge=0, le=100)
    step_size: int = Field(ge=0)
    # volthub extension: the ENERGY price follows an imported price series (dynamic pricing);
    # per unit = series price + markup, `price` applies for hours the series does not cover.
    price_feed_id: str | None = Field(default=None, max_length=36)
    price_feed_markup: Number | None = None

    @model_validator(mode="after")
    def _feed_only_for_energy(self) -> PriceComponent:
        if self.price_feed_id is not None and self.type is not TariffDimension.ENERGY:
            raise ValueError("price_feed_id is only allowed on ENERGY price components")
        return self


class TariffRestrictions(_Model):
    """When a tariff element is active; all set fields must match (logical AND)."""

    start_time: str | None = Field(default=None, pattern=TIME_OF_DAY_PATTERN)
    end_time: str | None = Field(default=None, pattern=TIME_OF_DAY_PATTERN)
    start_date: str | None = Field(default=None, pattern=DATE_PATTERN)
    end_date: str | None = Field(default=None, pattern=DATE_PATTERN)
    min_kwh: Number | None = Field(default=None, ge=0)
    max_kwh: Number | None = Field(default=None, ge=0)
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: int | None = Field(default=None, ge=0)
    max_duration: int | None = Field(default=None, ge=0)
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestriction | None = None

    @model_validator(mode="after")
    def _ranges(self) -> TariffRestrictions:
        pairs = (("min_kwh", "max_kwh"), ("min_current", "max_current"),
                 ("min_power", "max_power"), ("min_duration", "max_duration"),
                 ("start_date", "end_date"))
        for low, high in pairs:
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{low} must not be greater than {high}")
        return self


class TariffElement(_Model):
    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Tariff(_Model):
    """OCPI 2.2.1 Tariff; country_code, party_id and last_updated are filled in by volthub."""

    country_code: str | None = Field(default=None, min_length=2, max_length=2)
    party_id: str | None = Field(default=None, min_length=3, max_length=3)
    id: str = Field(min_length=1, max_length=36)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = Field(default_factory=list)
    tariff_alt_url: str | None = Field(default=None, max_length=255)
    min_price: Price | None = None
    max_price: Price | None = None
    elements: list[TariffElement] = Field(min_length=1)
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    energy_mix: dict[str, Any] | None = None
    last_updated: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Tariff:
        for name in ("start_date_time", "end_date_time", "last_updated"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must carry a time zone (UTC, with Z)")
        if (self.start_date_time and self.end_date_time
                and self.start_date_time >= self.end_date_time):
            raise ValueError("start_date_time must be before end_date_time")
        if (self.min_price and self.max_price
                and self.min_price.excl_vat > self.max_price.excl_vat):
            raise ValueError("min_price must not be greater than max_price")
        return self

    def valid_at(self, at: datetime) -> bool:
        """Whether the tariff is in force at `at` (start inclusive, end exclusive)."""
        if self.start_date_time is not None and at < self.start_date_time:
            return False
        return self.end_date_time is None or at < self.end_date_time

    def feed_ids(self) -> set[str]:
        return {c.price_feed_id for e in self.elements for c in e.price_components
                if c.price_feed_id is not None}
