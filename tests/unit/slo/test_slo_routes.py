import json
from datetime import timedelta

import pytest

from tests.unit.slo.helpers import T0


def get(client, path):
    response = client.http.get(path)
    return response.status_code, json.loads(response.body)


@pytest.fixture
def evaluated(make_evaluator, put_counts):
    for index in range(30):
        put_counts(T0 - timedelta(minutes=30 - index), requests=12, valid_requests=10, good_availability=10,
                   latency_good_200ms=10, probe_total=1, probe_success=1)
    make_evaluator().run()


def test_slos_before_any_run_are_listed_unevaluated(slo_client):
    status, body = get(slo_client, "/sre/slos")
    assert status == 200
    assert [(slo["name"], slo["evaluated"]) for slo in body["slos"]] == [
        ("availability", False), ("freshness", False), ("latency", False), ("success", False)]


def test_slos_report_the_evaluated_counts(short_min_history, slo_client, evaluated):
    status, body = get(slo_client, "/sre/slos")
    success = next(slo for slo in body["slos"] if slo["name"] == "success")
    assert (status, success["windows"]["30d"]["valid"], success["budget"]["state"]) == (200, 300, "healthy")


def test_one_slo_comes_with_its_time_series(slo_client, evaluated):
    status, body = get(slo_client, "/sre/slos/success?hours=2")
    assert status == 200
    assert body["series"]["hours"] == [{"start": "2026-12-01T11:00:00Z", "good": 300, "valid": 300, "sli": 1.0}]
    assert [point["at"] for point in body["series"]["history"]] == ["2026-12-01T12:00:00Z"]


@pytest.fixture
def evaluated_over_two_hours(make_evaluator, put_counts, clock):
    """Runs at 12:00, 12:10, 12:20 and 13:10."""
    for offset in (0, 10, 20, 70):
        put_counts(T0 + timedelta(minutes=offset - 1), requests=12, valid_requests=10, good_availability=10)
        make_evaluator().run(now=T0 + timedelta(minutes=offset))
    clock.advance(minutes=75)


def test_a_short_series_has_every_evaluated_minute(slo_client, evaluated_over_two_hours):
    status, body = get(slo_client, "/sre/slos/success?hours=6")
    assert (status, body["series"]["history_resolution"]) == (200, "minute")
    assert [point["at"] for point in body["series"]["history"]] == [
        "2026-12-01T12:00:00Z", "2026-12-01T12:10:00Z", "2026-12-01T12:20:00Z", "2026-12-01T13:10:00Z"]


def test_a_long_series_has_the_last_evaluated_point_of_each_hour(slo_client, evaluated_over_two_hours):
    status, body = get(slo_client, "/sre/slos/success?hours=7")
    assert (status, body["series"]["history_resolution"]) == (200, "hour")
    assert [point["at"] for point in body["series"]["history"]] == ["2026-12-01T12:20:00Z", "2026-12-01T13:10:00Z"]


def test_unknown_slo_is_a_json_404(slo_client):
    status, body = get(slo_client, "/sre/slos/nope")
    assert (status, body["error"], "success" in body["details"]["known"]) == (404, "Unknown SLO 'nope'", True)


@pytest.mark.parametrize("path, field", [("/sre/slos/success?hours=abc", "hours"),
                                         ("/sre/slos/success?hours=100000", "hours"),
                                         ("/sre/alerts?state=bogus", "state"), ("/sre/alerts?limit=0", "limit"),
                                         ("/sre/slos?x=1", "x"),
                                         ("/sre/slos/success?hours=%C2%B2", "hours"),
                                         ("/sre/slos/success?hours=" + "9" * 5000, "hours"),
                                         ("/sre/alerts?limit=%C2%B2", "limit"),
                                         ("/sre/alerts?limit=" + "9" * 5000, "limit")])
def test_bad_query_parameters_are_a_json_400(slo_client, path, field):
    status, body = get(slo_client, path)
    assert (status, list(body["details"])) == (400, [field])


def test_budget_answers_whether_releases_are_frozen(short_min_history, slo_client, make_evaluator, put_counts):
    for index in range(60):
        put_counts(T0 - timedelta(minutes=60 - index), valid_requests=100, good_availability=50,
                   latency_good_200ms=100)
    make_evaluator().run()
    status, body = get(slo_client, "/sre/budget")
    assert (status, body["releases_frozen"], body["frozen_by"]) == (200, True, ["success"])
    assert get(slo_client, "/sre/budget?slo=latency")[1]["releases_frozen"] is False


def test_budget_says_why_releases_are_frozen_since_when_and_what_unfreezes_them(
        short_min_history, slo_client, make_evaluator, put_counts, clock):
    for index in range(60):
        put_counts(T0 - timedelta(minutes=60 - index), valid_requests=100, good_availability=50,
                   latency_good_200ms=100)
    evaluator = make_evaluator()
    evaluator.run()
    clock.advance(minutes=1)
    evaluator.run()
    [reason] = get(slo_client, "/sre/budget")[1]["reasons"]
    assert (reason["slo"], reason["state"], reason["remaining_ratio"], reason["since"]) == (
        "success", "exhausted", -49.0, "2026-12-01T12:00:00Z")
    assert reason["failed_events_to_age_out"] == 2940
    assert reason["unfreezes_when"].startswith("the 30d budget remaining ratio rises above 0: 2940 failed events")


def test_a_budget_with_insufficient_history_freezes_nothing(slo_client, make_evaluator, put_counts):
    for index in range(60):
        put_counts(T0 - timedelta(minutes=60 - index), valid_requests=100, good_availability=50,
                   latency_good_200ms=100)
    make_evaluator().run()
    body = get(slo_client, "/sre/budget")[1]
    assert (body["releases_frozen"], body["reasons"]) == (False, [])
    success = next(slo for slo in body["slos"] if slo["slo"] == "success")
    assert (success["state"], success["remaining_ratio"]) == ("insufficient_history", -49.0)


def test_budget_says_why_an_slo_without_requests_has_no_remaining_ratio(slo_client, evaluated):
    [freshness] = get(slo_client, "/sre/budget?slo=freshness")[1]["slos"]  # no data query was made
    assert (freshness["state"], freshness["remaining_ratio"], freshness["unknown_reason"]) == (
        "insufficient_history", None, "no requests in the 7d window yet: the SLI and error budget are unknown")


def test_budget_of_an_unknown_slo_is_a_json_404(slo_client):
    assert get(slo_client, "/sre/budget?slo=nope")[0] == 404


def test_alerts_list_open_and_recent(slo_client, make_evaluator, put_counts):
    for index in range(60):
        put_counts(T0 - timedelta(minutes=60 - index), valid_requests=100, good_availability=0,
                   latency_good_200ms=100)
    make_evaluator().run()
    status, body = get(slo_client, "/sre/alerts")
    assert status == 200
    assert [(a["slo"], a["tier"]) for a in body["open"]] == [("success", "page-fast")]
    assert [a["state"] for a in body["recent"]] == ["open"]
    success = {row["tier"]: row for row in body["tiers"] if row["slo"] == "success"}
    assert (success["page-fast"]["state"], success["page-fast"]["suppressed_by"]) == ("firing", None)
    assert [(row["state"], row["suppressed_by"]) for name, row in success.items() if name != "page-fast"] == [
        ("suppressed", "page-fast")] * 3


def test_metrics_report_rates_per_window(slo_client, evaluated):
    status, body = get(slo_client, "/sre/metrics")
    assert (status, body["windows"]["5m"]["requests"], body["windows"]["5m"]["error_rate"]) == (200, 60, 0.0)


def test_health_of_the_sre_plane(slo_client, evaluated, clock):
    assert get(slo_client, "/sre/health")[1]["status"] == "ok"
    clock.advance(minutes=30)
    status, body = get(slo_client, "/sre/health")
    assert (status, body["status"], body["lag_seconds"], body["data_age_seconds"]) == (200, "stale", 1800.0, 1860.0)


def test_health_before_the_first_run(slo_client):
    assert get(slo_client, "/sre/health")[1]["status"] == "never_run"


def test_status_reader_gives_the_budget_state_for_other_flows(short_min_history, evaluated):
    from chalicelib import wiring

    reader = wiring.current().slo_status
    states = reader.budget_states()
    assert {name: state.state for name, state in states.items()} == {  # no data query was made
        "availability": "healthy", "freshness": "insufficient_history", "latency": "healthy", "success": "healthy"}
    assert reader.budget_state("success").remaining_ratio == 1.0
    assert reader.budget_state("freshness").remaining_ratio is None
    assert reader.releases_frozen() is False
