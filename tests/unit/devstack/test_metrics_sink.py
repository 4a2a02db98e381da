from datetime import datetime, timedelta, timezone

import boto3

from chalicelib.observability.metrics import build_request_record
from chalicelib.observability.request_context import RequestFacts
from devstack.metrics_sink import EmfForwarder, metric_data


def a_record(status=200, latency_ms=12.0, route="/api/users"):
    return build_request_record(namespace="ServerlessSRE", service="user-api", route=route, status=status,
                                latency_ms=latency_ms, facts=RequestFacts(data_queries=1), thresholds_ms=(200,),
                                correlation_id="c-1")


def test_each_metric_is_sent_under_both_dimension_sets():
    namespace, data = metric_data(a_record())
    assert namespace == "ServerlessSRE"
    requests = [datum for datum in data if datum["MetricName"] == "requests"]
    assert sorted(len(datum["Dimensions"]) for datum in requests) == [1, 2]
    assert {d["Name"]: d["Value"] for d in requests[1]["Dimensions"]} == {"service": "user-api", "route": "/api/users"}


def test_counts_follow_the_status():
    _, data = metric_data(a_record(status=503, latency_ms=500.0))
    service_level = {datum["MetricName"]: datum["Value"] for datum in data if len(datum["Dimensions"]) == 1}
    assert service_level["server_errors"] == 1.0
    assert service_level["good_availability"] == 0.0
    assert service_level["latency_good_200ms"] == 0.0


def test_forwarded_records_can_be_summed_back_from_cloudwatch(aws_mock):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    forwarder = EmfForwarder(cloudwatch)
    for _ in range(3):
        forwarder(a_record())
    assert forwarder.flush() > 0
    now = datetime.now(timezone.utc)
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "requests", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "ServerlessSRE", "MetricName": "requests",
                       "Dimensions": [{"Name": "service", "Value": "user-api"}]},
            "Period": 60, "Stat": "Sum"}}],
        StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1))
    assert sum(result["MetricDataResults"][0]["Values"]) == 3.0
