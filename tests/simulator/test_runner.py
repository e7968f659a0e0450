"""`volthub simulate`: option checks, and a short run against a small CSMS."""

from __future__ import annotations

import argparse

import pytest

from volthub.simulator.runner import _simulate, add_simulate_arguments, run_simulate

from .fake_csms import FakeCsms


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


@pytest.mark.parametrize("protocol", ["2.0.1", "2.1"])
def test_protocols_2x_exit_with_not_yet_supported(protocol: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulate(parse("--protocol", protocol)) == 2
    assert "not yet supported" in capsys.readouterr().err


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
