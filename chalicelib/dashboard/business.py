"""Business figures from the service's own metrics: users registered per window, API calls per route.

Both come from CloudWatch, where the middleware and the users service count them: one
``ListMetrics`` call (which routes have a ``requests`` series), then one ``GetMetricData``
call per window for all of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from chalicelib.slo.timeutil import utc_now
from chalicelib.users.events import USERS_REGISTERED

WINDOWS: Mapping[str, timedelta] = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
MAX_ROUTES = 200  # GetMetricData takes 500 queries per call; the app has far fewer routes


@dataclass(frozen=True)
class BusinessFigures:
    users_registered: Mapping[str, int]
    api_calls: Mapping[str, Mapping[str, int]]  # route -> window -> calls
    reads: int

    def to_json(self) -> dict[str, Any]:
        routes = sorted(self.api_calls.items(), key=lambda item: (-item[1].get("24h", 0), item[0]))
        return {"windows": list(WINDOWS), "users_registered": dict(self.users_registered),
                "api_calls": [{"route": route, **calls} for route, calls in routes]}


class CloudWatchBusinessFigures:
    def __init__(self, cloudwatch: Any, *, namespace: str, service: str,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._cloudwatch = cloudwatch
        self._namespace = namespace
        self._service = service
        self._clock = clock

    def _routes(self) -> list[str]:
        response = self._cloudwatch.list_metrics(
            Namespace=self._namespace, MetricName="requests",
            Dimensions=[{"Name": "service", "Value": self._service}, {"Name": "route"}])
        routes = {dimension["Value"] for metric in response.get("Metrics", [])
                  for dimension in metric.get("Dimensions", []) if dimension["Name"] == "route"}
        return sorted(routes)[:MAX_ROUTES]

    def read(self) -> BusinessFigures:
        routes = self._routes()
        service = [{"Name": "service", "Value": self._service}]
        series = {"users": {"Namespace": self._namespace, "MetricName": USERS_REGISTERED, "Dimensions": service}}
        for index, route in enumerate(routes):
            series[f"r{index}"] = {"Namespace": self._namespace, "MetricName": "requests",
                                   "Dimensions": service + [{"Name": "route", "Value": route}]}
        end = self._clock()
        totals: dict[str, dict[str, int]] = {key: {} for key in series}
        # One call per window, its period the whole window: one datapoint per series, exact bounds.
        for window, length in WINDOWS.items():
            seconds = int(length.total_seconds())
            queries = [{"Id": key, "ReturnData": True,
                        "MetricStat": {"Metric": metric, "Period": seconds, "Stat": "Sum"}}
                       for key, metric in series.items()]
            response = self._cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=end - length,
                                                        EndTime=end)
            for result in response.get("MetricDataResults", []):
                totals[result["Id"]][window] = int(sum(result.get("Values", [])))
        filled = {key: {window: counts.get(window, 0) for window in WINDOWS} for key, counts in totals.items()}
        return BusinessFigures(users_registered=filled["users"],
                               api_calls={route: filled[f"r{index}"] for index, route in enumerate(routes)},
                               reads=1 + len(WINDOWS))
