"""Turns the app's EMF records into CloudWatch metrics, which AWS does from logs and moto does not."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger("devstack.metrics")
PUT_LIMIT = 1000


def metric_data(record: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The namespace and the PutMetricData entries of one EMF record, one per metric and dimension set."""
    aws = record["_aws"]
    timestamp = datetime.fromtimestamp(aws["Timestamp"] / 1000, tz=timezone.utc)
    data = []
    directive = aws["CloudWatchMetrics"][0]
    for dimension_names in directive["Dimensions"]:
        dimensions = [{"Name": name, "Value": str(record[name])} for name in dimension_names]
        for metric in directive["Metrics"]:
            value = record[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            for single in values:
                data.append({"MetricName": metric["Name"], "Dimensions": dimensions, "Value": float(single),
                             "Unit": metric.get("Unit") or "None", "Timestamp": timestamp})
    return directive["Namespace"], data


class EmfForwarder:
    """Buffers records and sends them with PutMetricData every ``interval`` seconds (and on ``flush``)."""

    def __init__(self, cloudwatch: Any, interval: float = 1.0) -> None:
        self._cloudwatch = cloudwatch
        self._interval = interval
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def __call__(self, record: dict[str, Any]) -> None:
        namespace, data = metric_data(record)
        with self._lock:
            self._pending.setdefault(namespace, []).extend(data)

    def flush(self) -> int:
        with self._send_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            count = 0
            for namespace, data in pending.items():
                for start in range(0, len(data), PUT_LIMIT):
                    self._cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + PUT_LIMIT])
                    count += len(data[start:start + PUT_LIMIT])
            self.sent += count
            return count

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self._interval):
                try:
                    self.flush()
                except Exception:  # keep forwarding; a lost batch shows up as a gap in the SLO figures
                    log.exception("PutMetricData failed")

        self._thread = threading.Thread(target=loop, name="devstack-emf", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
