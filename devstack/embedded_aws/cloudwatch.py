"""CloudWatch metrics in the embedded AWS: GetMetricData and ListMetrics that read only what they
answer, datapoint for datapoint as moto answers."""
from __future__ import annotations

import threading
from typing import Any

class MetricIndex:
    """moto's stored datapoints (``CloudWatchBackend.metric_data``, a list it only appends to), also
    kept per metric name in time order and once per distinct metric; brought up to date from moto's
    list on each read, under a lock (the server's threads read at once)."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self.seen = 0
        self.by_name: dict[str, list[tuple[Any, int, Any]]] = {}
        self.distinct: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def of(cls, backend: Any) -> "MetricIndex":
        import bisect

        with cls._lock:
            stored = backend.metric_data
            index = backend.__dict__.get("_metric_index")
            if index is None or index.seen > len(stored):
                index = backend._metric_index = cls()
            for sequence in range(index.seen, len(stored)):
                datum = stored[sequence]
                bisect.insort(index.by_name.setdefault(datum.name, []), (datum.timestamp, sequence, datum))
                index.distinct.setdefault(metric_identity(datum), datum)
            index.seen = len(stored)
            return index


def metric_identity(datum: Any) -> tuple[Any, ...]:
    return (datum.namespace, datum.name, frozenset((dimension.name, dimension.value) for dimension in datum.dimensions))


def find_metric_data_by_name_and_time() -> None:
    """moto's GetMetricData lists every stored datapoint, then for each period of each query scans
    all those in the time range again: an SLO evaluator run read 25 hours of one-minute periods in
    ~7 s, and over a day of traffic each run grew with the datapoints stored. Here a query takes its
    metric's time range from ``MetricIndex`` by bisection, matches the same way moto does, and puts
    each match in its period once. Answers are moto's, datapoint for datapoint and in its order
    (tests/unit/devstack compare them); Metrics Insights queries go to moto's own code."""
    import bisect
    from datetime import timedelta

    from moto.cloudwatch import models as cloudwatch

    original = cloudwatch.CloudWatchBackend.get_metric_data

    def matches(index: MetricIndex, provided: list[Any], start: Any, end: Any, namespace: str, name: str,
                dimensions: list[Any], unit: Any) -> list[Any]:
        """``provided``: the datapoints moto's metric providers compute on each read, placed after
        the stored ones as moto places them."""
        points = index.by_name.get(name, [])
        low = bisect.bisect_left(points, (start, -1))
        high = bisect.bisect_left(points, (end, -1))
        in_range = [datum for _, _, datum in sorted(points[low:high], key=lambda point: point[1])]
        in_range += [datum for datum in provided if datum.name == name and start <= datum.timestamp < end]
        if dimensions:  # moto ignores the namespace of a query with dimensions
            found = [datum for datum in in_range if sorted(datum.dimensions) == sorted(dimensions)]
        else:
            found = [datum for datum in in_range if datum.namespace == namespace]
        return [datum for datum in found if datum.unit == unit] if unit else found

    def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: Any, end_time: Any,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        if any(query.get("Expression", "").startswith("SELECT") for query in queries):
            return original(self, queries, start_time, end_time, scan_by)
        start_time, end_time = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        if start_time >= end_time:
            return original(self, [], start_time, end_time, scan_by)  # moto's own refusal
        index, provided = MetricIndex.of(self), self.aws_metric_data
        results, results_to_return = [], []
        for query in [query for query in queries if "MetricStat" in query]:
            stat_query, metric = query["MetricStat"], query["MetricStat"]["Metric"]
            delta = timedelta(seconds=int(stat_query["Period"]))
            dimensions = [cloudwatch.Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", [])]
            periods: dict[int, list[Any]] = {}
            for datum in matches(index, provided, start_time, end_time, metric["Namespace"], metric["MetricName"],
                                 dimensions, stat_query.get("Unit")):
                periods.setdefault((datum.timestamp - start_time) // delta, []).append(datum)
            values, timestamps = [], []
            for number in sorted(periods):
                statistics = cloudwatch.Statistics([stat_query["Stat"]], start_time + number * delta)
                statistics.metric_data = periods[number]
                values.append(statistics.get_statistics_for_type(stat_query["Stat"]))
                timestamps.append(statistics.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                timestamps.reverse()
            result = {"id": query["Id"], "label": query.get("Label") or f"{metric['MetricName']} {stat_query['Stat']}",
                      "values": values, "timestamps": timestamps, "status_code": "Complete"}
            results.append(result)
            if query.get("ReturnData", True):
                results_to_return.append(dict(result))
        for query in [query for query in queries if "Expression" in query]:
            values, timestamps = cloudwatch.parse_expression(query["Expression"], results)
            results_to_return.append({"id": query["Id"], "label": query.get("Label") or query["Id"],
                                      "values": values, "timestamps": timestamps, "status_code": "Complete"})
        return results_to_return

    cloudwatch.CloudWatchBackend.get_metric_data = get_metric_data


def list_each_metric_once() -> None:
    """ListMetrics answers each metric (namespace, name, dimensions) once, as CloudWatch does. moto
    means to, but its duplicate check compares every dimension of one datapoint with every
    dimension of the other, so a metric with two different dimensions is listed once per datapoint,
    each call compares each datapoint with all those listed before it (quadratic in the datapoints
    stored: the dashboard lists its routes this way, 0.11 s after an hour of five routes' metrics,
    0.44 s after four, 3 ms here), and the pages past the first are kept, never read, per call.
    Here the metrics come from ``MetricIndex``, filtered by moto's own ``filter``."""
    from moto.cloudwatch import models as cloudwatch

    def get_filtered_metrics(self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]) -> list[Any]:
        found, identities = [], set()
        for datum in [*MetricIndex.of(self).distinct.values(), *self.aws_metric_data]:
            identity = metric_identity(datum)
            if identity not in identities and datum.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
                identities.add(identity)
                found.append(datum)
        return found

    cloudwatch.CloudWatchBackend.get_filtered_metrics = get_filtered_metrics
