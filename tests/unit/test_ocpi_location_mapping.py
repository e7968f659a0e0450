"""Our locations, stations and connector states as OCPI 2.2.1 Location documents: every document
is checked against volthub.ocpi.schemas.Location (mod_locations §Object description)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from volthub.domain.model import ConnectorState, Location, Station
from volthub.domain.roaming import Partner, PartnerStatus
from volthub.ocpi import schemas
from volthub.ocpi.locations import (
    Site,
    coordinate,
    evse_status,
    find_connector,
    find_evse,
    location_document,
    ocpi_status,
    receiving_party,
)
from volthub.ocpi.registration import OcpiIdentity

US = OcpiIdentity("NL", "VHB", "volthub")
T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def loc(**fields: Any) -> Location:
    base: dict[str, Any] = {"id": "LOC1", "name": "Depot", "address": "Main Street 1",
                            "city": "Utrecht", "country": "NLD", "latitude": 52.09,
                            "longitude": 5.12, "postal_code": "3511AA",
                            "time_zone": "Europe/Amsterdam", "updated_at": T0}
    return Location(**(base | fields))


def state(station_id: str, evse_id: int, connector_id: int = 1, **fields: Any) -> ConnectorState:
    return ConnectorState(station_id=station_id, evse_id=evse_id, connector_id=connector_id,
                          **fields)


def build(site: Site, online: bool = True) -> dict[str, Any]:
    doc = location_document(US, site, lambda _: online)
    schemas.Location.model_validate(doc)  # every document we produce is a valid Location
    return doc


def test_a_site_with_two_stations_is_one_location() -> None:
    site = Site(loc(), [Station("CS1", location_id="LOC1"), Station("CS2", location_id="LOC1")],
                [state("CS1", 0, 0, status="Available", status_at=T0),
                 state("CS1", 1, status="Available", status_at=T0 + timedelta(minutes=1)),
                 state("CS1", 2, status="Charging", status_at=T0 + timedelta(minutes=3)),
                 state("CS2", 1, status="Faulted", status_at=T0 + timedelta(minutes=2),
                       standard="CHADEMO", format="CABLE", power_type="DC", max_voltage=500,
                       max_amperage=125, max_electric_power=50000)],
                {("CS1", 1): ["T1"], ("CS1", 2): ["T1"], ("CS2", 1): ["T2"]})
    doc = build(site)
    assert {k: doc[k] for k in ("country_code", "party_id", "id", "publish", "name", "address",
                                "city", "postal_code", "country", "time_zone")} == {
        "country_code": "NL", "party_id": "VHB", "id": "LOC1", "publish": True,
        "name": "Depot", "address": "Main Street 1", "city": "Utrecht", "postal_code": "3511AA",
        "country": "NLD", "time_zone": "Europe/Amsterdam"}
    assert doc["coordinates"] == {"latitude": "52.090000", "longitude": "5.120000"}
    # Station-level status (EVSE 0) is no EVSE; one EVSE per (station, EVSE), by uid.
    assert [e["uid"] for e in doc["evses"]] == ["CS1-1", "CS1-2", "CS2-1"]
    assert [e["evse_id"] for e in doc["evses"]] == ["NL*VHB*ECS1*1", "NL*VHB*ECS1*2",
                                                    "NL*VHB*ECS2*1"]
    assert [e["status"] for e in doc["evses"]] == ["AVAILABLE", "CHARGING", "OUTOFORDER"]
    assert "REMOTE_START_STOP_CAPABLE" in doc["evses"][0]["capabilities"]
    # The newest piece dates the EVSE and the Location.
    assert doc["evses"][0]["last_updated"] == "2026-01-01T10:01:00Z"
    assert doc["last_updated"] == "2026-01-01T10:03:00Z"
    assert doc["evses"][0]["connectors"] == [{
        "id": "1", "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
        "max_voltage": 230, "max_amperage": 16, "tariff_ids": ["T1"],
        "last_updated": "2026-01-01T10:01:00Z"}]
    assert doc["evses"][2]["connectors"] == [{
        "id": "1", "standard": "CHADEMO", "format": "CABLE", "power_type": "DC",
        "max_voltage": 500, "max_amperage": 125, "max_electric_power": 50000,
        "tariff_ids": ["T2"], "last_updated": "2026-01-01T10:02:00Z"}]


@pytest.mark.parametrize(("ocpp", "ocpi"), [
    ("Available", "AVAILABLE"), ("Occupied", "CHARGING"), ("Preparing", "CHARGING"),
    ("Charging", "CHARGING"), ("SuspendedEV", "CHARGING"), ("SuspendedEVSE", "CHARGING"),
    ("Finishing", "CHARGING"), ("Reserved", "RESERVED"), ("Unavailable", "INOPERATIVE"),
    ("Faulted", "OUTOFORDER"), ("Whatever", "UNKNOWN"), (None, "UNKNOWN"),
])
def test_ocpp_status_to_ocpi_status(ocpp: str | None, ocpi: str) -> None:
    assert ocpi_status(ocpp) == ocpi
    assert ocpi_status(ocpp, online=False) == "UNKNOWN"


def test_an_evse_is_as_busy_as_its_busiest_connector() -> None:
    assert evse_status(["Available", "Occupied"]) == "CHARGING"
    assert evse_status(["Faulted", "Available"]) == "AVAILABLE"
    assert evse_status(["Reserved", "Reserved"]) == "RESERVED"
    assert evse_status([None, "Unavailable"]) == "INOPERATIVE"
    assert evse_status([None]) == "UNKNOWN"


def test_an_offline_station_has_unknown_evses() -> None:
    site = Site(loc(), [Station("CS1", location_id="LOC1")],
                [state("CS1", 1, status="Charging", status_at=T0)])
    assert build(site, online=False)["evses"][0]["status"] == "UNKNOWN"


def test_a_2x_evse_has_all_its_connectors() -> None:
    site = Site(loc(), [Station("CS1", location_id="LOC1")],
                [state("CS1", 1, 2, status="Available", standard="iec_62196_t2_combo",
                       power_type="DC", status_at=T0),
                 state("CS1", 1, 1, status="Occupied", status_at=T0)])
    [evse] = build(site)["evses"]
    assert evse["status"] == "CHARGING"
    assert [c["id"] for c in evse["connectors"]] == ["1", "2"]
    # The operator's value in any letter case becomes the enum value.
    assert evse["connectors"][1]["standard"] == "IEC_62196_T2_COMBO"
    assert "tariff_ids" not in evse["connectors"][0]


def test_defaults_and_limits() -> None:
    site = Site(loc(time_zone=None, postal_code="12345678901", city="C" * 64, latitude=-33.5,
                    longitude=-151.25, name="Tab\there"),
                [Station("CS1", location_id="LOC1")],
                # Metadata without any status yet: dated by the location, standard unknown.
                [state("CS1", 1, standard="Type2-ish", format="plug")])
    doc = build(site)
    assert doc["time_zone"] == "UTC"
    assert "postal_code" not in doc  # string(10): a longer one cannot be sent
    assert doc["city"] == "C" * 45
    assert doc["name"] == "Tab here"
    assert doc["coordinates"] == {"latitude": "-33.500000", "longitude": "-151.250000"}
    [evse] = doc["evses"]
    assert evse["status"] == "UNKNOWN"
    assert evse["connectors"][0]["standard"] == "IEC_62196_T2"
    assert evse["connectors"][0]["format"] == "SOCKET"
    assert evse["last_updated"] == doc["last_updated"] == "2026-01-01T10:00:00Z"


def test_coordinates_always_fit_the_pattern() -> None:
    for value in (0.0, -0.0, 90.0, -90.0, 1e-9, 51.0475994):
        assert schemas.GeoLocation(latitude=coordinate(value), longitude=coordinate(value * 2))
    assert coordinate(51.047599) == "51.047599"


def test_a_location_without_stations_has_no_evses_and_others_stations_are_not_here() -> None:
    site = Site(loc(), [Station("ELSEWHERE", location_id="LOC2")],
                [state("ELSEWHERE", 1, status="Available", status_at=T0)])
    doc = build(site)
    assert doc["evses"] == []
    assert doc["last_updated"] == "2026-01-01T10:00:00Z"


def test_evses_whose_uid_would_exceed_36_characters_are_left_out() -> None:
    long_id = "S" * 34  # uid "S...S-1" is 36: allowed
    too_long = "X" * 35
    site = Site(loc(), [Station(long_id, location_id="LOC1"),
                        Station(too_long, location_id="LOC1")],
                [state(long_id, 1, status="Available", status_at=T0),
                 state(too_long, 1, status="Available", status_at=T0)])
    [evse] = build(site)["evses"]
    assert evse["uid"] == f"{long_id}-1"
    assert evse["evse_id"] == f"NL*VHB*E{long_id}*1"


def test_lookups_ignore_letter_case() -> None:
    site = Site(loc(), [Station("cs1", location_id="LOC1")],
                [state("cs1", 1, status="Available", status_at=T0)])
    doc = build(site)
    evse = find_evse(doc, "CS1-1")
    assert evse is not None and evse["uid"] == "cs1-1"
    assert find_connector(evse, "1") is not None
    assert find_connector(evse, "2") is None
    assert find_evse(doc, "cs1-2") is None


def test_pushes_go_to_the_emsp_party_or_through_the_hub() -> None:
    def partner(*roles: tuple[str, str, str]) -> Partner:
        return Partner(id=1, status=PartnerStatus.CONNECTED, roles=[
            {"role": r, "country_code": c, "party_id": p} for r, c, p in roles])

    assert receiving_party(partner(("CPO", "DE", "CPX"), ("EMSP", "DE", "MSP"))) == ("DE", "MSP")
    assert receiving_party(partner(("EMSP", "BE", "AAA"), ("HUB", "NL", "HUB"))) == ("NL", "HUB")
    assert receiving_party(partner(("CPO", "DE", "CPX"))) is None
