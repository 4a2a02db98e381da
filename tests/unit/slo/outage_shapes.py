"""Recorded minute series of outage shapes, and a harness that replays them through the evaluator.

A shape is a day of steady traffic (the history every budget needs) followed by minutes
described as segments: how many minutes, the valid requests per minute, how many of them
failed (5xx) and whether the availability probe succeeded. ``minutes()`` expands it into the
per-minute service counters the request path and the probe record.

``ReplayedMetrics`` is the evaluator's metric-reader port over such a recording (the same
``minute_sums`` answer CloudWatch gives, without re-reading thousands of moto datapoints on
every one of hundreds of runs). Everything after it is real: the evaluator, its DynamoDB
stores, the incident service and tickets in moto, one clock for all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional

from chalicelib.slo.sources import MetricRef
from chalicelib.slo.timeutil import MINUTE

RATE = 600  # valid requests per minute (10/s)
HISTORY = timedelta(days=1)


@dataclass(frozen=True)
class Segment:
    minutes: int
    failed: int = 0  # 5xx per minute, of RATE
    probe_ok: bool = True


@dataclass(frozen=True)
class Shape:
    name: str
    segments: tuple[Segment, ...]
    watch_minutes: int  # how long after the shape starts the evaluator keeps running each minute

    def minutes(self, start: datetime) -> dict[datetime, dict[str, int]]:
        """Counters per minute from ``start - HISTORY`` to the end of the watch."""
        series = {}
        moment = start - HISTORY
        plan = [Segment(int(HISTORY / MINUTE))] + list(self.segments)
        shaped = sum(segment.minutes for segment in self.segments)
        plan.append(Segment(max(0, self.watch_minutes - shaped)))
        for segment in plan:
            for _ in range(segment.minutes):
                good = RATE - segment.failed
                series[moment] = {"requests": RATE, "valid_requests": RATE, "good_availability": good,
                                  "server_errors": segment.failed, "latency_good_200ms": RATE,
                                  "data_queries": RATE // 2, "fresh_data_queries": RATE // 2,
                                  "probe_total": 1, "probe_success": int(segment.probe_ok)}
                moment += MINUTE
        return series


def flapping(cycles: int, bad_minutes: int, good_minutes: int, failed: int) -> tuple[Segment, ...]:
    return tuple(segment for _ in range(cycles)
                 for segment in (Segment(bad_minutes, failed=failed), Segment(good_minutes)))


SHAPES = {
    # 40 seconds of every request failing inside one minute; the probe (at :00) still succeeded.
    "40-second spike": Shape("40-second spike", (Segment(1, failed=RATE * 40 // 60),), watch_minutes=30),
    # Every request and every probe fails for 20 minutes.
    "20-minute full outage": Shape("20-minute full outage", (Segment(20, failed=RATE, probe_ok=False),),
                                   watch_minutes=60),
    # 2% of requests fail for six hours.
    "slow 2% leak over six hours": Shape("slow 2% leak over six hours", (Segment(360, failed=RATE // 50),),
                                         watch_minutes=375),
    # A dependency failing half the requests for 4 minutes, then fine for 6, five times over.
    "flapping dependency": Shape("flapping dependency", flapping(5, 4, 6, RATE // 2), watch_minutes=80),
}


class ReplayedMetrics:
    """The evaluator's metric reader over a recorded series (port of ``MetricReader``)."""

    def __init__(self, series: dict[datetime, dict[str, int]]) -> None:
        self.series = series
        self.calls = 0
        self.now: Optional[datetime] = None  # minutes at or after it have not happened yet

    def minute_sums(self, metrics: Iterable[MetricRef], start: datetime, end: datetime) -> dict[datetime, Any]:
        self.calls += 1
        refs = list(metrics)
        sums = {}
        moment = start
        while moment < end and (self.now is None or moment < self.now):
            counts = self.series.get(moment)
            if counts is not None:
                sums[moment] = {ref: float(counts[ref.name]) for ref in refs if ref.name in counts}
            moment += MINUTE
        return sums
