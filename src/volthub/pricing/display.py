"""The price as a driver reads it on the station: a tariff in one short line, incl. VAT."""

from __future__ import annotations

from volthub.domain.tariffs import PriceComponent, Tariff, TariffDimension
from volthub.pricing.money import round_money, with_vat

_UNITS = {
    TariffDimension.ENERGY: "/kWh",
    TariffDimension.TIME: "/h charging",
    TariffDimension.PARKING_TIME: "/h parking",
    TariffDimension.FLAT: " per session",
}
_ORDER = (TariffDimension.FLAT, TariffDimension.ENERGY, TariffDimension.TIME,
          TariffDimension.PARKING_TIME)


def _headline(tariff: Tariff) -> dict[TariffDimension, PriceComponent]:
    """Per dimension, the component that applies first outside reservations."""
    found: dict[TariffDimension, PriceComponent] = {}
    for element in tariff.elements:
        if element.restrictions is not None and element.restrictions.reservation is not None:
            continue
        for component in element.price_components:
            found.setdefault(component.type, component)
    return found


def tariff_text(tariff: Tariff, language: str = "en", limit: int = 512) -> str:
    """The tariff's alt text in `language` (or its first), else a summary of its prices."""
    texts = {t.language: t.text for t in tariff.tariff_alt_text}
    if texts:
        return (texts.get(language) or next(iter(texts.values())))[:limit]
    parts = []
    headline = _headline(tariff)
    for dimension in _ORDER:
        component = headline.get(dimension)
        if component is None or (dimension is TariffDimension.FLAT and component.price == 0):
            continue
        unit_price = round_money(with_vat(component.price, component.vat), tariff.currency)
        extra = " (dynamic)" if component.price_feed_id else ""
        parts.append(f"{unit_price} {tariff.currency}{_UNITS[dimension]}{extra}")
    if not parts:
        return "Free of charge"[:limit]
    text = ", ".join(parts) + " incl. VAT"
    if len(tariff.elements) > 1:
        text += "; other prices apply at some times"
    return text[:limit]
