"""`volthub simulate`: option checks, and a short run against a small CSMS."""

from __future__ import annotations

import argparse

import pytest

from volthub.simulator.runner import _simulate, add_simulate_arguments, run_simulate

from .fake_csms import FakeCsms
from .fake_csms2 import FakeCsms2


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_follow_the_documented_options() -> None:
    args = parse()
    assert (args.url, args.stations, args.protocol, args.id_prefix) == (
        "ws://127.0.0.1:8000/ocpp",
        1,
        "1.6",
        "SIM",
    )
    assert (args.connectors, args.id_tag, args.meter_interval, args.time_scale, args.ramp) == (
        1,
        "SIMTAG",
        10,
        1.0,
        50.0,
    )
    assert args.duration is None and args.sessions is None and args.password is None


def test_unknown_protocols_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--protocol", "2.0")
    assert "invalid choice" in capsys.readouterr().err


def test_outages_need_2x(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulate(parse("--offline-every", "10")) == 2
    assert run_simulate(parse("--protocol", "2.0.1", "--offline-every", "0")) == 2
    assert "--offline-every" in capsys.readouterr().err


def test_nonsense_counts_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulate(parse("--stations", "0")) == 2
    assert run_simulate(parse("--time-scale", "0")) == 2
    assert "must" in capsys.readouterr().err


async def test_stations_run_their_sessions_and_the_summary_adds_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    csms = FakeCsms()
    url = await csms.start()
    try:
        args = parse(
            "--url",
            url,
            "--stations",
            "3",
            "--connectors",
            "2",
            "--sessions",
            "1",
            "--time-scale",
            "20000",
            "--meter-interval",
            "1",
            "--seed",
            "4",
            "--quiet",
        )
        code = await _simulate(args)
    finally:
        await csms.stop()
    out = capsys.readouterr().out
    assert code == 0
    assert len(csms.calls("StartTransaction")) == 6
    assert len(csms.calls("StopTransaction")) == 6
    assert {p["chargePointSerialNumber"] for p in csms.calls("BootNotification")} == {
        "SIM-0001",
        "SIM-0002",
        "SIM-0003",
    }
    assert "sessions completed     6 (0 were active at the end and stopped)" in out
    assert "booted at the end      3" in out


@pytest.mark.parametrize("protocol", ["2.0.1", "2.1"])
async def test_2x_stations_run_their_sessions_and_the_summary_adds_up(
    protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csms = FakeCsms2()
    url = await csms.start()
    try:
        args = parse(
            "--url",
            url,
            "--protocol",
            protocol,
            "--stations",
            "3",
            "--connectors",
            "2",
            "--sessions",
            "1",
            "--time-scale",
            "20000",
            "--meter-interval",
            "1",
            "--seed",
            "4",
            "--quiet",
        )
        code = await _simulate(args)
    finally:
        await csms.stop()
    out = capsys.readouterr().out
    assert code == 0
    events = csms.calls("TransactionEvent")
    started = [e for e in events if e["eventType"] == "Started"]
    ended = [e for e in events if e["eventType"] == "Ended"]
    assert len(started) == 6 and len(ended) == 6
    assert {e["transactionInfo"]["transactionId"] for e in started} == {
        e["transactionInfo"]["transactionId"] for e in ended
    }
    assert {p["chargingStation"]["serialNumber"] for p in csms.calls("BootNotification")} == {
        "SIM-0001",
        "SIM-0002",
        "SIM-0003",
    }
    assert {csms.sockets[s].subprotocol for s in csms.sockets} == {f"ocpp{protocol}"}
    assert "sessions completed     6 (0 were active at the end and stopped)" in out
    assert "booted at the end      3" in out


async def test_offline_every_replays_the_queued_events(capsys: pytest.CaptureFixture[str]) -> None:
    csms = FakeCsms2()
    url = await csms.start()
    try:
        args = parse(
            "--url",
            url,
            "--protocol",
            "2.0.1",
            "--stations",
            "2",
            "--duration",
            "3",
            "--time-scale",
            "200",
            "--meter-interval",
            "1",
            "--offline-every",
            "1",
            "--offline-for",
            "0.5",
            "--seed",
            "9",
            "--quiet",
        )
        code = await _simulate(args)
    finally:
        await csms.stop()
    assert code == 0
    assert len(csms.connections) > 2  # the stations came back after outages
    events = csms.calls("TransactionEvent")
    by_transaction: dict[str, list[int]] = {}
    for event in events:
        by_transaction.setdefault(event["transactionInfo"]["transactionId"], []).append(event["seqNo"])
    for seq_nos in by_transaction.values():
        assert seq_nos == sorted(seq_nos)  # replayed in order
    assert len(csms.calls("BootNotification")) == 2  # outages reconnect, they do not reboot
