"""One EMF record per request, built with Powertools' CloudWatch EMF provider.

Each record carries two dimension sets, ``[service]`` and ``[service, route]``,
so SLO queries read service-wide sums without metric math. A request the SLIs
leave out (the SRE plane) also counts, service-wide only, as API Gateway counts
it (``excluded_counts``): the deployed success SLI subtracts these from the
gateway's figures, which cover every route. Listeners receive
every record; the local stack uses one to call PutMetricData, since no
EMF agent turns log lines into metrics there.
"""
from __future__ import annotations

import json
import sys
import time
from functools import lru_cache
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
                   thresholds_ms: Iterable[int], cold_start: bool = False) -> dict[str, int]:
    """The SLI event counts of one request. Client errors (4xx) are not valid events, nor is
    a request excluded from the SLIs (the local stack's own routes).

    ``cold_starts``/``slow_cold_starts``: the first request of a process, and whether it was also
    slow for the tightest latency threshold; capacity planning reads the cold-start share of slow
    requests from them (provisioned concurrency)."""
    thresholds_ms = tuple(thresholds_ms)
    valid = not 400 <= status < 500 and not facts.excluded_from_sli
    server_error = status >= 500 and not facts.excluded_from_sli
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
    counts["cold_starts"] = int(cold_start)
    counts["slow_cold_starts"] = int(cold_start and valid and bool(thresholds_ms) and latency_ms >= min(thresholds_ms))
    return counts


def excluded_counts(status: int) -> dict[str, int]:
    """Of a request left out of the SLIs, what API Gateway's stage metrics count: not a 4xx, a 5xx."""
    return {"excluded_valid_requests": int(not 400 <= status < 500), "excluded_server_errors": int(status >= 500)}


@lru_cache(maxsize=4)
def _excluded_directive(namespace: str) -> dict[str, Any]:
    """Service-wide only: a metric series per route of the SRE plane would be paid for and never read."""
    return {"Namespace": namespace, "Dimensions": [["service"]],
            "Metrics": [{"Name": name, "Unit": "Count"} for name in excluded_counts(200)]}


@lru_cache(maxsize=256)
def _record_template(namespace: str, service: str, route: str, metric_names: tuple[str, ...]) -> EmfRecord:
    """Powertools builds and validates the record's shape once per route; requests only fill in values."""
    provider = AmazonCloudWatchEMFProvider(namespace=namespace, service=service)
    provider.add_dimensions(service=service, route=route)
    for name in metric_names:
        provider.add_metric(name=name, unit="Count", value=0)
    provider.add_metric(name="latency_ms", unit="Milliseconds", value=0)
    return provider.serialize_metric_set()


def build_request_record(*, namespace: str, service: str, route: str, status: int, latency_ms: float,
                         facts: RequestFacts, thresholds_ms: Iterable[int], correlation_id: str,
                         method: str = "", cold_start: bool = False) -> EmfRecord:
    counts = request_counts(status, latency_ms, facts, thresholds_ms, cold_start)
    template = _record_template(namespace, service, route, tuple(counts))
    record = dict(template)
    record["_aws"] = {**template["_aws"], "Timestamp": int(time.time() * 1000)}
    for name, value in counts.items():
        record[name] = [float(value)]
    record["latency_ms"] = [round(latency_ms, 3)]
    if facts.excluded_from_sli:
        record["_aws"]["CloudWatchMetrics"] = [*template["_aws"]["CloudWatchMetrics"], _excluded_directive(namespace)]
        for name, value in excluded_counts(status).items():
            record[name] = [float(value)]
    # The record is also the access log line: CloudWatch Logs keeps these fields searchable.
    record.update(correlation_id=correlation_id, status=status, method=method)
    if facts.chaos_experiment:
        # A property, not a dimension: searchable in the logs without a metric series per experiment.
        record["chaos_experiment"] = facts.chaos_experiment
    return record


def emit(record: EmfRecord) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    for listener in list(_listeners):
        listener(record)


class Counters:
    """Count metrics outside requests (breaker transitions, webhook deliveries), as EMF records."""

    def __init__(self, namespace: str, service: str) -> None:
        self.namespace = namespace
        self.service = service

    def count(self, name: str, dimensions: dict[str, str], value: float = 1) -> None:
        provider = AmazonCloudWatchEMFProvider(namespace=self.namespace, service=self.service)
        if dimensions:  # the provider already records [service]; a second [service] set would count twice
            provider.add_dimensions(service=self.service, **dict(dimensions))
        provider.add_metric(name=name, unit="Count", value=value)
        emit(provider.serialize_metric_set())
