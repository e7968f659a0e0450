"""Money arithmetic: VAT, currency minor units and the one rounding rule (ADR 0006)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor-unit exponents that differ from the usual 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def minor_unit_exponent(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Commercial rounding (half away from zero) to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit_exponent(currency)), ROUND_HALF_UP)


def with_vat(excl_vat: Decimal, vat_percent: Decimal | None) -> Decimal:
    """Amount incl. VAT; a component without `vat` has no VAT applicable (mod_tariffs)."""
    if vat_percent is None:
        return excl_vat
    return excl_vat * (HUNDRED + vat_percent) / HUNDRED


@dataclass(frozen=True, slots=True)
class Amount:
    """An exact amount excl. and incl. VAT."""

    excl_vat: Decimal = ZERO
    incl_vat: Decimal = ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.excl_vat + other.excl_vat, self.incl_vat + other.incl_vat)

    def __neg__(self) -> Amount:
        return Amount(-self.excl_vat, -self.incl_vat)

    def rounded(self, currency: str) -> Amount:
        return Amount(round_money(self.excl_vat, currency), round_money(self.incl_vat, currency))

    @property
    def is_zero(self) -> bool:
        return self.excl_vat == 0 and self.incl_vat == 0
