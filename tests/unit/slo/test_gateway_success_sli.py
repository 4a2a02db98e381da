"""The deployed success SLI: API Gateway's Count, 4XXError and 5XXError read back from CloudWatch
and turned into good and valid requests, with known figures."""
from datetime import datetime, timedelta, timezone

from chalicelib.slo.cloudwatch import MetricReader
from chalicelib.slo.config import load_slos

MINUTE_START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
DIMENSIONS = [{"Name": "ApiName", "Value": "serverless-sre"}, {"Name": "Stage", "Value": "api"}]


def _put_gateway_minute(cloudwatch, minute, count, client_errors, server_errors):
    # API Gateway sends Count and the error metrics as samples; the evaluator reads their per-minute Sum.
    data = [{"MetricName": name, "Dimensions": DIMENSIONS, "Timestamp": minute + timedelta(seconds=10),
             "Value": value, "Unit": "Count"}
            for name, value in (("Count", count), ("4XXError", client_errors), ("5XXError", server_errors))]
    cloudwatch.put_metric_data(Namespace="AWS/ApiGateway", MetricData=data)


def _success_slo(monkeypatch):
    monkeypatch.setenv("API_GATEWAY_NAME", "serverless-sre")
    monkeypatch.setenv("API_GATEWAY_STAGE", "api")
    return next(slo for slo in load_slos() if slo.name == "success")


def _minute_counts(success, cloudwatch, minute=MINUTE_START):
    """(good, valid) of ``minute`` as the evaluator reads them back."""
    sums = MetricReader(cloudwatch).minute_sums(success.indicator.metrics(), minute, minute + timedelta(minutes=1))
    return success.minute_counts(sums[minute])


def test_gateway_success_counts_good_as_count_less_client_and_server_errors(monkeypatch, cloudwatch):
    success = _success_slo(monkeypatch)
    _put_gateway_minute(cloudwatch, MINUTE_START, count=1000, client_errors=30, server_errors=7)
    _put_gateway_minute(cloudwatch, MINUTE_START + timedelta(minutes=1), count=200, client_errors=0, server_errors=0)

    sums = MetricReader(cloudwatch).minute_sums(success.indicator.metrics(), MINUTE_START,
                                                MINUTE_START + timedelta(minutes=2))

    assert success.minute_counts(sums[MINUTE_START]) == (963, 970)
    assert success.minute_counts(sums[MINUTE_START + timedelta(minutes=1)]) == (200, 200)


def test_gateway_minute_without_a_count_is_no_data_not_a_perfect_minute(monkeypatch, cloudwatch):
    success = _success_slo(monkeypatch)
    cloudwatch.put_metric_data(Namespace="AWS/ApiGateway", MetricData=[
        {"MetricName": "5XXError", "Dimensions": DIMENSIONS, "Timestamp": MINUTE_START, "Value": 3}])

    sums = MetricReader(cloudwatch).minute_sums(success.indicator.metrics(), MINUTE_START,
                                                MINUTE_START + timedelta(minutes=1))

    assert success.minute_counts(sums[MINUTE_START]) is None


def test_gateway_success_of_a_minute_of_only_server_errors_is_zero_good(monkeypatch, cloudwatch):
    success = _success_slo(monkeypatch)
    _put_gateway_minute(cloudwatch, MINUTE_START, count=50, client_errors=0, server_errors=50)
    assert _minute_counts(success, cloudwatch) == (0, 50)


def _put_excluded_minute(cloudwatch, minute, valid, server_errors):
    cloudwatch.put_metric_data(Namespace="ServerlessSRE", MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "service", "Value": "user-api"}],
         "Timestamp": minute + timedelta(seconds=20), "Value": value, "Unit": "Count"}
        for name, value in (("excluded_valid_requests", valid), ("excluded_server_errors", server_errors))])


def test_the_requests_the_slis_leave_out_are_taken_out_of_the_gateways_figures(monkeypatch, cloudwatch):
    """The stage's metrics count the SRE plane too (the dashboard's reads, an operator's calls)."""
    success = _success_slo(monkeypatch)
    _put_gateway_minute(cloudwatch, MINUTE_START, count=1000, client_errors=30, server_errors=7)
    _put_excluded_minute(cloudwatch, MINUTE_START, valid=100, server_errors=2)
    assert _minute_counts(success, cloudwatch) == (865, 870)


def test_excluded_counts_beyond_the_gateways_leave_no_negative_figure(monkeypatch, cloudwatch):
    success = _success_slo(monkeypatch)
    _put_gateway_minute(cloudwatch, MINUTE_START, count=3, client_errors=0, server_errors=0)
    _put_excluded_minute(cloudwatch, MINUTE_START, valid=5, server_errors=1)
    assert _minute_counts(success, cloudwatch) == (0, 0)
