"""Version-neutral behaviour: local authorization list, reservations, sessions and readings."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from volthub.simulator.behaviour import (
    AuthEntry,
    AuthStatus,
    Connector,
    ConnectorStatus,
    LocalAuthList,
    Reservation,
    Session,
    SessionPlanner,
)
from volthub.simulator.ev import ElectricVehicle

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
OK = AuthEntry(AuthStatus.ACCEPTED)


def test_full_update_replaces_the_list_and_sets_the_version() -> None:
    auth = LocalAuthList(max_entries=10)
    assert auth.update(5, True, [("A", OK), ("B", AuthEntry(AuthStatus.BLOCKED))]) == "Accepted"
    assert auth.update(6, True, [("C", OK)]) == "Accepted"
    assert set(auth.entries) == {"C"}
    assert auth.version == 6


def test_an_empty_full_update_empties_the_list_and_reports_version_zero() -> None:
    auth = LocalAuthList(max_entries=10)
    auth.update(5, True, [("A", OK)])
    assert auth.update(9, True, []) == "Accepted"
    assert auth.entries == {}
    assert auth.version == 0


def test_differential_update_adds_changes_and_removes() -> None:
    auth = LocalAuthList(max_entries=10)
    auth.update(1, True, [("A", OK), ("B", OK)])
    assert auth.update(2, False, [("A", None), ("C", AuthEntry(AuthStatus.EXPIRED))]) == "Accepted"
    assert set(auth.entries) == {"B", "C"}
    assert auth.lookup("C") == AuthEntry(AuthStatus.EXPIRED)


def test_differential_update_needs_a_newer_version() -> None:
    auth = LocalAuthList(max_entries=10)
    auth.update(4, True, [("A", OK)])
    assert auth.update(4, False, [("B", OK)]) == "VersionMismatch"
    assert auth.lookup("B") is None


def test_duplicates_and_overflow_fail_without_change() -> None:
    auth = LocalAuthList(max_entries=2)
    assert auth.update(1, True, [("A", OK), ("A", OK)]) == "Failed"
    assert auth.update(1, True, [("A", OK), ("B", OK), ("C", OK)]) == "Failed"
    assert auth.entries == {}


def test_an_entry_is_valid_only_when_accepted_and_not_expired() -> None:
    assert AuthEntry(AuthStatus.ACCEPTED, NOW + timedelta(days=1)).valid_at(NOW)
    assert not AuthEntry(AuthStatus.ACCEPTED, NOW - timedelta(days=1)).valid_at(NOW)
    assert not AuthEntry(AuthStatus.BLOCKED).valid_at(NOW)


def test_a_reservation_admits_its_idtag_or_its_parent() -> None:
    reservation = Reservation(1, 1, "TAG", NOW, parent_id_tag="FLEET")
    assert reservation.admits("TAG")
    assert reservation.admits("OTHER", parent_id_tag="FLEET")
    assert not reservation.admits("OTHER")


def make_session(offered_power_w: float = 7_360.0, phases: int = 1) -> Session:
    ev = ElectricVehicle(battery_capacity_wh=40_000, soc_percent=50.0, max_ac_power_w=7_360.0, phases=phases)
    session = Session(1, "TAG", ev, NOW, 100.0, 1000, last_advance_monotonic=100.0, transaction_id="1")
    session.offer(offered_power_w)
    return session


def test_session_advance_integrates_power_over_scaled_time() -> None:
    session = make_session(3_680.0)
    assert session.advance(now_monotonic=160.0, time_scale=60.0) == pytest.approx(3_680.0)
    assert session.energy_wh == pytest.approx(3_680.0)
    assert session.power_w == 3_680.0


def test_a_zero_offer_stops_the_energy() -> None:
    session = make_session()
    session.offer(0.0)
    assert session.advance(now_monotonic=1000.0, time_scale=1.0) == 0.0
    assert session.power_w == 0.0


def test_readings_spread_power_over_the_evs_phases() -> None:
    connector = Connector(1, max_current_a=32.0, phases=3, meter_register_wh=5_000.0)
    connector.session = make_session(7_360.0, phases=1)
    readings = connector.readings(random.Random(1))
    assert readings.phases == 1
    assert readings.current_a == pytest.approx(32.0)
    assert len(readings.voltage_v) == 1
    assert readings.soc_percent == 50.0
    assert readings.energy_register_wh == 5_000.0


def test_an_idle_connector_is_reserved_or_unavailable_as_set() -> None:
    connector = Connector(1, max_current_a=32.0, phases=3)
    assert connector.idle_status(True) is ConnectorStatus.AVAILABLE
    connector.reservation = Reservation(1, 1, "TAG", NOW)
    assert connector.idle_status(True) is ConnectorStatus.RESERVED
    assert connector.idle_status(False) is ConnectorStatus.UNAVAILABLE
    connector.operative = False
    assert connector.idle_status(True) is ConnectorStatus.UNAVAILABLE


def test_the_planner_keeps_durations_within_bounds_and_scales_to_wall_time() -> None:
    planner = SessionPlanner(random.Random(3), time_scale=60.0)
    durations = [planner.session_duration_s() for _ in range(500)]
    assert min(durations) >= 15 * 60 and max(durations) <= 12 * 3600
    assert planner.wall(3600.0) == 60.0
