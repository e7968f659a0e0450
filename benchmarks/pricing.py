"""Cost-engine throughput: sessions priced per second, and the cost of one CDR-sized session.

    python benchmarks/pricing.py [--sessions 200] [--readings-per-session 240]

Prices sessions of the spec's complex tariff (tariff_4: FLAT, three TIME elements with current
and weekday restrictions, two time-of-day PARKING_TIME elements) with one meter reading per
minute, on a Europe/Amsterdam location; prints sessions/s and the periods per session.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from volthub.domain.tariffs import Tariff
from volthub.pricing.engine import price_session
from volthub.pricing.timeline import ChargeState, SessionTimeline, TimelinePoint

EXAMPLES = Path(__file__).resolve().parents[2] / "shared/specs/ocpi-2.2.1/examples"


def session(readings: int, start: datetime) -> SessionTimeline:
    points = []
    for i in range(readings):
        state = ChargeState.CHARGING if i < readings * 3 // 4 else ChargeState.PARKING
        energy = Decimal(min(i, readings * 3 // 4) * 183)  # 11 kW for 1 minute ≈ 183 Wh
        current = Decimal(16 if i % 60 < 40 else 48) if state is ChargeState.CHARGING else None
        points.append(TimelinePoint(start + timedelta(minutes=i), energy, state, current))
    return SessionTimeline(tuple(points), start + timedelta(minutes=readings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--readings-per-session", type=int, default=240)
    args = parser.parse_args()
    tariff = Tariff.model_validate(json.loads((EXAMPLES / "tariff_4_complex.json").read_text()))
    zone = ZoneInfo("Europe/Amsterdam")
    start = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday afternoon into the evening
    timelines = [session(args.readings_per_session, start + timedelta(hours=i % 72))
                 for i in range(args.sessions)]
    durations = []
    periods = []
    began = time.perf_counter()
    for timeline in timelines:
        t0 = time.perf_counter()
        cost = price_session(tariff, timeline, zone)
        durations.append(time.perf_counter() - t0)
        periods.append(len(cost.periods))
    elapsed = time.perf_counter() - began
    print(f"sessions priced:      {args.sessions} x {args.readings_per_session} readings")
    print(f"throughput:           {args.sessions / elapsed:,.1f} sessions/s (one core)")
    print(f"per session p50/p99:  {statistics.median(durations) * 1000:.1f} / "
          f"{sorted(durations)[int(len(durations) * 0.99) - 1] * 1000:.1f} ms")
    print(f"charging periods:     {statistics.mean(periods):.1f} per session on average")


if __name__ == "__main__":
    main()
