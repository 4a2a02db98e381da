import textwrap

import pytest

from chalicelib.slo.config import SloConfigError, load_slos

SLI = """
apiVersion: openslo/v1
kind: SLI
metadata: {name: ok-requests}
spec:
  ratioMetric:
    counter: true
    good: {metricSource: {type: AppCounters, spec: {metric: good_availability}}}
    total: {metricSource: {type: AppCounters, spec: {metric: valid_requests}}}
"""

SLO = """
apiVersion: openslo/v1
kind: SLO
metadata:
  name: custom
  annotations: {annotations}
spec:
  service: user-api
  indicatorRef: {indicator}
  timeWindow: [{{duration: {period}, isRolling: true}}]
  budgetingMethod: Occurrences
  objectives: [{{target: {target}}}]
"""


def write(tmp_path, text, name="custom.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def slo_file(tmp_path, annotations="{}", indicator="ok-requests", period="30d", target="0.99"):
    return write(tmp_path, SLI + "---" + SLO.format(annotations=annotations, indicator=indicator,
                                                     period=period, target=target))


def test_shipped_files_define_the_four_slos(shipped_slos):
    described = {slo.name: (slo.target, slo.period_minutes, slo.budgeting_method) for slo in shipped_slos}
    assert described == {"availability": (0.999, 43200, "Timeslices"), "latency": (0.95, 43200, "Occurrences"),
                         "success": (0.99, 43200, "Occurrences"), "freshness": (0.995, 10080, "Occurrences")}


def test_shipped_slos_count_the_middleware_metrics(shipped_slos):
    metrics = {slo.name: sorted(ref.name for ref in slo.indicator.metrics()) for slo in shipped_slos}
    assert metrics == {"availability": ["probe_success", "probe_total"],
                       "latency": ["latency_good_200ms", "valid_requests"],
                       "success": ["good_availability", "valid_requests"],
                       "freshness": ["data_queries", "fresh_data_queries"]}


def test_success_slo_counts_api_gateway_metrics_when_deployed(monkeypatch):
    monkeypatch.setenv("API_GATEWAY_NAME", "serverless-sre")
    success = next(slo for slo in load_slos() if slo.name == "success")
    assert success.indicator.name == "gateway-success"
    assert {(ref.namespace, ref.name, ref.dimensions) for ref in success.indicator.metrics()} == {
        *(("AWS/ApiGateway", name, (("ApiName", "serverless-sre"), ("Stage", "api")))
          for name in ("Count", "4XXError", "5XXError")),
        *(("ServerlessSRE", name, (("service", "user-api"),))
          for name in ("excluded_valid_requests", "excluded_server_errors"))}


def test_thirty_day_slos_use_the_workbook_tiers(shipped_slos):
    latency = next(slo for slo in shipped_slos if slo.name == "latency")
    assert [(t.name, t.severity, t.burn_rate, t.long_minutes, t.short_minutes) for t in latency.tiers] == [
        ("page-fast", "page", 14.4, 60, 5), ("page-slow", "page", 6.0, 360, 30),
        ("ticket-fast", "ticket", 3.0, 1440, 120), ("ticket-slow", "ticket", 1.0, 4320, 360)]


def test_seven_day_slo_scales_tier_windows_and_keeps_burn_rates(shipped_slos):
    freshness = next(slo for slo in shipped_slos if slo.name == "freshness")
    assert [(t.burn_rate, t.long_minutes, t.short_minutes) for t in freshness.tiers] == [
        (14.4, 14, 5), (6.0, 84, 7), (3.0, 336, 28), (1.0, 1008, 84)]


def test_every_shipped_tier_links_an_existing_runbook(shipped_slos):
    from chalicelib.slo.config import RUNBOOKS

    for slo in shipped_slos:
        for tier in slo.tiers:
            assert (RUNBOOKS / tier.runbook).is_file()


def test_annotations_set_min_events_and_budget_policy(tmp_path):
    directory = slo_file(tmp_path, annotations='{"serverless-sre/min-events": "7", '
                                               '"serverless-sre/budget-policy": "{warningBelow: 0.5}"}')
    slo, = load_slos(directory)
    assert (slo.min_events, slo.policy.warning_below, slo.policy.freeze_releases_when) == (7, 0.5, "exhausted")


def test_malformed_yaml_names_the_file(tmp_path):
    write(tmp_path, "kind: SLO\nmetadata: [unclosed\n", "broken.yaml")
    with pytest.raises(SloConfigError, match=r"broken\.yaml: \(document\): not valid YAML"):
        load_slos(tmp_path)


def test_missing_target_names_the_field(tmp_path):
    directory = slo_file(tmp_path, target="1.5")
    with pytest.raises(SloConfigError) as error:
        load_slos(directory)
    assert error.value.file.endswith("custom.yaml")
    assert error.value.field == "document[1].spec.objectives[0].target"
    assert "1.5" in error.value.reason


def test_unknown_indicator_is_refused_with_the_known_ones(tmp_path):
    directory = slo_file(tmp_path, indicator="no-such-sli")
    with pytest.raises(SloConfigError, match=r"spec\.indicatorRef: unknown indicator 'no-such-sli'; "
                                             r"known SLIs: ok-requests"):
        load_slos(directory)


def test_unknown_metric_source_type_is_refused(tmp_path):
    write(tmp_path, SLI.replace("type: AppCounters", "type: Prometheus", 1) + "---"
          + SLO.format(annotations="{}", indicator="ok-requests", period="30d", target="0.99"))
    with pytest.raises(SloConfigError, match=r"ratioMetric\.good\.metricSource\.type: unknown metric source"):
        load_slos(tmp_path)


def test_malformed_tier_annotation_names_the_annotation(tmp_path):
    directory = slo_file(tmp_path, annotations='{"serverless-sre/burn-rate-tiers": '
                                               '"[{name: x, severity: sms, burnRate: 2, longWindow: 1h, '
                                               'shortWindow: 5m}]"}')
    with pytest.raises(SloConfigError, match=r"annotations\.serverless-sre/burn-rate-tiers\[0\]\.severity"):
        load_slos(directory)


def test_tier_without_a_runbook_is_refused(tmp_path):
    directory = slo_file(tmp_path, annotations='{"serverless-sre/burn-rate-tiers": '
                                               '"[{name: odd, severity: page, burnRate: 2, longWindow: 1h, '
                                               'shortWindow: 5m}]"}')
    with pytest.raises(SloConfigError, match="runbook 'slo-odd.md' does not exist"):
        load_slos(directory)


def test_unknown_engine_annotation_is_refused(tmp_path):
    directory = slo_file(tmp_path, annotations='{"serverless-sre/min-event": "5"}')
    with pytest.raises(SloConfigError, match="unknown annotation"):
        load_slos(directory)


def test_duplicate_slo_names_are_refused(tmp_path):
    slo_file(tmp_path)
    write(tmp_path, SLO.format(annotations="{}", indicator="ok-requests", period="30d", target="0.9"), "again.yaml")
    with pytest.raises(SloConfigError, match="SLO 'custom' is already defined"):
        load_slos(tmp_path)


def test_gateway_indicator_without_api_name_or_fallback_is_refused(tmp_path):
    gateway_sli = SLI.replace("{type: AppCounters, spec: {metric: good_availability}}",
                              "{type: ApiGateway, spec: {events: good}}")
    write(tmp_path, gateway_sli + "---" + SLO.format(annotations="{}", indicator="ok-requests", period="30d",
                                                     target="0.99"))
    with pytest.raises(SloConfigError, match="not configured here"):
        load_slos(tmp_path)


def test_latency_threshold_the_middleware_does_not_count_is_refused(monkeypatch):
    monkeypatch.setenv("LATENCY_THRESHOLDS_MS", "100,500")
    with pytest.raises(SloConfigError, match="LATENCY_THRESHOLDS_MS includes 200"):
        load_slos()
