"""Metric sources: where the per-minute counts of an SLI come from.

A source names the CloudWatch metrics it needs (``metrics``) and turns their per-minute
Sums into one count (``count``). The evaluator reads the metrics of every SLO in one
batched GetMetricData. Adding a source is adding one class to ``SOURCE_TYPES``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Optional

from chalicelib.settings import Settings

_LATENCY_METRIC = re.compile(r"^latency_good_([0-9]+)ms$")
_METRIC_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_.:/#-]{1,255}$"}


@dataclass(frozen=True, order=True)
class MetricRef:
    """One CloudWatch metric (read as per-minute Sum)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    def query_metric(self) -> dict[str, Any]:
        return {"Namespace": self.namespace, "MetricName": self.name,
                "Dimensions": [{"Name": key, "Value": value} for key, value in self.dimensions]}


class MetricSource:
    type_name: ClassVar[str]
    spec_schema: ClassVar[dict[str, Any]]

    def __init__(self, spec: Mapping[str, Any], settings: Settings) -> None:
        self.spec = dict(spec)
        self.settings = settings

    def is_configured(self) -> bool:
        """False when this environment has no such metrics (e.g. no API Gateway locally)."""
        return True

    def problem(self) -> Optional[str]:
        """Why this source can never have data with these settings, if it cannot."""
        return None

    def metrics(self) -> tuple[MetricRef, ...]:
        raise NotImplementedError

    def count(self, sums: Mapping[MetricRef, float]) -> Optional[float]:
        """The count of one minute from that minute's Sums; None when no metric had data."""
        values = [sums[ref] for ref in self.metrics() if ref in sums]
        return sum(values) if values else None

    def describe(self) -> dict[str, Any]:
        return {"type": self.type_name, "spec": self.spec}


class AppCounters(MetricSource):
    """A service-level counter the request middleware or the probe emits (dimension ``service``)."""

    type_name = "AppCounters"
    spec_schema = {"type": "object", "required": ["metric"], "properties": {"metric": _METRIC_NAME},
                   "additionalProperties": False}

    def problem(self) -> Optional[str]:
        match = _LATENCY_METRIC.match(self.spec["metric"])
        if match and int(match.group(1)) not in self.settings.service.latency_thresholds_ms:
            return (f"the middleware counts {self.spec['metric']} only if LATENCY_THRESHOLDS_MS includes "
                    f"{match.group(1)} (now {','.join(map(str, self.settings.service.latency_thresholds_ms))})")
        return None

    def metrics(self) -> tuple[MetricRef, ...]:
        return (MetricRef(self.settings.service.metrics_namespace, self.spec["metric"],
                          (("service", self.settings.service.service_name),)),)


class ApiGateway(MetricSource):
    """What API Gateway counted for the stage, including throttles, timeouts and crashes, less the
    requests the SLIs leave out (the SRE plane: the stage's metrics cover every route, and the app
    counts those it left out as the gateway does, ``metrics.excluded_counts``).

    ``events: valid`` is Count - 4XXError - excluded_valid_requests; ``server_errors`` is
    5XXError - excluded_server_errors; ``good`` is valid - server_errors.
    """

    type_name = "ApiGateway"
    spec_schema = {"type": "object", "required": ["events"],
                   "properties": {"events": {"enum": ["valid", "good", "server_errors"]}},
                   "additionalProperties": False}

    def is_configured(self) -> bool:
        return bool(self.settings.slo.api_gateway_name)

    def _ref(self, name: str) -> MetricRef:
        return MetricRef("AWS/ApiGateway", name, (("ApiName", self.settings.slo.api_gateway_name),
                                                   ("Stage", self.settings.slo.api_gateway_stage)))

    def metrics(self) -> tuple[MetricRef, ...]:
        return (self._ref("Count"), self._ref("4XXError"), self._ref("5XXError"),
                *service_counter(self.settings, "excluded_valid_requests").metrics(),
                *service_counter(self.settings, "excluded_server_errors").metrics())

    def count(self, sums: Mapping[MetricRef, float]) -> Optional[float]:
        count_ref, client_ref, server_ref, excluded_valid_ref, excluded_server_ref = self.metrics()
        if count_ref not in sums:
            return None
        # Never below zero: a minute's requests and the app's records of them may straddle a minute's end.
        server_errors = max(0.0, sums.get(server_ref, 0.0) - sums.get(excluded_server_ref, 0.0))
        events = self.spec["events"]
        if events == "server_errors":
            return server_errors
        valid = max(0.0, sums[count_ref] - sums.get(client_ref, 0.0) - sums.get(excluded_valid_ref, 0.0))
        return valid if events == "valid" else max(0.0, valid - server_errors)


class CloudWatchMetric(MetricSource):
    """Any CloudWatch metric, in OpenSLO's CloudWatch metricSource spec shape."""

    type_name = "CloudWatch"
    spec_schema = {
        "type": "object",
        "required": ["namespace", "metricName"],
        "properties": {
            "namespace": {"type": "string", "minLength": 1, "maxLength": 255},
            "metricName": _METRIC_NAME,
            "stat": {"const": "Sum"},
            "region": {"type": "string"},
            "dimensions": {"type": "array", "maxItems": 30, "items": {
                "type": "object", "required": ["name", "value"],
                "properties": {"name": {"type": "string", "minLength": 1}, "value": {"type": "string"}},
                "additionalProperties": False}},
        },
        "additionalProperties": False,
    }

    def metrics(self) -> tuple[MetricRef, ...]:
        dimensions = tuple(sorted((item["name"], item["value"]) for item in self.spec.get("dimensions", [])))
        return (MetricRef(self.spec["namespace"], self.spec["metricName"], dimensions),)


SOURCE_TYPES: dict[str, type[MetricSource]] = {
    cls.type_name: cls for cls in (AppCounters, ApiGateway, CloudWatchMetric)}


def service_counter(settings: Settings, metric: str) -> AppCounters:
    return AppCounters({"metric": metric}, settings)
