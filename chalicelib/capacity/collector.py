"""Collects utilization per hour and per day from CloudWatch, with the limits each figure meets.

Deployed, the figures come from AWS/Lambda, AWS/DynamoDB, AWS/ECS and AWS/ApplicationELB, and
the limits from the Lambda, DynamoDB, ECS and Application Auto Scaling APIs. On the local
stack, devstack publishes the Lambda-style figures it can measure for its own invocations
under the same names (Invocations, Duration, ConcurrentExecutions), so this same code reads
them; every other figure is reported as "not available locally".

A day's value is the peak of its hours (the busiest hour's requests, the highest concurrency):
capacity is about peaks, and the forecasts run over these daily peaks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Optional

from chalicelib.capacity.records import NOT_AVAILABLE_LOCALLY, Limit, Series, UtilizationReport
from chalicelib.slo.timeutil import DAY, HOUR, floor_day, floor_hour, utc_now

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
# AWS's default per-table on-demand quota (read and write request units per second) when the
# table sets no maximum of its own.
ON_DEMAND_TABLE_QUOTA = 40_000
SLOW_REQUESTS = "requests.slow"


@dataclass(frozen=True)
class MetricQuery:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    scale: float = 1.0  # e.g. 1/3600 turns an hour's Sum into a per-second average

    def metric_stat(self) -> dict[str, Any]:
        return {"Metric": {"Namespace": self.namespace, "MetricName": self.name,
                           "Dimensions": [{"Name": key, "Value": value} for key, value in self.dimensions]},
                "Period": 3600, "Stat": self.stat}


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    description: str
    unit: str
    daily_statistic: str
    query: MetricQuery
    measurable_locally: bool
    limits: tuple[Limit, ...] = ()
    note: str = ""


@dataclass
class _Collected:
    configuration: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


@dataclass
class Reads:
    """What one collection asked CloudWatch for: calls, and hourly figures requested."""
    list_metrics: int = 0
    get_metric_data: int = 0
    series_read_hourly: int = 0
    hours_read: int = 0  # hourly periods requested per series read hourly

    def to_json(self) -> dict[str, int]:
        return {"list_metrics": self.list_metrics, "get_metric_data": self.get_metric_data,
                "series_read_hourly": self.series_read_hourly, "hours_read": self.hours_read}


def _metric_data(cloudwatch: Any, queries: list[MetricQuery], start: datetime, end: datetime, reads: Reads, *,
                 period: int = 3600, stat: Optional[str] = None) -> dict[MetricQuery, dict[datetime, float]]:
    """{query: {period start: value}} for periods in [start, end) that have data, batched into few calls."""
    result: dict[MetricQuery, dict[datetime, float]] = {query: {} for query in queries}
    periods = max(1, int((end - start).total_seconds() // period))
    per_call = max(1, min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // periods))
    for offset in range(0, len(queries), per_call):
        by_id = {f"q{offset + index}": query for index, query in enumerate(queries[offset:offset + per_call])}
        request: dict[str, Any] = {
            "MetricDataQueries": [{"Id": query_id, "ReturnData": True,
                                   "MetricStat": {**query.metric_stat(), "Period": period,
                                                  **({"Stat": stat} if stat else {})}}
                                  for query_id, query in by_id.items()],
            "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
        while True:
            response = cloudwatch.get_metric_data(**request)
            reads.get_metric_data += 1
            for item in response.get("MetricDataResults", []):
                query = by_id[item["Id"]]
                for stamp, value in zip(item.get("Timestamps", []), item.get("Values", [])):
                    moment = stamp.astimezone(timezone.utc)
                    result[query][floor_hour(moment) if period == 3600 else moment] = value
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    return result


def hourly_values(cloudwatch: Any, queries: list[MetricQuery], start: datetime, end: datetime,
                  reads: Optional[Reads] = None) -> dict[MetricQuery, dict[datetime, float]]:
    """{query: {hour start: value}} for hours in [start, end) that have data.

    One call at daily resolution first finds the first day with data of each series; hours are
    then read from the earliest of those days only, and series with no data are not read hourly.
    Both reads are batched (up to 500 series a call). A window of mostly empty days (a young
    service, the local stack) so costs a few days of hours, not the whole window.
    """
    reads = reads if reads is not None else Reads()
    days = _metric_data(cloudwatch, queries, start, end, reads, period=86400, stat="SampleCount")
    firsts = {query: min(found) for query, found in days.items() if found}
    if not firsts:
        return {query: {} for query in queries}
    first = max(start, floor_day(min(firsts.values())))
    with_data = [query for query in queries if query in firsts]
    reads.series_read_hourly = len(with_data)
    reads.hours_read = int((end - first) / HOUR)
    values = _metric_data(cloudwatch, with_data, first, end, reads)
    return {query: {hour: value * query.scale for hour, value in values.get(query, {}).items()}
            for query in queries}


def daily_peaks(hours: dict[datetime, float], start: datetime, end: datetime) -> list[tuple[str, float]]:
    """The highest hourly value of each day in [start, end), from the first day with data; no-data hours are 0."""
    days = []
    day = start
    while day < end:
        values = [value for hour, value in hours.items() if day <= hour < day + DAY]
        if values or days:
            days.append((day.date().isoformat(), round(max(values, default=0.0), 4)))
        day += DAY
    return days


class CapacityCollector:
    def __init__(self, settings: Any, *, namespace: str, service: str, tables: dict[str, str], local: bool,
                 cloudwatch: Any, lambda_client: Any = None, dynamodb: Any = None, ecs: Any = None,
                 autoscaling: Any = None, store: Any = None, clock: Callable[[], datetime] = utc_now,
                 latency_threshold_ms: Optional[int] = None) -> None:
        self.settings = settings
        self.namespace = namespace
        self.service = service
        self.tables = tables  # logical name -> table name
        self.local = local
        self.cloudwatch = cloudwatch
        self.lambda_client = lambda_client
        self.dynamodb = dynamodb
        self.ecs = ecs
        self.autoscaling = autoscaling
        self.store = store
        self.clock = clock
        self.latency_threshold_ms = latency_threshold_ms

    # -- what to read ----------------------------------------------------------------------------
    def _routes(self, reads: Reads) -> list[str]:
        routes = set()
        paginator = self.cloudwatch.get_paginator("list_metrics")
        for page in paginator.paginate(Namespace=self.namespace, MetricName="requests",
                                       Dimensions=[{"Name": "service", "Value": self.service}]):
            reads.list_metrics += 1
            for metric in page["Metrics"]:
                dims = {dim["Name"]: dim["Value"] for dim in metric["Dimensions"]}
                if set(dims) == {"service", "route"}:
                    routes.add(dims["route"])
        return sorted(routes)

    def _request_specs(self, reads: Reads) -> list[SeriesSpec]:
        service = (("service", self.service),)
        specs = [SeriesSpec("requests", "requests the service answered (all routes)", "requests per hour",
                            "busiest hour's Sum", MetricQuery(self.namespace, "requests", service, "Sum"), True)]
        counts = [("valid_requests", "valid requests (not 4xx)"),
                  ("cold_starts", "first requests of a process (cold starts)"),
                  ("slow_cold_starts", "cold starts that were also slow for the tightest latency threshold")]
        for name, description in counts:
            specs.append(SeriesSpec(f"requests.{name}", description, "requests per hour", "busiest hour's Sum",
                                    MetricQuery(self.namespace, name, service, "Sum"), True))
        if self.latency_threshold_ms:
            specs.append(SeriesSpec(
                SLOW_REQUESTS, f"valid requests not under {self.latency_threshold_ms} ms", "requests per hour",
                "busiest hour's Sum", MetricQuery(self.namespace, f"latency_good_{self.latency_threshold_ms}ms",
                                                  service, "Sum"), True))
        for route in self._routes(reads):
            specs.append(SeriesSpec(f"requests {route}", f"requests to {route}", "requests per hour",
                                    "busiest hour's Sum",
                                    MetricQuery(self.namespace, "requests", service + (("route", route),), "Sum"),
                                    True))
        return specs

    def _lambda_configuration(self, collected: _Collected) -> dict[str, Any]:
        name = self.settings.api_function_name
        if self.local:
            return {"function_name": name, "note": f"timeout, memory, reserved concurrency and the account "
                                                    f"limit: {NOT_AVAILABLE_LOCALLY}"}
        config: dict[str, Any] = {"function_name": name}
        try:
            function = self.lambda_client.get_function_configuration(FunctionName=name)
            config.update(timeout_seconds=function["Timeout"], memory_mb=function["MemorySize"])
            reserved = self.lambda_client.get_function_concurrency(FunctionName=name)
            config["reserved_concurrency"] = reserved.get("ReservedConcurrentExecutions")
            account = self.lambda_client.get_account_settings()["AccountLimit"]
            config.update(account_concurrency_limit=account["ConcurrentExecutions"],
                          unreserved_concurrency=account["UnreservedConcurrentExecutions"])
        except _aws_errors() as exc:
            collected.errors.append(f"lambda configuration of {name}: {exc}")
        return config

    def _lambda_specs(self, config: dict[str, Any]) -> list[SeriesSpec]:
        function = (("FunctionName", self.settings.api_function_name),)
        concurrency_limits = []
        if config.get("reserved_concurrency") is not None:
            concurrency_limits.append(Limit("reserved concurrency", config["reserved_concurrency"],
                                            "GetFunctionConcurrency"))
        if config.get("account_concurrency_limit") is not None:
            concurrency_limits.append(Limit("account concurrency limit", config["account_concurrency_limit"],
                                            "GetAccountSettings"))
        timeout = ((Limit("function timeout", config["timeout_seconds"] * 1000.0, "GetFunctionConfiguration"),)
                   if config.get("timeout_seconds") else ())
        return [
            SeriesSpec("lambda.invocations", "API function invocations", "invocations per hour",
                       "busiest hour's Sum", MetricQuery("AWS/Lambda", "Invocations", function, "Sum"), True),
            SeriesSpec("lambda.duration_max", "API function duration, longest", "milliseconds",
                       "highest hourly Maximum", MetricQuery("AWS/Lambda", "Duration", function, "Maximum"), True,
                       timeout),
            SeriesSpec("lambda.duration_average", "API function duration, average", "milliseconds",
                       "highest hourly Average", MetricQuery("AWS/Lambda", "Duration", function, "Average"), True,
                       timeout),
            SeriesSpec("lambda.concurrent_executions", "API function concurrent executions", "executions",
                       "highest hourly Maximum",
                       MetricQuery("AWS/Lambda", "ConcurrentExecutions", function, "Maximum"), True,
                       tuple(concurrency_limits)),
            SeriesSpec("lambda.throttles", "API function throttled invocations", "throttles per hour",
                       "busiest hour's Sum", MetricQuery("AWS/Lambda", "Throttles", function, "Sum"), False),
        ]

    def _table_configuration(self, collected: _Collected) -> dict[str, Any]:
        if self.local:
            return {name: {"note": f"billing mode and throughput: {NOT_AVAILABLE_LOCALLY}"}
                    for name in self.tables.values()}
        tables = {}
        for name in self.tables.values():
            try:
                table = self.dynamodb.describe_table(TableName=name)["Table"]
            except _aws_errors() as exc:
                collected.errors.append(f"dynamodb table {name}: {exc}")
                continue
            mode = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
            throughput = table.get("ProvisionedThroughput") or {}
            on_demand = table.get("OnDemandThroughput") or {}
            tables[name] = {"billing_mode": mode,
                            "read_units": throughput.get("ReadCapacityUnits") if mode == "PROVISIONED" else None,
                            "write_units": throughput.get("WriteCapacityUnits") if mode == "PROVISIONED" else None,
                            "max_read_request_units": on_demand.get("MaxReadRequestUnits"),
                            "max_write_request_units": on_demand.get("MaxWriteRequestUnits")}
        return tables

    def _table_specs(self, tables: dict[str, Any]) -> list[SeriesSpec]:
        specs = []
        for logical, name in sorted(self.tables.items()):
            config = tables.get(name, {})
            for kind, metric in (("read", "ConsumedReadCapacityUnits"), ("write", "ConsumedWriteCapacityUnits")):
                limits = []
                if config.get("billing_mode") == "PROVISIONED" and config.get(f"{kind}_units"):
                    limits.append(Limit(f"provisioned {kind} units", config[f"{kind}_units"], "DescribeTable"))
                elif config.get("billing_mode") == "PAY_PER_REQUEST":
                    maximum = config.get(f"max_{kind}_request_units")
                    if maximum and maximum > 0:
                        limits.append(Limit(f"table maximum {kind} request units", maximum, "DescribeTable"))
                    else:
                        limits.append(Limit(f"on-demand table quota ({kind})", ON_DEMAND_TABLE_QUOTA,
                                            "AWS default per-table quota"))
                specs.append(SeriesSpec(
                    f"dynamodb.{logical}.{kind}_units", f"{name}: consumed {kind} units", "units per second",
                    "busiest hour's average per second",
                    MetricQuery("AWS/DynamoDB", metric, (("TableName", name),), "Sum", scale=1 / 3600), False,
                    tuple(limits)))
        return specs

    def _ecs_configuration(self, collected: _Collected) -> dict[str, Any]:
        cluster, service = self.settings.ecs_cluster_name, self.settings.ecs_service_name
        if self.local:
            return {"available": False, "note": NOT_AVAILABLE_LOCALLY}
        if not (cluster and service):
            return {"available": False, "note": "not deployed on ECS (ECS_CLUSTER_NAME/ECS_SERVICE_NAME unset)"}
        config: dict[str, Any] = {"available": True, "cluster": cluster, "service": service}
        try:
            described = self.ecs.describe_services(cluster=cluster, services=[service])["services"]
            if described:
                config.update(desired_tasks=described[0]["desiredCount"], running_tasks=described[0]["runningCount"])
            targets = self.autoscaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{service}"])["ScalableTargets"]
            if targets:
                config.update(min_tasks=targets[0]["MinCapacity"], max_tasks=targets[0]["MaxCapacity"])
        except _aws_errors() as exc:
            collected.errors.append(f"ecs service {cluster}/{service}: {exc}")
        return config

    def _ecs_specs(self, config: dict[str, Any]) -> list[SeriesSpec]:
        if not config.get("available"):
            return []
        dims = (("ClusterName", self.settings.ecs_cluster_name), ("ServiceName", self.settings.ecs_service_name))
        percent = (Limit("100% of the task's reservation", 100.0, "ECS"),)
        specs = [
            SeriesSpec("ecs.cpu_utilization", "ECS service CPU, share of reserved", "percent",
                       "highest hourly Average", MetricQuery("AWS/ECS", "CPUUtilization", dims, "Average"), False,
                       percent),
            SeriesSpec("ecs.memory_utilization", "ECS service memory, share of reserved", "percent",
                       "highest hourly Average", MetricQuery("AWS/ECS", "MemoryUtilization", dims, "Average"),
                       False, percent),
        ]
        if self.settings.alb_target_group and self.settings.alb_load_balancer:
            specs.append(SeriesSpec(
                "ecs.requests_per_task", "requests per task (load balancer)", "requests per hour",
                "busiest hour's Sum",
                MetricQuery("AWS/ApplicationELB", "RequestCountPerTarget",
                            (("TargetGroup", self.settings.alb_target_group),
                             ("LoadBalancer", self.settings.alb_load_balancer)), "Sum"), False))
        return specs

    # -- collecting ------------------------------------------------------------------------------
    def collect(self, now: Optional[datetime] = None,
                previous: Optional[UtilizationReport] = None) -> UtilizationReport:
        """The report as of ``now``; ``previous`` hands on the durations measured at other memory sizes."""
        now = (now or self.clock()).astimezone(timezone.utc)
        window_end = floor_day(now)
        window_start = window_end - timedelta(days=self.settings.window_days)
        hours_end = floor_hour(now) + HOUR  # the current hour so far is the last hourly figure
        collected = _Collected()
        reads = Reads()
        lambda_config = self._lambda_configuration(collected)
        table_config = self._table_configuration(collected)
        ecs_config = self._ecs_configuration(collected)
        specs = (self._request_specs(reads) + self._lambda_specs(lambda_config) + self._table_specs(table_config)
                 + self._ecs_specs(ecs_config))
        readable = [spec.query for spec in specs if spec.measurable_locally or not self.local]
        values = hourly_values(self.cloudwatch, readable, window_start, hours_end, reads) if readable else {}
        recent_start = hours_end - timedelta(hours=self.settings.hourly_hours)
        series = []
        for spec in specs:
            if self.local and not spec.measurable_locally:
                series.append(Series(spec.name, spec.description, spec.unit, spec.daily_statistic, False,
                                     NOT_AVAILABLE_LOCALLY, limits=spec.limits))
                continue
            hours = values.get(spec.query, {})
            if spec.name == SLOW_REQUESTS:  # valid requests minus those under the threshold, per hour
                valid = values.get(next(other.query for other in specs if other.name == "requests.valid_requests"),
                                   {})
                hours = {hour: max(0.0, count - hours.get(hour, 0.0)) for hour, count in valid.items()}
            peaks = daily_peaks(hours, window_start, window_end)
            limits = spec.limits + self._double_previous_peak(spec, table_config, peaks)
            series.append(Series(
                spec.name, spec.description, spec.unit, spec.daily_statistic, True, spec.note,
                hourly=tuple((hour.isoformat(), round(hours.get(hour, 0.0), 4))
                             for hour in (recent_start + HOUR * index for index in range(self.settings.hourly_hours))),
                daily_peaks=tuple(peaks), limits=limits))
        lambda_config = self._with_duration_by_memory(lambda_config, series, previous)
        return UtilizationReport(
            collected_at=now.isoformat(), window_start=window_start.isoformat(), window_end=window_end.isoformat(),
            local=self.local, series=tuple(series),
            configuration={"lambda": lambda_config, "dynamodb": table_config, "ecs": ecs_config},
            errors=tuple(collected.errors), reads=reads.to_json())

    def _double_previous_peak(self, spec: SeriesSpec, tables: dict[str, Any],
                              peaks: list[tuple[str, float]]) -> tuple[Limit, ...]:
        """On-demand tables serve up to double their previous peak at once; beyond it they may throttle
        while they scale (AWS: "up to double your previous peak traffic")."""
        if spec.query.namespace != "AWS/DynamoDB" or len(peaks) < 2:
            return ()
        table = dict(spec.query.dimensions)["TableName"]
        if tables.get(table, {}).get("billing_mode") != "PAY_PER_REQUEST":
            return ()
        previous = max(value for _, value in peaks[:-1])
        return (Limit("on-demand instant ceiling (double the previous peak)", round(2 * previous, 4),
                      "previous daily peak x 2"),) if previous > 0 else ()

    @staticmethod
    def _with_duration_by_memory(config: dict[str, Any], series: list[Series],
                                 previous: Optional[UtilizationReport]) -> dict[str, Any]:
        """Each memory size's latest measured duration, carried from report to report: a memory size
        changed by a deployment (or by a power-tuning run) leaves a measurement at each size."""
        known = dict(((previous.configuration if previous else {}).get("lambda") or {}).get("duration_by_memory_mb")
                     or {})
        memory = config.get("memory_mb")
        average = next((item for item in series if item.name == "lambda.duration_average" and item.available), None)
        invocations = next((item for item in series if item.name == "lambda.invocations" and item.available), None)
        if memory and average is not None and average.daily_peaks and invocations is not None \
                and invocations.latest_peak:
            day, duration = average.daily_peaks[-1]
            known[str(memory)] = {"duration_average_ms": duration, "day": day,
                                  "statistic": "highest hourly Average of the day"}
        return {**config, "duration_by_memory_mb": known} if known or memory else config

    def run(self, now: Optional[datetime] = None) -> UtilizationReport:
        """Collect (handing on what the latest report measured) and store."""
        report = self.collect(now, previous=self.store.latest_report())
        self.store.put_report(report)
        return report


def table_names(settings: Any) -> dict[str, str]:
    """The tables whose consumption is collected: the user store and the stores every request may touch."""
    return {"users": settings.users.table, "breakers": settings.breakers.table,
            "webhook-outbox": settings.webhooks.outbox_table}


def routes_of(report: UtilizationReport) -> Iterable[str]:
    return [series.name.split(" ", 1)[1] for series in report.series if series.name.startswith("requests ")]
