"""One EMF record per request, built with Powertools' CloudWatch EMF provider.

Each record carries two dimension sets, ``[service]`` and ``[service, route]``,
so SLO queries read service-wide sums without metric math. Listeners receive
every record; the local stack uses one to call PutMetricData, since no
EMF agent turns log lines into metrics there.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, Iterable

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from chalicelib.observability.request_context import RequestFacts

EmfRecord = dict[str, Any]
RecordListener = Callable[[EmfRecord], None]

_listeners: list[RecordListener] = []


def add_record_listener(listener: RecordListener) -> None:
    _listeners.append(listener)


def remove_record_listener(listener: RecordListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def latency_metric_name(threshold_ms: int) -> str:
    return f"latency_good_{threshold_ms}ms"


def request_counts(status: int, latency_ms: float, facts: RequestFacts,
                   thresholds_ms: Iterable[int]) -> dict[str, int]:
    """The SLI event counts of one request. Client errors (4xx) are not valid events."""
    valid = not 400 <= status < 500
    server_error = status >= 500
    counts = {
        "requests": 1,
        "valid_requests": int(valid),
        "good_availability": int(valid and not server_error),
        "server_errors": int(server_error),
        "data_queries": facts.data_queries,
        "fresh_data_queries": facts.data_queries - facts.stale_data_queries,
    }
    for threshold in thresholds_ms:
        counts[latency_metric_name(threshold)] = int(valid and latency_ms < threshold)
    return counts


def build_request_record(*, namespace: str, service: str, route: str, status: int, latency_ms: float,
                         facts: RequestFacts, thresholds_ms: Iterable[int], correlation_id: str) -> EmfRecord:
    provider = AmazonCloudWatchEMFProvider(namespace=namespace, service=service)
    provider.add_dimensions(service=service, route=route)
    for name, value in request_counts(status, latency_ms, facts, thresholds_ms).items():
        provider.add_metric(name=name, unit="Count", value=value)
    provider.add_metric(name="latency_ms", unit="Milliseconds", value=round(latency_ms, 3))
    provider.add_metadata(key="correlation_id", value=correlation_id)
    provider.add_metadata(key="status", value=status)
    return provider.serialize_metric_set()


def emit(record: EmfRecord) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    for listener in list(_listeners):
        listener(record)
