"""The collector against moto, with a known week of metrics written to CloudWatch."""
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.capacity.records import NOT_AVAILABLE_LOCALLY, UtilizationReport
from chalicelib.capacity.store import MemoryCapacityStore

T0 = datetime(2026, 3, 9, tzinfo=timezone.utc)  # a Monday, midnight: the week before is whole
WEEK = [T0 - timedelta(days=7) + timedelta(hours=hour) for hour in range(7 * 24)]
FUNCTION = "serverless-sre-api"


def busiest_hour(day: int) -> int:
    return 14 + day % 3


def requests_in(hour: datetime) -> float:
    """A day's traffic peaks at one hour; the peak grows by 100 a day from 1000."""
    day = (hour - WEEK[0]).days
    return 1000.0 + 100 * day if hour.hour == busiest_hour(day) else 200.0


def concurrency_in(hour: datetime) -> float:
    day = (hour - WEEK[0]).days
    return 10.0 + 2 * day if hour.hour == busiest_hour(day) else 3.0


def datum(name, dimensions, timestamp, **values):
    return {"MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            "Timestamp": timestamp + timedelta(minutes=7), **values}


@pytest.fixture
def known_week(cloudwatch):
    by_namespace = {"ServerlessSRE": [], "AWS/Lambda": [], "AWS/DynamoDB": []}
    function = {"FunctionName": FUNCTION}
    for hour in WEEK:
        count = requests_in(hour)
        by_namespace["ServerlessSRE"] += [
            datum("requests", {"service": "user-api"}, hour, Value=count, Unit="Count"),
            datum("requests", {"service": "user-api", "route": "/users"}, hour, Value=count * 0.75, Unit="Count"),
            datum("requests", {"service": "user-api", "route": "/users/{user_id}"}, hour, Value=count * 0.25,
                  Unit="Count"),
            datum("valid_requests", {"service": "user-api"}, hour, Value=count, Unit="Count"),
            datum("latency_good_200ms", {"service": "user-api"}, hour, Value=count * 0.9, Unit="Count"),
            datum("cold_starts", {"service": "user-api"}, hour, Value=4, Unit="Count"),
            datum("slow_cold_starts", {"service": "user-api"}, hour, Value=3, Unit="Count")]
        by_namespace["AWS/Lambda"] += [
            datum("Invocations", function, hour, Value=count, Unit="Count"),
            datum("Duration", function, hour, Unit="Milliseconds",
                  StatisticValues={"SampleCount": 4, "Sum": 200.0, "Minimum": 20.0, "Maximum": 90.0}),
            datum("ConcurrentExecutions", function, hour, Value=concurrency_in(hour), Unit="Count")]
        by_namespace["AWS/DynamoDB"].append(datum("ConsumedReadCapacityUnits", {"TableName": "serverless-sre-users"},
                                                  hour, Value=count * 3.6, Unit="Count"))
    for namespace, data in by_namespace.items():
        for start in range(0, len(data), 1000):  # PutMetricData takes 1000 values a call
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + 1000])


def collector(wired, *, local):
    from chalicelib.capacity.collector import CapacityCollector, table_names

    return CapacityCollector(wired.settings.capacity, namespace="ServerlessSRE", service="user-api",
                             tables=table_names(wired.settings), local=local,
                             cloudwatch=boto3.client("cloudwatch", region_name="us-east-1"),
                             lambda_client=boto3.client("lambda", region_name="us-east-1"),
                             dynamodb=boto3.client("dynamodb", region_name="us-east-1"),
                             store=MemoryCapacityStore(), latency_threshold_ms=200)


def test_daily_peaks_are_each_days_busiest_hour(known_week, capacity_tables, wired):
    report = collector(wired, local=True).collect(now=T0 + timedelta(hours=1))
    expected = [((T0 - timedelta(days=7 - day)).date().isoformat(), 1000.0 + 100 * day) for day in range(7)]
    assert list(report.get("requests").daily_peaks) == expected
    assert list(report.get("lambda.invocations").daily_peaks) == expected


def test_requests_are_collected_per_route(known_week, capacity_tables, wired):
    report = collector(wired, local=True).collect(now=T0 + timedelta(hours=1))
    assert report.get("requests /users").latest_peak == 1600 * 0.75
    assert report.get("requests /users/{user_id}").latest_peak == 1600 * 0.25


def test_concurrency_and_duration_peaks_use_the_hourly_maximum(known_week, capacity_tables, wired):
    report = collector(wired, local=True).collect(now=T0 + timedelta(hours=1))
    assert [value for _, value in report.get("lambda.concurrent_executions").daily_peaks] == [
        10.0 + 2 * day for day in range(7)]
    assert report.get("lambda.duration_max").latest_peak == 90.0
    assert report.get("lambda.duration_average").latest_peak == 50.0


def test_hourly_figures_cover_the_recent_hours(known_week, capacity_tables, wired):
    report = collector(wired, local=True).collect(now=T0 + timedelta(hours=1))
    hourly = report.get("requests").hourly
    assert len(hourly) == 48
    # The last is the current hour so far; an hour without data served nothing.
    assert hourly[-3:] == (((T0 - timedelta(hours=1)).isoformat(), 200.0), (T0.isoformat(), 0.0),
                           ((T0 + timedelta(hours=1)).isoformat(), 0.0))


def test_slow_requests_are_valid_requests_not_under_the_latency_threshold(known_week, capacity_tables, wired):
    report = collector(wired, local=True).collect(now=T0 + timedelta(hours=1))
    assert report.get("requests.slow").latest_peak == pytest.approx(160.0)
    assert report.get("requests.slow_cold_starts").latest_peak == 3


def test_locally_unmeasurable_figures_are_said_so(known_week, capacity_tables, wired):
    report = collector(wired, local=True).collect(now=T0 + timedelta(hours=1))
    throttles = report.get("lambda.throttles")
    reads = report.get("dynamodb.users.read_units")
    assert not throttles.available and throttles.note == NOT_AVAILABLE_LOCALLY
    assert not reads.available and reads.note == NOT_AVAILABLE_LOCALLY and reads.daily_peaks == ()
    assert report.configuration["ecs"] == {"available": False, "note": NOT_AVAILABLE_LOCALLY}
    assert NOT_AVAILABLE_LOCALLY in report.configuration["lambda"]["note"]


def test_deployed_dynamodb_reads_meet_the_on_demand_double_peak_rule(known_week, capacity_tables, wired):
    report = collector(wired, local=False).collect(now=T0 + timedelta(hours=1))
    reads = report.get("dynamodb.users.read_units")
    assert reads.available
    # Sum per hour / 3600 = units per second: the busiest hour of the last day is 1600 * 3.6 / 3600.
    assert reads.latest_peak == pytest.approx(1.6)
    limits = {limit.name: limit.value for limit in reads.limits}
    assert limits["on-demand table quota (read)"] == 40000
    assert limits["on-demand instant ceiling (double the previous peak)"] == pytest.approx(2 * 1.5)
    assert reads.utilization()["on-demand instant ceiling (double the previous peak)"] == pytest.approx(1.6 / 3, abs=1e-4)


def test_deployed_lambda_limits_come_from_the_lambda_api(known_week, capacity_tables, wired):
    report = collector(wired, local=False).collect(now=T0 + timedelta(hours=1))
    # moto has no API function here: the collection goes on and says what it could not read.
    assert any(FUNCTION in error for error in report.errors)
    assert report.get("lambda.concurrent_executions").latest_peak == 22.0


def test_a_run_stores_the_report(known_week, capacity_tables, wired):
    from chalicelib.capacity.store import DynamoDBCapacityStore, capacity_model

    store = DynamoDBCapacityStore(capacity_model("serverless-sre-capacity", "us-east-1"))
    subject = collector(wired, local=True)
    subject.store = store
    report = subject.run(now=T0 + timedelta(hours=1))
    assert store.latest_report() == report
    assert UtilizationReport.from_json(report.to_json()) == report


def test_the_report_is_its_golden_record(known_week, capacity_tables, wired):
    from tests.support.golden import check_golden

    check_golden("capacity_utilization_report", collector(wired, local=True).collect(
        now=T0 + timedelta(hours=1)).to_json())


def test_hours_are_read_only_from_the_first_day_with_data(known_week, capacity_tables, wired):
    reads = collector(wired, local=True).collect(now=T0 + timedelta(hours=1)).reads
    # One call finds the days with data, one reads the week and the two hours since, of the 28-day window.
    assert reads == {"list_metrics": 1, "get_metric_data": 2, "series_read_hourly": 11, "hours_read": 7 * 24 + 2}


def test_series_without_data_are_not_read_hourly(capacity_tables, wired):
    report = collector(wired, local=True).collect(now=T0)
    assert report.reads["get_metric_data"] == 1 and report.reads["series_read_hourly"] == 0
    assert report.get("requests").daily_peaks == () and report.get("requests").hourly[-1] == (T0.isoformat(), 0.0)


def test_durations_measured_at_each_memory_size_are_handed_on(known_week, capacity_tables, wired):
    subject = collector(wired, local=False)
    subject._lambda_configuration = lambda collected: {"function_name": FUNCTION, "memory_mb": 1024}
    earlier = UtilizationReport.from_json({**golden_report(), "configuration": {
        "lambda": {"duration_by_memory_mb": {"512": {"duration_average_ms": 80.0, "day": "2026-02-01"}}}}})
    report = subject.collect(now=T0 + timedelta(hours=1), previous=earlier)
    assert report.configuration["lambda"]["duration_by_memory_mb"] == {
        "512": {"duration_average_ms": 80.0, "day": "2026-02-01"},
        "1024": {"duration_average_ms": 50.0, "day": "2026-03-08", "statistic": "highest hourly Average of the day"}}


def golden_report():
    from tests.support.golden import golden

    return golden("capacity_utilization_report")


@pytest.fixture
def ecs_service_week(cloudwatch):
    """An ECS service scaling between 2 and 6 tasks, with a week of CPU, memory and requests per task."""
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="serverless-sre-prod")
    ecs.register_task_definition(family="api", containerDefinitions=[{"name": "app", "image": "api:1", "memory": 512}])
    ecs.create_service(cluster="serverless-sre-prod", serviceName="serverless-sre-prod", taskDefinition="api",
                       desiredCount=3)
    boto3.client("application-autoscaling", region_name="us-east-1").register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/serverless-sre-prod/serverless-sre-prod",
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=6)
    service = {"ClusterName": "serverless-sre-prod", "ServiceName": "serverless-sre-prod"}
    target = {"TargetGroup": "targetgroup/api/1", "LoadBalancer": "app/api/2"}
    data = {"AWS/ECS": [], "AWS/ApplicationELB": []}
    for hour in WEEK:
        day = (hour - WEEK[0]).days
        busy = hour.hour == busiest_hour(day)
        data["AWS/ECS"] += [datum("CPUUtilization", service, hour, Value=40.0 + 5 * day if busy else 10.0),
                            datum("MemoryUtilization", service, hour, Value=55.0 if busy else 50.0)]
        data["AWS/ApplicationELB"].append(datum("RequestCountPerTarget", target, hour, Value=3000.0 if busy else 100.0))
    for namespace, values in data.items():
        for start in range(0, len(values), 1000):  # PutMetricData takes 1000 values a call
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=values[start:start + 1000])
    return ecs


def test_the_ecs_variant_is_read_per_task_against_its_scaling_bounds(ecs_service_week, capacity_tables, wired):
    from dataclasses import replace

    subject = collector(wired, local=False)
    subject.settings = replace(subject.settings, ecs_cluster_name="serverless-sre-prod",
                               ecs_service_name="serverless-sre-prod", alb_target_group="targetgroup/api/1",
                               alb_load_balancer="app/api/2")
    subject.ecs = ecs_service_week
    subject.autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
    report = subject.collect(now=T0 + timedelta(hours=1))
    assert report.configuration["ecs"] == {"available": True, "cluster": "serverless-sre-prod",
                                           "service": "serverless-sre-prod", "desired_tasks": 3,
                                           "running_tasks": 0, "min_tasks": 2, "max_tasks": 6}
    cpu = report.get("ecs.cpu_utilization")
    assert [value for _, value in cpu.daily_peaks] == [40.0 + 5 * day for day in range(7)]
    assert cpu.utilization() == {"100% of the task's reservation": 0.7}
    assert report.get("ecs.memory_utilization").latest_peak == 55.0
    assert report.get("ecs.requests_per_task").latest_peak == 3000.0
