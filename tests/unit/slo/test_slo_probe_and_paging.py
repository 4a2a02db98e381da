from datetime import timedelta

import pytest

from chalicelib.slo.paging import AlertSink, LoggingAlertSink, load_alert_sink_plugin
from tests.unit.slo.helpers import T0, RecordingSink


def probe_sums(cloudwatch, name):
    response = cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "p", "MetricStat": {"Metric": {
        "Namespace": "ServerlessSRE", "MetricName": name, "Dimensions": [{"Name": "service", "Value": "user-api"}]},
        "Period": 60, "Stat": "Sum"}}], StartTime=T0 - timedelta(minutes=1), EndTime=T0 + timedelta(minutes=1))
    return response["MetricDataResults"][0]["Values"]


def make_probe(cloudwatch, get_status):
    from chalicelib.slo.probe import HealthProbe

    return HealthProbe("http://api.test/health", cloudwatch=cloudwatch, namespace="ServerlessSRE", service="user-api",
                       timeout_seconds=5, get_status=get_status, clock=lambda: T0)


def test_successful_probe_records_one_success(cloudwatch):
    result = make_probe(cloudwatch, lambda url, timeout: 200).probe()
    assert (result.success, probe_sums(cloudwatch, "probe_total"), probe_sums(cloudwatch, "probe_success")) == (
        True, [1.0], [1.0])


def test_non_200_probe_is_a_failure(cloudwatch):
    result = make_probe(cloudwatch, lambda url, timeout: 503).probe()
    assert (result.success, result.status, probe_sums(cloudwatch, "probe_success")) == (False, 503, [0.0])


def test_unreachable_health_url_is_a_failure(cloudwatch):
    def refuse(url, timeout):
        raise ConnectionRefusedError("refused")

    result = make_probe(cloudwatch, refuse).probe()
    assert (result.success, result.error, probe_sums(cloudwatch, "probe_total")) == (
        False, "ConnectionRefusedError: refused", [1.0])


def test_probe_without_a_url_fails_loudly(cloudwatch):
    from chalicelib.slo.probe import HealthProbe

    with pytest.raises(ValueError, match="PROBE_URL is not set"):
        HealthProbe("", cloudwatch=cloudwatch, namespace="ServerlessSRE", service="user-api",
                    timeout_seconds=5).probe()


def test_alerts_open_incidents_by_default(wired):
    from chalicelib.incidents.adapters import SloAlertIncidentSink

    assert isinstance(wired.slo_alert_sink, SloAlertIncidentSink)


def test_the_log_sink_is_chosen_by_name(monkeypatch):
    from chalicelib import wiring

    monkeypatch.setenv("SLO_ALERT_SINK", "log")
    assert isinstance(wiring.current().slo_alert_sink, LoggingAlertSink)


def make_recording_sink():
    return RecordingSink()


def test_alert_sink_is_switched_by_a_dotted_factory(monkeypatch):
    from chalicelib import wiring

    monkeypatch.setenv("SLO_ALERT_SINK", f"{__name__}:make_recording_sink")
    sink = wiring.current().slo_alert_sink
    assert isinstance(sink, RecordingSink) and isinstance(sink, AlertSink)


def test_malformed_alert_sink_setting_is_refused():
    with pytest.raises(ValueError, match="package.module:factory"):
        load_alert_sink_plugin("not-a-path")
