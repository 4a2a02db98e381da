from datetime import datetime, timedelta, timezone

import boto3

from chalicelib.observability.metrics import build_request_record
from chalicelib.observability.request_context import RequestFacts
from devstack.metrics_sink import EmfForwarder, record_values


def a_record(status=200, latency_ms=12.0, route="/api/users", excluded_from_sli=False):
    return build_request_record(namespace="ServerlessSRE", service="user-api", route=route, status=status,
                                latency_ms=latency_ms, thresholds_ms=(200,), correlation_id="c-1",
                                facts=RequestFacts(data_queries=1, excluded_from_sli=excluded_from_sli))


def query(metric, stat, dimensions=(("service", "user-api"),)):
    return {"Id": f"{metric}_{stat}".lower(), "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "ServerlessSRE", "MetricName": metric,
                   "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions]},
        "Period": 60, "Stat": stat}}


def read(cloudwatch, *queries):
    now = datetime.now(timezone.utc)
    result = cloudwatch.get_metric_data(MetricDataQueries=list(queries), StartTime=now - timedelta(minutes=5),
                                        EndTime=now + timedelta(minutes=1))
    return {entry["Id"]: entry["Values"] for entry in result["MetricDataResults"]}


def test_each_metric_is_counted_under_both_dimension_sets():
    values = record_values(a_record())
    requests = [series for series, _ in values if series[1] == "requests"]
    assert sorted(len(series[2]) for series in requests) == [1, 2]
    assert dict(max(requests, key=lambda series: len(series[2]))[2]) == {"service": "user-api",
                                                                       "route": "/api/users"}


def test_every_directive_of_a_record_is_forwarded_with_its_own_dimension_sets():
    values = record_values(a_record(status=503, route="/sre/slos", excluded_from_sli=True))
    excluded = {(series[1], series[2]): value for series, value in values if series[1].startswith("excluded_")}
    assert excluded == {("excluded_valid_requests", (("service", "user-api"),)): 1.0,
                        ("excluded_server_errors", (("service", "user-api"),)): 1.0}


def test_counts_follow_the_status():
    service_level = {series[1]: value for series, value in record_values(a_record(status=503, latency_ms=500.0))
                     if len(series[2]) == 1}
    assert service_level["server_errors"] == 1.0
    assert service_level["good_availability"] == 0.0
    assert service_level["latency_good_200ms"] == 0.0


def test_forwarded_records_can_be_summed_back_from_cloudwatch(aws_mock):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    forwarder = EmfForwarder(cloudwatch)
    for latency in (10.0, 30.0, 20.0):
        forwarder(a_record(latency_ms=latency))
    assert forwarder.flush() > 0
    values = read(cloudwatch, query("requests", "Sum"), query("latency_ms", "Maximum"),
                  query("latency_ms", "Minimum"))
    assert sum(values["requests_sum"]) == 3.0
    assert values["latency_ms_maximum"] == [30.0]
    assert values["latency_ms_minimum"] == [10.0]


def test_one_minute_of_requests_is_one_statistic_set_per_series(aws_mock):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    sent = []
    original = cloudwatch.put_metric_data
    cloudwatch.put_metric_data = lambda **kwargs: (sent.extend(kwargs["MetricData"]), original(**kwargs))[1]
    forwarder = EmfForwarder(cloudwatch)
    for _ in range(50):
        forwarder(a_record())
    forwarder.flush()
    series_per_record = len(record_values(a_record()))
    # Requests arriving across a minute boundary make at most two minutes of sets.
    assert series_per_record <= len(sent) <= 2 * series_per_record
    assert sum(datum["StatisticValues"]["SampleCount"] for datum in sent) == 50 * series_per_record
    assert forwarder.sent == 50 * series_per_record


def test_the_periodic_send_keeps_the_current_minute_until_it_ends(aws_mock):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    now = [datetime.now(timezone.utc).timestamp()]
    forwarder = EmfForwarder(cloudwatch, clock=lambda: now[0])
    record = a_record()
    record["_aws"]["Timestamp"] = int(now[0] * 1000)
    forwarder(record)
    assert forwarder.flush(ended_minutes_only=True) == 0
    now[0] += 60
    assert forwarder.flush(ended_minutes_only=True) == len(record_values(record))



def test_values_cloudwatch_did_not_take_go_out_with_the_next_flush(aws_mock):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    original = cloudwatch.put_metric_data

    def unavailable(**kwargs):
        raise ConnectionError("the embedded AWS is restarting")

    forwarder = EmfForwarder(cloudwatch)
    forwarder(a_record())
    cloudwatch.put_metric_data = unavailable
    try:
        forwarder.flush()
    except ConnectionError:
        pass
    forwarder(a_record(latency_ms=40.0))
    cloudwatch.put_metric_data = original
    forwarder.flush()
    values = read(cloudwatch, query("requests", "Sum"), query("latency_ms", "Maximum"))
    assert sum(values["requests_sum"]) == 2.0
    assert max(values["latency_ms_maximum"]) == 40.0
