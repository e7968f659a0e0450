"""Price feed parsing (`parse_prices`, CSV and JSON) and the driver's price line (`tariff_text`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from volthub.domain.errors import InvalidInput
from volthub.domain.tariffs import Tariff
from volthub.pricing.display import tariff_text
from volthub.pricing.timeline import PricePoint
from volthub.services.price_feeds import parse_prices

EXAMPLES = Path(__file__).resolve().parents[3] / "shared/specs/ocpi-2.2.1/examples"
D = Decimal
CSV = "text/csv"
JSON = "application/json"


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def error_of(body: str, content_type: str | None = CSV) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_prices(body, content_type)
    return str(caught.value)


# CSV ------------------------------------------------------------------------------------------
def test_csv_rows_without_ends_at_last_one_hour() -> None:
    body = "starts_at,price\n2026-03-01T00:00:00Z,0.1050\n2026-03-01T01:00:00Z,0.0975\n"
    assert parse_prices(body, CSV) == [
        PricePoint(at(0), at(1), D("0.1050")),
        PricePoint(at(1), at(2), D("0.0975")),
    ]


def test_csv_prices_stay_exact_decimals() -> None:
    [point] = parse_prices("starts_at,price\n2026-03-01T00:00:00Z,0.1\n", CSV)
    assert isinstance(point.price, Decimal)
    assert point.price == D("0.1")
    assert str(point.price) == "0.1"


def test_csv_ends_at_column_is_used_when_given_and_optional_per_row() -> None:
    body = ("starts_at,price,ends_at\n"
            "2026-03-01T00:00:00Z,0.10,2026-03-01T00:15:00Z\n"
            "2026-03-01T00:15:00Z,0.11,\n")
    assert parse_prices(body, CSV) == [
        PricePoint(at(0), at(0, 15), D("0.10")),
        PricePoint(at(0, 15), at(1, 15), D("0.11")),
    ]


def test_csv_columns_in_any_order_with_spaces() -> None:
    body = ("ends_at , price,starts_at\n"
            "2026-03-01T02:00:00Z, 0.2 , 2026-03-01T01:00:00Z\n")
    assert parse_prices(body, CSV) == [PricePoint(at(1), at(2), D("0.2"))]


def test_csv_extra_columns_are_ignored() -> None:
    body = "area,starts_at,price,unit\nNL,2026-03-01T00:00:00Z,0.1,EUR/kWh\n"
    assert parse_prices(body, CSV) == [PricePoint(at(0), at(1), D("0.1"))]


def test_rows_are_sorted_by_start() -> None:
    body = ("starts_at,price\n2026-03-01T02:00:00Z,3\n2026-03-01T00:00:00Z,1\n"
            "2026-03-01T01:00:00Z,2\n")
    points = parse_prices(body, CSV)
    assert [p.starts_at for p in points] == [at(0), at(1), at(2)]
    assert [p.price for p in points] == [D(1), D(2), D(3)]


def test_offsets_are_kept_as_the_same_instant() -> None:
    body = "starts_at,price\n2026-03-01T01:00:00+01:00,0.1\n2026-03-01T01:00:00Z,0.2\n"
    points = parse_prices(body, CSV)
    assert [p.starts_at for p in points] == [at(0), at(1)]
    assert points[0].starts_at.utcoffset() == timedelta(hours=1)
    assert points[0].ends_at == at(1)


def test_a_slot_over_a_dst_change_lasts_one_real_hour() -> None:
    # 2026-03-29 01:00 UTC: Europe/Amsterdam goes from +01:00 to +02:00.
    [point] = parse_prices("starts_at,price\n2026-03-29T02:30:00+01:00,0.1\n", CSV)
    assert point.ends_at - point.starts_at == timedelta(hours=1)
    assert point.ends_at == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)


def test_negative_and_zero_prices_are_prices() -> None:
    body = "starts_at,price\n2026-03-01T12:00:00Z,-0.0123\n2026-03-01T13:00:00Z,0\n"
    assert [p.price for p in parse_prices(body, CSV)] == [D("-0.0123"), D(0)]


def test_adjacent_slots_do_not_overlap() -> None:
    body = ("starts_at,price,ends_at\n2026-03-01T00:00:00Z,1,2026-03-01T00:30:00Z\n"
            "2026-03-01T00:30:00Z,2,2026-03-01T01:00:00Z\n2026-03-01T03:00:00Z,3,\n")
    assert len(parse_prices(body, CSV)) == 3


def test_header_only_is_no_prices() -> None:
    assert parse_prices("starts_at,price\n", CSV) == []


def test_csv_with_crlf_line_ends() -> None:
    body = "starts_at,price\r\n2026-03-01T00:00:00Z,0.1\r\n2026-03-01T01:00:00Z,0.2\r\n"
    assert [p.price for p in parse_prices(body, CSV)] == [D("0.1"), D("0.2")]


@pytest.mark.parametrize("content_type", [CSV, "text/csv; charset=utf-8", "text/plain", None,
                                          "application/octet-stream"])
def test_csv_whatever_the_content_type_says_unless_json(content_type: str | None) -> None:
    assert len(parse_prices("starts_at,price\n2026-03-01T00:00:00Z,1\n", content_type)) == 1


# JSON -----------------------------------------------------------------------------------------
def test_json_list_of_rows() -> None:
    body = json.dumps([
        {"starts_at": "2026-03-01T01:00:00Z", "price": 0.2},
        {"starts_at": "2026-03-01T00:00:00Z", "price": "0.1", "ends_at": "2026-03-01T00:30:00Z"},
    ])
    assert parse_prices(body, JSON) == [
        PricePoint(at(0), at(0, 30), D("0.1")),
        PricePoint(at(1), at(2), D("0.2")),
    ]


def test_json_number_prices_become_exact_decimals() -> None:
    [point] = parse_prices('[{"starts_at": "2026-03-01T00:00:00Z", "price": 0.1}]', JSON)
    assert point.price == D("0.1")


def test_json_object_with_prices() -> None:
    body = json.dumps({"area": "NL", "prices": [{"starts_at": "2026-03-01T00:00:00Z",
                                                 "price": 1, "ends_at": None}]})
    assert parse_prices(body, JSON) == [PricePoint(at(0), at(1), D(1))]


@pytest.mark.parametrize("content_type", [
    JSON, "application/json; charset=utf-8", "application/vnd.prices+json", None, CSV,
])
def test_json_by_content_type_or_by_its_first_character(content_type: str | None) -> None:
    body = '  [{"starts_at": "2026-03-01T00:00:00Z", "price": 1}]\n'
    assert parse_prices(body, content_type) == [PricePoint(at(0), at(1), D(1))]


def test_empty_json_list_is_no_prices() -> None:
    assert parse_prices("[]", JSON) == []


# errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    "starts_at,cost\n2026-03-01T00:00:00Z,1\n",
    "begin,price\n2026-03-01T00:00:00Z,1\n",
    "2026-03-01T00:00:00Z,1\n",
])
def test_csv_header_must_name_starts_at_and_price(body: str) -> None:
    message = error_of(body)
    assert "header" in message
    assert "starts_at" in message and "price" in message


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,1\n2026-03-01T01:00:00Z,abc\n",
                 ("line 3", "price", "'abc'"), id="not-a-number"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,NaN\n", ("line 2", "price"), id="nan"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,Infinity\n", ("line 2", "price"),
                 id="infinity"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,\n", ("line 2", "price"), id="empty"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z\n", ("line 2", "price"),
                 id="short-row"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,\"0,12\"\n", ("line 2", "0,12"),
                 id="decimal-comma"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00,1\n", ("line 2", "offset or Z"),
                 id="naive-start"),
    pytest.param("starts_at,price,ends_at\n2026-03-01T00:00:00Z,1,2026-03-01T01:00:00\n",
                 ("line 2", "offset or Z"), id="naive-end"),
    pytest.param("starts_at,price\n01/03/2026 00:00,1\n", ("line 2", "ISO 8601"),
                 id="not-iso"),
    pytest.param("starts_at,price\n,1\n", ("line 2",), id="no-start"),
    pytest.param("starts_at,price,ends_at\n2026-03-01T01:00:00Z,1,2026-03-01T01:00:00Z\n",
                 ("line 2", "ends_at"), id="empty-slot"),
    pytest.param("starts_at,price,ends_at\n2026-03-01T01:00:00Z,1,2026-03-01T00:00:00Z\n",
                 ("line 2", "ends_at"), id="ends-before-start"),
])
def test_csv_errors_name_the_line(body: str, expected: tuple[str, ...]) -> None:
    message = error_of(body)
    for part in expected:
        assert part in message, (part, message)


def test_csv_error_names_the_line_after_a_blank_line() -> None:
    body = "starts_at,price\n2026-03-01T00:00:00Z,1\n\n2026-03-01T01:00:00Z,abc\n"
    assert "line 4" in error_of(body)


@pytest.mark.parametrize("body", [
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,1\n2026-03-01T00:30:00Z,2\n",
                 id="inside-the-hour"),
    pytest.param("starts_at,price\n2026-03-01T00:00:00Z,1\n2026-03-01T00:00:00Z,2\n",
                 id="same-start"),
    pytest.param("starts_at,price,ends_at\n2026-03-01T03:00:00Z,1,\n"
                 "2026-03-01T00:00:00Z,2,2026-03-01T05:00:00Z\n", id="unsorted"),
])
def test_overlapping_rows_are_refused_naming_the_line(body: str) -> None:
    # Lines 2 and 3 overlap: the message names (at least) one of them.
    message = error_of(body)
    assert "overlap" in message
    assert "line 2" in message or "line 3" in message, message


def test_overlap_message_names_the_instant() -> None:
    body = "starts_at,price\n2026-03-01T00:00:00Z,1\n2026-03-01T00:30:00Z,2\n"
    assert "2026-03-01T00:30:00" in error_of(body)


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param("[{", ("JSON",), id="broken"),
    pytest.param('{"items": []}', ("list",), id="object-without-prices"),
    pytest.param('{"prices": {"a": 1}}', ("list",), id="prices-not-a-list"),
    pytest.param("[1, 2]", ("list",), id="rows-not-objects"),
    pytest.param('"prices"', ("list",), id="a-string"),
    pytest.param('[{"price": 1}]', ("prices[0]", "starts_at"), id="no-start"),
    pytest.param('[{"starts_at": "2026-03-01T00:00:00Z"}]', ("prices[0]", "price"),
                 id="no-price"),
    pytest.param('[{"starts_at": "2026-03-01T00:00:00Z", "price": 1}, '
                 '{"starts_at": "2026-03-01T01:00:00Z", "price": "x"}]', ("prices[1]", "price"),
                 id="bad-price"),
    pytest.param('[{"starts_at": "2026-03-01T00:00:00", "price": 1}]', ("prices[0]", "offset"),
                 id="naive"),
    pytest.param('[{"starts_at": "2026-03-01T00:00:00Z", "price": 1, '
                 '"ends_at": "2026-02-28T00:00:00Z"}]', ("prices[0]", "ends_at"),
                 id="ends-before-start"),
    pytest.param('[{"starts_at": "2026-03-01T00:00:00Z", "price": 1}, '
                 '{"starts_at": "2026-03-01T00:59:59Z", "price": 1}]', ("overlap",),
                 id="overlap"),
])
def test_json_errors_name_the_row(body: str, expected: tuple[str, ...]) -> None:
    message = error_of(body, JSON)
    for part in expected:
        assert part in message, (part, message)


def test_empty_body_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_prices("", CSV)
    with pytest.raises(InvalidInput):
        parse_prices("   \n", JSON)


# tariff_text ----------------------------------------------------------------------------------
def tariff(*components: dict[str, Any], currency: str = "EUR", **fields: Any) -> Tariff:
    return Tariff.model_validate({"id": "T", "currency": currency,
                                  "elements": [{"price_components": list(components)}],
                                  **fields})


def component(kind: str, price: float | str, vat: float | None = None,
              step_size: int = 1, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "price": price, "step_size": step_size, **extra}
    if vat is not None:
        body["vat"] = vat
    return body


def example(name: str) -> Tariff:
    return Tariff.model_validate_json((EXAMPLES / name).read_text())


def test_energy_price_incl_vat_rounded_half_up() -> None:
    # 0.25 + 10 % = 0.275 -> 0.28
    assert tariff_text(tariff(component("ENERGY", 0.25, vat=10))) == "0.28 EUR/kWh incl. VAT"


def test_price_without_vat_is_shown_as_it_is() -> None:
    assert tariff_text(tariff(component("ENERGY", "0.3"))) == "0.30 EUR/kWh incl. VAT"


def test_every_dimension_in_a_fixed_order() -> None:
    text = tariff_text(tariff(
        component("PARKING_TIME", 5, vat=20, step_size=300),
        component("TIME", 2, vat=10, step_size=60),
        component("ENERGY", 0.25, vat=21),
        component("FLAT", 0.5, vat=21, step_size=0),
    ))
    assert text == ("0.61 EUR per session, 0.30 EUR/kWh, 2.20 EUR/h charging, "
                    "6.00 EUR/h parking incl. VAT")


def test_a_free_flat_fee_is_not_mentioned() -> None:
    text = tariff_text(tariff(component("FLAT", 0, step_size=0), component("ENERGY", 0.2)))
    assert text == "0.20 EUR/kWh incl. VAT"


def test_nothing_to_pay_is_free_of_charge() -> None:
    assert tariff_text(example("tariff_5_free_of_charge.json")) == "Free of charge"


def test_ocpi_examples_without_alt_text() -> None:
    assert tariff_text(example("tariff_1_simple_2hour.json")) == "2.20 EUR/h charging incl. VAT"
    assert tariff_text(example("tariff_13_simple_3hour_5parking.json")) == \
        "3.30 EUR/h charging, 6.00 EUR/h parking incl. VAT"


def test_alt_text_in_the_language_asked_for_else_the_first() -> None:
    alt = example("tariff_2_alt_text.json")
    assert tariff_text(alt) == "2.00 euro p/hour including VAT."
    assert tariff_text(alt, language="nl") == "2.00 euro p/uur inclusief BTW."
    assert tariff_text(alt, language="de") == "2.00 euro p/hour including VAT."
    dutch_first = tariff(component("ENERGY", 1), tariff_alt_text=[
        {"language": "nl", "text": "Een euro per kWh"}, {"language": "fr", "text": "Un euro"}])
    assert tariff_text(dutch_first) == "Een euro per kWh"


def test_text_is_cut_to_the_limit() -> None:
    long = tariff(component("ENERGY", 1), tariff_alt_text=[{"language": "en", "text": "x" * 512}])
    assert tariff_text(long, limit=10) == "x" * 10
    assert len(tariff_text(tariff(component("ENERGY", 0.2), component("TIME", 1)), limit=12)) == 12


def test_more_elements_say_other_prices_apply() -> None:
    day_and_night = Tariff.model_validate({"id": "T", "currency": "EUR", "elements": [
        {"price_components": [component("ENERGY", 0.30)],
         "restrictions": {"start_time": "07:00", "end_time": "23:00"}},
        {"price_components": [component("ENERGY", 0.20)]},
    ]})
    assert tariff_text(day_and_night) == \
        "0.30 EUR/kWh incl. VAT; other prices apply at some times"


def test_the_first_component_of_a_dimension_is_the_headline() -> None:
    two = Tariff.model_validate({"id": "T", "currency": "EUR", "elements": [
        {"price_components": [component("TIME", 2)],
         "restrictions": {"min_duration": 3600}},
        {"price_components": [component("ENERGY", 0.25), component("TIME", 1)]},
    ]})
    assert tariff_text(two).startswith("0.25 EUR/kWh, 2.00 EUR/h charging incl. VAT")


def test_reservation_elements_are_not_the_headline() -> None:
    reserved = example("tariff_15_reservation_5_euro_per_hour.json")
    assert tariff_text(reserved) == \
        "0.60 EUR per session, 0.28 EUR/kWh incl. VAT; other prices apply at some times"
    plain = Tariff.model_validate({"id": "T", "currency": "EUR", "elements": [
        {"price_components": [component("TIME", 5, step_size=60)],
         "restrictions": {"reservation": "RESERVATION"}},
        {"price_components": [component("ENERGY", 0.25)]},
    ]})
    assert tariff_text(plain) == "0.25 EUR/kWh incl. VAT; other prices apply at some times"


def test_dynamic_energy_is_marked() -> None:
    text = tariff_text(tariff(component("ENERGY", 0.30, vat=21, price_feed_id="EPEX",
                                        price_feed_markup=0.05)))
    assert text == "0.36 EUR/kWh (dynamic) incl. VAT"


@pytest.mark.parametrize(("currency", "price", "expected"), [
    ("JPY", 30.5, "31 JPY/kWh"),
    ("KWD", 0.0825, "0.083 KWD/kWh"),
    ("GBP", 0.255, "0.26 GBP/kWh"),
])
def test_money_is_rounded_to_the_currency(currency: str, price: float, expected: str) -> None:
    assert tariff_text(tariff(component("ENERGY", price), currency=currency)) == \
        f"{expected} incl. VAT"


def test_text_of_a_stored_tariff_is_stable() -> None:
    # A tariff as it comes back from storage (JSON round trip, with ownership fields).
    stored = tariff(component("ENERGY", 0.25, vat=10), country_code="NL", party_id="VHB",
                    last_updated=datetime(2026, 1, 1, tzinfo=UTC))
    again = Tariff.model_validate(stored.model_dump(mode="json", exclude_none=True))
    assert tariff_text(again) == tariff_text(stored) == "0.28 EUR/kWh incl. VAT"
