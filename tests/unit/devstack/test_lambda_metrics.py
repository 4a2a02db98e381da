"""The local stack's Lambda-style figures reach CloudWatch under the names the collector reads deployed."""
import threading
from datetime import timedelta

import boto3

from chalicelib.capacity.collector import CapacityCollector
from chalicelib.capacity.store import MemoryCapacityStore
from chalicelib.slo.timeutil import utc_now
from devstack.lambda_metrics import InvocationMeter, invocation_record
from devstack.metrics_sink import EmfForwarder, record_values


def test_an_invocation_record_is_aws_lambda_figures_per_function_name():
    values = {series[1]: value for series, value in record_values(invocation_record("fn", 12.5, 3, 60_000))}
    assert values == {"Invocations": 1.0, "Duration": 12.5, "ConcurrentExecutions": 3.0}
    series, _ = record_values(invocation_record("fn", 12.5, 3, 60_000))[0]
    assert series[0] == "AWS/Lambda" and series[2] == (("FunctionName", "fn"),)


def test_overlapping_invocations_count_their_concurrency():
    records = []
    meter = InvocationMeter(records.append)
    inside = threading.Barrier(3)

    def invoke():
        with meter.invocation("api"):
            inside.wait(timeout=5)

    threads = [threading.Thread(target=invoke) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(record["ConcurrentExecutions"] for record in records) == [1.0, 2.0, 3.0]
    with meter.invocation("api"):
        pass
    assert records[-1]["ConcurrentExecutions"] == 1.0


def test_the_collector_reads_the_local_figures_with_its_deployed_code(aws_mock, wired):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    forwarder = EmfForwarder(cloudwatch)
    meter = InvocationMeter(forwarder)
    release = threading.Event()
    inside = threading.Barrier(5)

    def invoke():
        with meter.invocation("serverless-sre-api"):
            inside.wait(timeout=5)
            release.wait(timeout=5)

    threads = [threading.Thread(target=invoke) for _ in range(4)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=5)
    release.set()
    for thread in threads:
        thread.join()
    forwarder.flush()
    now = utc_now() + timedelta(hours=1)
    report = CapacityCollector(wired.settings.capacity, namespace="ServerlessSRE", service="user-api", tables={},
                               local=True, cloudwatch=cloudwatch, store=MemoryCapacityStore()).collect(now=now)
    assert sum(value for _, value in report.get("lambda.invocations").hourly) == 4
    assert max(value for _, value in report.get("lambda.concurrent_executions").hourly) == 4
    assert report.get("lambda.duration_max").available
