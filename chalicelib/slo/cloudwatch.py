"""Reading per-minute Sums from CloudWatch with as few GetMetricData calls as possible."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Optional

from chalicelib.slo.sources import MetricRef
from chalicelib.slo.timeutil import MINUTE, floor_minute

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800

MinuteSums = dict[datetime, dict[MetricRef, float]]


class MetricReader:
    def __init__(self, cloudwatch: Any) -> None:
        self._cloudwatch = cloudwatch
        self.calls = 0

    def minute_sums(self, metrics: Iterable[MetricRef], start: datetime, end: datetime) -> MinuteSums:
        """{minute: {metric: Sum}} for minutes in [start, end) that have data."""
        refs = sorted(set(metrics))
        minutes = int((end - start) / MINUTE)
        result: MinuteSums = {}
        if not refs or minutes <= 0:
            return result
        per_call = max(1, min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // minutes))
        for offset in range(0, len(refs), per_call):
            batch = refs[offset:offset + per_call]
            by_id = {f"m{offset + index}": ref for index, ref in enumerate(batch)}
            queries = [{"Id": query_id, "ReturnData": True,
                        "MetricStat": {"Metric": ref.query_metric(), "Period": 60, "Stat": "Sum"}}
                       for query_id, ref in by_id.items()]
            next_token: Optional[str] = None
            while True:
                request: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end,
                                           "ScanBy": "TimestampAscending"}
                if next_token:
                    request["NextToken"] = next_token
                response = self._cloudwatch.get_metric_data(**request)
                self.calls += 1
                for series in response.get("MetricDataResults", []):
                    ref = by_id[series["Id"]]
                    for timestamp, value in zip(series.get("Timestamps", []), series.get("Values", [])):
                        minute = floor_minute(timestamp)
                        if start <= minute < end:
                            result.setdefault(minute, {})[ref] = float(value)
                next_token = response.get("NextToken")
                if not next_token:
                    break
        return result
