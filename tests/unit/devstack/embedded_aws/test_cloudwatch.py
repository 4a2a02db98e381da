import boto3

from devstack.embedded_aws import cloudwatch
from tests.support import moto_speedups


def test_metric_data_queries_answer_as_moto_answers_them(aws_mock, restore_dynamo_handler):
    from datetime import datetime, timedelta, timezone

    client = boto3.client("cloudwatch", region_name="us-east-1")
    start = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    function = [{"Name": "FunctionName", "Value": "api"}]
    for minute in (7, 0, 3, 3, 12, 59, 1, 8):  # out of order, two in one minute
        moment = start + timedelta(minutes=minute, seconds=minute % 5)
        client.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "requests", "Timestamp": moment, "Value": minute + 0.25, "Unit": "Count"},
            {"MetricName": "requests", "Timestamp": moment, "Dimensions": function, "Values": [1.5, 2], "Counts": [2, 1]},
            {"MetricName": "latency", "Timestamp": moment, "Unit": "Milliseconds",
             "StatisticValues": {"SampleCount": 4, "Sum": 10 * minute + 1, "Minimum": 1, "Maximum": 9}}])
        client.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "requests", "Timestamp": moment, "Value": 100}])
    for second, value in ((30, 1e16), (10, -1e16), (20, 0.1)):  # a float sum that depends on the order of adding
        client.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "cancelling", "Timestamp": start + timedelta(seconds=second), "Value": value}])

    def stat(query_id, name, statistic, period=60, namespace="App", **extra):
        metric = {"Namespace": namespace, "MetricName": name, **extra.pop("metric", {})}
        return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": period, "Stat": statistic, **extra}}

    queries = [stat("plain", "requests", "Sum"), stat("counted", "requests", "SampleCount", period=300),
               stat("by_function", "requests", "Average", metric={"Dimensions": function}),
               stat("other", "requests", "Maximum", namespace="Other", period=120),
               stat("in_ms", "latency", "Sum", Unit="Milliseconds"), stat("in_s", "latency", "Sum", Unit="Seconds"),
               stat("slowest", "latency", "p90", period=600) | {"ReturnData": False},
               stat("cancelling", "cancelling", "Sum"), {"Id": "ratio", "Expression": "plain / counted", "Label": "ratio"}]

    def answers():
        return [client.get_metric_data(MetricDataQueries=queries, StartTime=start + timedelta(minutes=begin),
                                       EndTime=start + timedelta(minutes=end), ScanBy=order)["MetricDataResults"]
                for begin, end in ((0, 60), (2, 13), (-5, 120)) for order in ("TimestampAscending", "TimestampDescending")]

    expected = answers()
    assert [len(result["Values"]) for result in expected[0]][:6] == [7, 4, 7, 6, 7, 0]
    assert expected[0][6]["Values"] == [0.1]  # added in the order stored
    cloudwatch.find_metric_data_by_name_and_time()
    assert answers() == expected
    client.put_metric_data(Namespace="App", MetricData=[{"MetricName": "requests", "Timestamp": start, "Value": 0}])
    with moto_speedups.stock_moto():
        expected_after_a_write = answers()
    assert answers() == expected_after_a_write != expected  # a datapoint stored after the index was built


def test_list_metrics_answers_each_metric_once_as_cloudwatch_does(aws_mock, restore_dynamo_handler):
    from datetime import datetime, timedelta, timezone

    client = boto3.client("cloudwatch", region_name="us-east-1")
    start = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    service = {"Name": "service", "Value": "users"}
    for minute in range(3):
        for route in ("GET /api/users", "POST /api/users"):
            client.put_metric_data(Namespace="App", MetricData=[
                {"MetricName": "requests", "Timestamp": start + timedelta(minutes=minute), "Value": 1,
                 "Dimensions": [service, {"Name": "route", "Value": route}]}])
        client.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "requests", "Timestamp": start + timedelta(minutes=minute), "Value": 1, "Dimensions": [service]},
            {"MetricName": "users_registered", "Timestamp": start + timedelta(minutes=minute), "Value": 1}])

    def listed(**filters):
        return sorted((metric["Namespace"], metric["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in metric["Dimensions"])))
                      for metric in client.list_metrics(**filters)["Metrics"])

    by_route = {"Namespace": "App", "MetricName": "requests", "Dimensions": [service, {"Name": "route"}]}
    assert len(listed(**by_route)) == 6  # moto as released: once per datapoint
    cloudwatch.list_each_metric_once()
    assert listed(**by_route) == [("App", "requests", (("route", route), ("service", "users")))
                                  for route in ("GET /api/users", "POST /api/users")]
    assert listed(Namespace="App", MetricName="requests") == sorted([("App", "requests", (("service", "users"),)),
                                                                     *listed(**by_route)])
    assert listed(MetricName="users_registered") == [("App", "users_registered", ())]
    client.put_metric_data(Namespace="App", MetricData=[{"MetricName": "errors", "Value": 1, "Dimensions": [service]}])
    assert listed(MetricName="errors") == [("App", "errors", (("service", "users"),))]  # stored after the first list
