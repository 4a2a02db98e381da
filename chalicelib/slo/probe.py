"""The synthetic probe behind the availability SLO: GET the health URL, count the outcome.

It records ``probe_total`` and ``probe_success`` (Count, dimension ``service``) with
PutMetricData, which works the same deployed and on the local stack.
"""
from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional

from chalicelib.slo.timeutil import iso, utc_now


@dataclass(frozen=True)
class ProbeResult:
    url: str
    success: bool
    status: Optional[int]
    latency_ms: float
    error: Optional[str]
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "success": self.success, "status": self.status,
                "latency_ms": round(self.latency_ms, 1), "error": self.error, "at": iso(self.at)}


def http_get_status(url: str, timeout: float) -> int:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):  # urlopen would also read file: and ftp:
        raise ValueError(f"the probe URL must be http or https, not {url!r}")
    request = urllib.request.Request(url, headers={"User-Agent": "serverless-sre-health-probe",
                                                   "X-Synthetic-Probe": "true"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310 - scheme checked above
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class HealthProbe:
    def __init__(self, url: str, *, cloudwatch: Any, namespace: str, service: str, timeout_seconds: float,
                 get_status: Callable[[str, float], int] = http_get_status,
                 clock: Callable[[], datetime] = utc_now, timer: Callable[[], float] = time.perf_counter) -> None:
        self.url = url
        self.timeout = timeout_seconds
        self.namespace, self.service = namespace, service
        self._cloudwatch = cloudwatch
        self._get_status, self._clock, self._timer = get_status, clock, timer

    def probe(self) -> ProbeResult:
        if not self.url:
            raise ValueError("PROBE_URL is not set: the health probe has nothing to probe")
        at = self._clock()
        started = self._timer()
        status: Optional[int] = None
        error: Optional[str] = None
        try:
            status = self._get_status(self.url, self.timeout)
        except (OSError, ValueError) as exc:  # refused, DNS, timeout, bad URL: all a failed probe
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = (self._timer() - started) * 1000
        result = ProbeResult(self.url, status == 200, status, latency_ms, error, at)
        self.record(result)
        return result

    def record(self, result: ProbeResult) -> None:
        dimensions = [{"Name": "service", "Value": self.service}]
        self._cloudwatch.put_metric_data(Namespace=self.namespace, MetricData=[
            {"MetricName": "probe_total", "Dimensions": dimensions, "Value": 1, "Unit": "Count",
             "Timestamp": result.at},
            {"MetricName": "probe_success", "Dimensions": dimensions, "Value": int(result.success), "Unit": "Count",
             "Timestamp": result.at},
            {"MetricName": "probe_latency_ms", "Dimensions": dimensions, "Value": result.latency_ms,
             "Unit": "Milliseconds", "Timestamp": result.at},
        ])
