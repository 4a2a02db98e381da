"""Turns the app's EMF records into CloudWatch metrics, which AWS does from logs and moto does not.

As CloudWatch does with EMF, the values of one minute are stored as one statistic set
(SampleCount, Sum, Minimum, Maximum) per metric and dimension set, not one datum per
request: moto keeps every datum it is sent, so forwarding each request's values would make
GetMetricData and ListMetrics slower with every request served.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

log = logging.getLogger("devstack.metrics")
PUT_LIMIT = 1000  # PutMetricData entries per call

# (namespace, metric name, dimensions, unit, minute start in epoch seconds)
SeriesMinute = tuple[str, str, tuple[tuple[str, str], ...], str, int]


@dataclass
class StatisticSet:
    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)

    def merge(self, other: "StatisticSet") -> None:
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    def as_statistic_values(self) -> dict[str, float]:
        return {"SampleCount": float(self.count), "Sum": self.total, "Minimum": self.minimum,
                "Maximum": self.maximum}


def record_values(record: dict[str, Any]) -> list[tuple[SeriesMinute, float]]:
    """Every value of one EMF record, keyed by its series and minute, once per dimension set of each
    of its directives (as CloudWatch reads EMF)."""
    aws = record["_aws"]
    minute = int(aws["Timestamp"] // 1000) // 60 * 60
    values = []
    for directive in aws["CloudWatchMetrics"]:
        for dimension_names in directive["Dimensions"]:
            dimensions = tuple((name, str(record[name])) for name in dimension_names)
            for metric in directive["Metrics"]:
                raw = record[metric["Name"]]
                for single in raw if isinstance(raw, list) else [raw]:
                    values.append(((directive["Namespace"], metric["Name"], dimensions,
                                    metric.get("Unit") or "None", minute), float(single)))
    return values


def metric_datum(series: SeriesMinute, statistics: StatisticSet) -> dict[str, Any]:
    _, name, dimensions, unit, minute = series
    return {"MetricName": name, "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions],
            "StatisticValues": statistics.as_statistic_values(), "Unit": unit,
            "Timestamp": datetime.fromtimestamp(minute, tz=timezone.utc)}


class EmfForwarder:
    """Aggregates records per minute; every ``interval`` seconds sends the minutes that have ended.

    ``flush()`` sends everything, including the current minute (before a scheduled function
    runs, and for tests); later values of that minute then go out as a second statistic set,
    which CloudWatch sums with the first. A batch CloudWatch did not take (the embedded AWS
    restarting) goes back to the pending minutes and leaves with the next flush, as EMF log
    lines wait in CloudWatch Logs: the SLO figures see every request.
    """

    def __init__(self, cloudwatch: Any, interval: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        self._cloudwatch = cloudwatch
        self._interval = interval
        self._clock = clock
        self._pending: dict[SeriesMinute, StatisticSet] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0  # values forwarded
        self.datapoints = 0  # statistic sets sent

    def __call__(self, record: dict[str, Any]) -> None:
        values = record_values(record)
        with self._lock:
            for series, value in values:
                statistics = self._pending.get(series)
                if statistics is None:
                    statistics = self._pending[series] = StatisticSet()
                statistics.add(value)

    def flush(self, *, ended_minutes_only: bool = False) -> int:
        """Send pending statistic sets; returns how many values they summarize."""
        with self._send_lock:
            current_minute = int(self._clock()) // 60 * 60
            with self._lock:
                if ended_minutes_only:
                    due = {series: stats for series, stats in self._pending.items() if series[4] < current_minute}
                    for series in due:
                        del self._pending[series]
                else:
                    due, self._pending = self._pending, {}
            by_namespace: dict[str, list[tuple[SeriesMinute, dict[str, Any]]]] = {}
            for series, statistics in due.items():
                by_namespace.setdefault(series[0], []).append((series, metric_datum(series, statistics)))
            unsent = dict(due)
            try:
                for namespace, data in by_namespace.items():
                    for start in range(0, len(data), PUT_LIMIT):
                        batch = data[start:start + PUT_LIMIT]
                        self._cloudwatch.put_metric_data(Namespace=namespace, MetricData=[entry for _, entry in batch])
                        for series, _ in batch:
                            del unsent[series]
            except Exception:
                self._put_back(unsent)
                raise
            values = sum(statistics.count for statistics in due.values())
            self.sent += values
            self.datapoints += len(due)
            return values

    def _put_back(self, unsent: dict[SeriesMinute, StatisticSet]) -> None:
        with self._lock:
            for series, statistics in unsent.items():
                pending = self._pending.get(series)
                if pending is None:
                    self._pending[series] = statistics
                else:
                    pending.merge(statistics)

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self._interval):
                try:
                    self.flush(ended_minutes_only=True)
                except Exception as exc:  # kept for the next flush (see the class docstring)
                    log.warning("PutMetricData failed (%s); the values are sent with the next flush",
                                type(exc).__name__)

        self._thread = threading.Thread(target=loop, name="devstack-emf", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
