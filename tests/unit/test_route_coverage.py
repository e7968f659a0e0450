"""Every station-initiated action of 1.6, 2.0.1 and 2.1 has a handler, and nothing else has one.

The action lists come from the specifications (volthub.ocpp.directions, each entry cited); the
schemas are the `ocpp` package's, the handlers what the gateway routes.
"""

from __future__ import annotations

import pytest

from volthub.ocpp import directions, schemas
from volthub.ocpp.versions import load_adapters

VERSIONS = ("1.6", "2.0.1", "2.1")


def handlers(version: str) -> set[str]:
    [adapter] = [a for a in load_adapters().values() if a.version == version]
    return set(adapter.handlers)


def has_request_schema(version: str, action: str) -> bool:
    if schemas.schema_path(version, action, response=False).exists():
        return True
    # 2.1 SEND messages (Part 4 §4.2.4) are named without the "Request" suffix.
    return (version == "2.1" and action in directions.SEND_MESSAGES_21
            and (schemas.SCHEMA_ROOT / "v21" / "schemas" / f"{action}.json").exists())


def has_response_schema(version: str, action: str) -> bool:
    return schemas.schema_path(version, action, response=True).exists()


@pytest.mark.parametrize("version", VERSIONS)
def test_every_station_initiated_action_has_a_handler(version: str) -> None:
    missing = directions.STATION_INITIATED[version] - handlers(version)
    assert not missing, f"OCPP {version}: no handler for {sorted(missing)}"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_listed_action_has_a_request_schema(version: str) -> None:
    listed = directions.STATION_INITIATED[version] | directions.CSMS_INITIATED[version]
    without = sorted(a for a in listed if not has_request_schema(version, a))
    assert not without, f"OCPP {version}: no request schema for {without}"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_answered_action_has_a_response_schema(version: str) -> None:
    # Every CALL is answered with a CALLRESULT, so it has a response schema; a SEND has none.
    listed = (directions.STATION_INITIATED[version] | directions.CSMS_INITIATED[version]) \
        - directions.SEND_MESSAGES_21
    without = sorted(a for a in listed if not has_response_schema(version, a))
    assert not without, f"OCPP {version}: no response schema for {without}"
    for action in directions.SEND_MESSAGES_21 & directions.STATION_INITIATED[version]:
        assert not has_response_schema(version, action), action


@pytest.mark.parametrize("version", VERSIONS)
def test_no_csms_initiated_action_has_a_handler_except_data_transfer(version: str) -> None:
    routed = directions.CSMS_INITIATED[version] & handlers(version)
    assert routed == set(directions.BOTH_WAYS), f"OCPP {version}: {sorted(routed)}"


@pytest.mark.parametrize("version", VERSIONS)
def test_handlers_are_station_initiated_actions_only(version: str) -> None:
    extra = handlers(version) - directions.STATION_INITIATED[version]
    assert not extra, f"OCPP {version}: handlers for unlisted actions {sorted(extra)}"


@pytest.mark.parametrize("version", VERSIONS)
def test_the_lists_cover_every_action_of_the_version_once(version: str) -> None:
    # Each action with a schema is on exactly one side, DataTransfer on both: a schema added by a
    # new release of the `ocpp` package shows up here until it is placed.
    station = directions.STATION_INITIATED[version]
    csms = directions.CSMS_INITIATED[version]
    assert station & csms == directions.BOTH_WAYS
    assert station | csms == schemas.actions(version)


def test_2_1_extends_2_0_1_without_moving_a_message() -> None:
    assert directions.STATION_INITIATED_201 < directions.STATION_INITIATED_21
    assert directions.CSMS_INITIATED_201 < directions.CSMS_INITIATED_21
    assert not (directions.STATION_INITIATED_21 - directions.STATION_INITIATED_201) \
        & schemas.actions("2.0.1")
    assert not (directions.CSMS_INITIATED_21 - directions.CSMS_INITIATED_201) \
        & schemas.actions("2.0.1")


def test_2x_handler_tables_share_the_2_0_1_handlers() -> None:
    from volthub.ocpp.v201.adapter import HANDLERS_21, HANDLERS_201

    for action, handler in HANDLERS_201.items():
        assert HANDLERS_21[action] is handler, action
