"""GET /sre/dashboard's document against the stored records it is built from, field by field."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3

from tests.support.golden import golden
from tests.unit.dashboard.conftest import NOW, OPEN_INCIDENT_ID, RUNNING_EXPERIMENT_ID


def _slo(document, name):
    return next(item for item in document["slos"]["items"] if item["name"] == name)


def test_each_slo_shows_the_stored_snapshot_figures(stored, dashboard_wiring):
    document = dashboard_wiring.dashboard.document()
    success = _slo(document, "success")
    expected = golden("slo_snapshot")
    assert document["slos"]["status"] == "ok"
    assert success["evaluated"] is True
    assert success["evaluated_at"] == expected["evaluated_at"]
    assert success["target"] == expected["target"]
    assert success["period"] == expected["period"]
    assert success["windows"] == expected["windows"]
    assert success["budget"] == expected["budget"]
    assert success["tiers"] == expected["tiers"]
    assert success["open_alerts"] == expected["open_alerts"]


def test_each_slo_shows_its_budget_policy_and_alert_thresholds_from_its_definition(stored, dashboard_wiring):
    success = _slo(dashboard_wiring.dashboard.document(), "success")
    definition = next(slo for slo in dashboard_wiring.slos if slo.name == "success").describe()
    assert success["budget_policy"] == definition["budget_policy"]
    assert [tier["burn_rate"] for tier in success["alert_tiers"]] == [tier["burn_rate"] for tier in definition["tiers"]]


def test_the_burn_down_covers_the_period_and_the_charts_the_last_week(stored, dashboard_wiring):
    success = _slo(dashboard_wiring.dashboard.document(), "success")
    point, older = stored["point"], stored["older"]
    assert success["burn_down"] == [{"at": older.at, "budget_remaining_ratio": older.budget_remaining_ratio},
                                    {"at": point.at, "budget_remaining_ratio": point.budget_remaining_ratio}]
    assert success["history"] == [golden("slo_history_point")]


def test_an_slo_without_requests_shows_an_unknown_budget_with_the_reason_not_100_percent(dashboard_wiring):
    from chalicelib.slo.records import ServiceSnapshot, SloSnapshot

    snapshot = SloSnapshot.from_json(golden("slo_snapshot_no_requests"))
    dashboard_wiring.slo_status_store.save_run([snapshot], [], ServiceSnapshot(None, {}), history_expires_at=0)
    success = _slo(dashboard_wiring.dashboard.document(), "success")
    assert (success["evaluated"], success["budget"]["remaining_ratio"], success["budget"]["state"]) == (
        True, None, "insufficient_history")
    assert "no requests" in success["budget"]["unknown_reason"]
    assert {name: (w["sli"], w["budget_remaining_ratio"]) for name, w in success["windows"].items()} == {
        name: (None, None) for name in success["windows"]}


def test_an_slo_never_evaluated_says_so_instead_of_showing_figures(stored, dashboard_wiring):
    availability = _slo(dashboard_wiring.dashboard.document(), "availability")
    assert (availability["evaluated"], availability["budget"], availability["windows"], availability["burn_down"]) == (
        False, None, {}, [])


def test_open_alerts_are_the_stored_alerts(stored, dashboard_wiring):
    alerts = dashboard_wiring.dashboard.document()["alerts"]
    assert alerts == {"status": "ok", "open": [golden("slo_alert")]}


def test_incidents_show_open_and_recent_with_mtta_mttr_mtbf(stored, dashboard_wiring):
    incidents = dashboard_wiring.dashboard.document()["incidents"]
    resolved = golden("incident")
    assert [item["id"] for item in incidents["open"]] == [OPEN_INCIDENT_ID]
    assert incidents["open"][0] == dashboard_wiring.incident_store.get(OPEN_INCIDENT_ID).to_json(with_timeline=False)
    assert incidents["open"][0]["title"] == stored["open"].title
    assert [item["id"] for item in incidents["recent"]] == [OPEN_INCIDENT_ID, resolved["id"]]
    everything = incidents["stats"]["all"]
    assert (everything["incidents"], everything["acknowledged"], everything["resolved"]) == (2, 1, 1)
    assert everything["mtta_seconds"] == 300.0  # 09:00 -> 09:05 in the golden incident
    assert everything["mttr_seconds"] == 2100.0  # 09:00 -> 09:35
    window = incidents["stats"]["window"]
    assert (window["end"], incidents["window_days"]) == ("2026-12-01T12:15:00.000000Z", 365)


def test_breakers_show_state_and_recent_transitions(stored, dashboard_wiring):
    breakers = dashboard_wiring.dashboard.document()["breakers"]
    database = next(item for item in breakers["items"] if item["name"] == "database")
    assert database["state"] == "open" and database["forced_open"] is True
    assert database["recent_transitions"][0]["to"] == "open"
    assert database["recent_transitions"][0]["actor"].startswith("alice")
    assert database == dashboard_wiring.breaker_operations.list()["circuit_breakers"][
        [item["name"] for item in breakers["items"]].index("database")]


def test_the_latency_distribution_is_the_stored_ladder_counts_per_band(stored, dashboard_wiring):
    latency = dashboard_wiring.dashboard.document()["latency"]
    hour = golden("slo_service_snapshot")["windows"]["1h"]
    counts, valid = hour["counts"], hour["valid_requests"]
    bands = latency["windows"]["1h"]["bands"]
    assert latency["thresholds_ms"] == [25, 50, 100, 200, 400, 800, 1600]
    assert latency["slo_threshold_ms"] == 200
    assert [band["le_ms"] for band in bands] == [25, 50, 100, 200, 400, 800, 1600, None]
    assert [band["cumulative"] for band in bands] == [counts[f"latency_good_{ms}ms"] for ms in
                                                      (25, 50, 100, 200, 400, 800, 1600)] + [valid]
    assert sum(band["count"] for band in bands) == valid
    assert bands[0]["count"] == counts["latency_good_25ms"]
    assert bands[1]["count"] == counts["latency_good_50ms"] - counts["latency_good_25ms"]


def test_a_rung_the_evaluator_did_not_count_is_left_out_not_shown_as_zero(dashboard_wiring):
    from chalicelib.slo.records import ServiceSnapshot

    body = golden("slo_service_snapshot")
    for window in body["windows"].values():
        window["counts"] = {name: value for name, value in window["counts"].items() if name != "latency_good_25ms"}
    dashboard_wiring.slo_status_store.save_run([], [], ServiceSnapshot.from_json(body), history_expires_at=0)
    bands = dashboard_wiring.dashboard.document()["latency"]["windows"]["1h"]["bands"]
    assert [band["le_ms"] for band in bands] == [50, 100, 200, 400, 800, 1600, None]


def test_business_figures_count_registrations_and_calls_per_route_per_window(dashboard_wiring):
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    now = datetime.now(timezone.utc)
    service = [{"Name": "service", "Value": "user-api"}]

    def put(name, value, ago, route=None):
        dimensions = service + ([{"Name": "route", "Value": route}] if route else [])
        cloudwatch.put_metric_data(Namespace="ServerlessSRE", MetricData=[{
            "MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count", "Timestamp": now - ago}])

    put("requests", 5, timedelta(minutes=30), "/api/users")
    put("requests", 7, timedelta(hours=3), "/api/users")
    put("requests", 2, timedelta(days=2), "/health")
    put("users_registered", 2, timedelta(minutes=10))
    put("users_registered", 3, timedelta(days=2))
    business = dashboard_wiring.dashboard.document()["business"]
    assert business["status"] == "ok"
    assert business["users_registered"] == {"1h": 2, "24h": 2, "7d": 5}
    assert business["api_calls"] == [{"route": "/api/users", "1h": 5, "24h": 12, "7d": 12},
                                     {"route": "/health", "1h": 0, "24h": 0, "7d": 2}]


def test_a_registration_through_the_users_service_is_counted(tables, monkeypatch):
    from chalicelib import wiring
    from chalicelib.observability import metrics

    seen = []
    metrics.add_record_listener(seen.append)
    try:
        wiring.current().user_service.create({"name": "Ada", "email": "ada@example.com"})
    finally:
        metrics.remove_record_listener(seen.append)
    assert [record["users_registered"] for record in seen if "users_registered" in record] == [[1.0]]


def test_with_nothing_stored_every_section_says_empty_not_zero(dashboard_wiring):
    document = dashboard_wiring.dashboard.document()
    assert document["slos"]["status"] == "empty"
    assert all(item["evaluated"] is False for item in document["slos"]["items"])
    assert document["latency"]["status"] == "empty" and document["latency"]["windows"] == {}
    assert document["alerts"] == {"status": "empty", "open": []}
    assert document["incidents"]["status"] == "empty"
    assert document["incidents"]["stats"]["all"]["mtta_seconds"] is None
    assert document["business"]["status"] == "empty"
    assert document["evaluator"]["status"] == "empty"
    assert document["tickets"]["status"] == "empty" and document["tickets"]["open"] == []
    assert document["experiments"]["status"] == "empty" and document["experiments"]["recent"] == []
    components = {item["name"]: item["status"] for item in document["health"]["components"]}
    assert components["slo_evaluator"] == "unknown" and components["metric_forwarding"] == "unknown"


def test_capabilities_not_wired_are_shown_as_unavailable(dashboard_wiring):
    from dataclasses import replace

    service = dashboard_wiring.dashboard
    service.ports = replace(service.ports, tickets=None, experiments=None, capacity=None)
    document = service.document()
    for name in ("tickets", "experiments", "capacity"):
        assert document[name]["status"] == "unavailable", name


def test_a_failing_read_fails_its_section_and_the_rest_still_shows(stored, dashboard_wiring):
    class Broken:
        def list(self):
            raise ConnectionError("breaker table unreachable")

    from dataclasses import replace

    service = dashboard_wiring.dashboard
    service.ports = replace(service.ports, breakers=Broken())
    document = service.document()
    assert document["breakers"] == {"status": "failed", "error": "ConnectionError: breaker table unreachable"}
    components = {item["name"]: item for item in document["health"]["components"]}
    assert components["circuit_breakers"]["status"] == "unknown"
    assert document["slos"]["status"] == "ok"


def test_health_lists_each_component_check(stored, dashboard_wiring):
    health = dashboard_wiring.dashboard.document()["health"]
    components = {item["name"]: item for item in health["components"]}
    assert set(components) == {"users_table", "slo_evaluator", "metric_forwarding", "circuit_breakers",
                               "escalation_workflow"}
    assert components["users_table"]["status"] == "ok"
    assert components["circuit_breakers"]["status"] == "degraded"
    assert components["circuit_breakers"]["tripped"] == ["database"]
    assert components["escalation_workflow"]["status"] == "unknown"  # no state machine configured here
    assert health["status"] == "degraded"


def test_the_evaluator_lag_comes_from_its_record(stored, dashboard_wiring):
    dashboard_wiring.slo_status_store.save_evaluator_record({
        "last_end": "2026-12-01T12:00:00Z", "last_run_at": "2026-12-01T12:00:05Z",
        "newest_data_minute": "2026-12-01T11:59:00Z", "last_run": {"errors": []}})
    document = dashboard_wiring.dashboard.document()
    components = {item["name"]: item for item in document["health"]["components"]}
    assert document["evaluator"]["lag_seconds"] == 900.0
    assert components["slo_evaluator"]["status"] == "down"  # 15 minutes behind: stale
    assert components["metric_forwarding"]["data_age_seconds"] == 960.0


def test_the_document_states_its_reads_and_they_do_not_grow_with_history(stored, dashboard_wiring):
    from dataclasses import replace

    from chalicelib.slo.records import HistoryPoint

    point = HistoryPoint.from_json(golden("slo_history_point"))
    more = [("success", replace(point, at=(NOW - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:00:00Z")))
            for hours in range(1, 100)]
    dashboard_wiring.slo_status_store.save_run([], more, dashboard_wiring.slo_status_store.service_snapshot(),
                                               history_expires_at=0)
    first = dashboard_wiring.dashboard.document()
    second = dashboard_wiring.dashboard.document()
    slos, breakers = len(dashboard_wiring.slos), len(dashboard_wiring.breaker_configs)
    # The first document reads every SLO's period (one query each); later ones only the last two hours.
    # No escalation workflow is configured here (-1).
    assert first["reads"]["total"] == first["reads"]["bound"] - 1 == 19 + slos + breakers - 1
    assert second["reads"]["total"] == first["reads"]["total"] - slos
    assert second["reads"]["by_section"]["slo_history"] == 1
    assert len(_slo(first, "success")["burn_down"]) == len(_slo(second, "success")["burn_down"]) == 101
    assert _slo(first, "success") == _slo(second, "success")


def test_the_capacity_section_is_the_stored_plan_per_forecast(dashboard_wiring):
    from chalicelib.capacity.records import UtilizationReport

    report = UtilizationReport.from_json(golden("capacity_utilization_report"))
    dashboard_wiring.capacity_store.put_report(report)
    capacity = dashboard_wiring.dashboard.document()["capacity"]
    plan = dashboard_wiring.capacity_planner.plan()
    assert capacity["status"] == "ok"
    assert capacity["summary"] == {"collected_at": report.collected_at, "days_of_data": plan["data"]["days_of_data"],
                                   "series": len(report.series), "recommendations": len(plan["recommendations"])}
    assert [item["series"] for item in capacity["items"]] == [item["series"] for item in plan["forecasts"]]
    requests = next(item for item in capacity["items"] if item["series"] == "requests")
    forecast = next(item for item in plan["forecasts"] if item["series"] == "requests")
    assert (requests["model"], requests["history_days"], requests["next_7_days"]) == (
        forecast["model"], forecast["history_days"], forecast["next_7_days"])
    assert requests["latest_peak"] == next(series.latest_peak for series in report.series if series.name == "requests")


def test_without_a_collection_the_capacity_section_is_empty_with_the_reason(dashboard_wiring):
    capacity = dashboard_wiring.dashboard.document()["capacity"]
    assert (capacity["status"], capacity["note"]) == ("empty", "no utilization collected yet")


def test_a_breaker_left_alone_is_shown_as_its_golden_description(stored, dashboard_wiring):
    breakers = dashboard_wiring.dashboard.document()["breakers"]["items"]
    webhook = next(item for item in breakers if item["name"] == "webhook")
    assert webhook == golden("breaker_description")


def test_a_count_without_dimensions_is_recorded_under_one_dimension_set():
    from chalicelib.observability import metrics

    seen = []
    metrics.add_record_listener(seen.append)
    try:
        metrics.Counters("ServerlessSRE", "user-api").count("users_registered", {})
    finally:
        metrics.remove_record_listener(seen.append)
    assert seen[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


def test_tickets_show_the_stored_open_ticket_field_by_field(stored, dashboard_wiring):
    tickets = dashboard_wiring.dashboard.document()["tickets"]
    assert tickets["status"] == "ok"
    assert tickets["open"] == [golden("ticket")] == [stored["ticket"].to_json()]
    assert tickets["recent"] == [golden("ticket")]
    assert tickets["summary"] == {"open": 1, "opened_in_window": 1, "linked_to_incidents": 1}


def test_a_resolved_ticket_is_listed_as_recent_not_open(stored, dashboard_wiring):
    dashboard_wiring.ticket_service.resolve_for_alert({"id": golden("ticket")["alert_id"],
                                                       "resolved_at": "2026-12-01T08:00:00Z"})
    tickets = dashboard_wiring.dashboard.document()["tickets"]
    assert tickets["open"] == []
    assert [(item["id"], item["status"], item["resolved_at"]) for item in tickets["recent"]] == [
        (golden("ticket")["id"], "resolved", "2026-12-01T08:00:00Z")]


def test_each_experiment_shows_its_journal_and_verdict_field_by_field(stored, dashboard_wiring):
    from chalicelib.dashboard.sections import EXPERIMENT_FIELDS

    experiments = dashboard_wiring.dashboard.document()["experiments"]
    expected = golden("chaos_experiment")
    [finished] = experiments["recent"]
    assert {key: finished[key] for key in EXPERIMENT_FIELDS} == {key: expected[key] for key in EXPERIMENT_FIELDS}
    assert (finished["status"], finished["reason"]) == ("completed", "the service responded as designed")
    assert (finished["steady_state_before_met"], finished["steady_state_after_met"]) == (True, True)
    assert (finished["expected_met"], finished["expected_total"]) == (1, 1)
    assert "saved" not in finished and "definition" not in finished


def test_a_running_experiment_is_listed_as_running(stored, dashboard_wiring):
    experiments = dashboard_wiring.dashboard.document()["experiments"]
    assert experiments["status"] == "ok"
    assert [item["id"] for item in experiments["running"]] == [RUNNING_EXPERIMENT_ID]
    assert experiments["running"][0]["steady_state_after_met"] is None  # not measured yet: no verdict
    assert experiments["summary"] == {"shown": 2, "running": 1, "by_status": {"running": 1, "completed": 1}}


def test_an_unreadable_journal_fails_the_experiments_section_only(stored, dashboard_wiring):
    from dataclasses import replace

    from chalicelib.dashboard.sections import ExperimentsSection

    class Unreachable:
        def listing(self, limit):
            raise ConnectionError("journal table unreachable")

    service = dashboard_wiring.dashboard
    service.ports = replace(service.ports, experiments=ExperimentsSection(Unreachable(), limit=10))
    document = service.document()
    assert document["experiments"] == {"status": "failed", "error": "ConnectionError: journal table unreachable"}
    assert document["tickets"]["status"] == "ok"


def test_an_open_incident_older_than_the_window_is_still_listed_open(stored, dashboard_wiring):
    from dataclasses import replace

    from chalicelib.dashboard.service import DashboardService
    from chalicelib.incidents.model import Incident

    old = replace(Incident.from_json(golden("incident")), id="inc-00000000000000bb", fingerprint="manual:old",
                  status="triggered", opened_at="2026-10-01T00:00:00.000000Z", acknowledged_at=None,
                  acknowledged_by=None, mitigated_at=None, resolved_at=None, resolved_by=None, timeline=())
    dashboard_wiring.incident_store.create(old)
    service = DashboardService(dashboard_wiring.dashboard.ports, history_hours=168, incident_window_days=30,
                               refresh_seconds=30, recent_incidents=20, clock=lambda: NOW)
    incidents = service.document()["incidents"]
    assert [item["id"] for item in incidents["open"]] == [OPEN_INCIDENT_ID, old.id]
    assert old.id not in [item["id"] for item in incidents["recent"]]


def test_business_figures_and_capacity_are_reused_for_their_max_age_and_say_so(stored, dashboard_wiring):
    from chalicelib.dashboard.service import DashboardService

    now = {"at": NOW}
    service = DashboardService(dashboard_wiring.dashboard.ports, history_hours=168, incident_window_days=30,
                               refresh_seconds=30, recent_incidents=20, cache_seconds=60, clock=lambda: now["at"])
    first = service.document()
    now["at"] = NOW + timedelta(seconds=45)
    second = service.document()
    now["at"] = NOW + timedelta(seconds=61)
    third = service.document()
    for name in ("business", "capacity"):
        assert (first[name]["computed_at"], first[name]["age_seconds"]) == ("2026-12-01T12:15:00Z", 0.0)
        assert (second[name]["computed_at"], second[name]["age_seconds"]) == ("2026-12-01T12:15:00Z", 45.0)
        assert (third[name]["computed_at"], third[name]["age_seconds"]) == ("2026-12-01T12:16:01Z", 0.0)
        assert first[name]["max_age_seconds"] == 60
        assert (first["reads"]["by_section"][name], second["reads"]["by_section"][name]) != (0, 0)
        assert second["reads"]["by_section"][name] == 0
    # The capacity plan's 3 reads and the business figures' 4; the SLO histories' first fill (1 per SLO) too.
    assert second["reads"]["total"] == first["reads"]["total"] - 7 - len(dashboard_wiring.slos)


def test_a_failed_business_read_is_not_reused(stored, dashboard_wiring):
    from dataclasses import replace

    from chalicelib.dashboard.service import DashboardService

    class Flaky:
        calls = 0

        def read(self):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise ConnectionError("CloudWatch throttled")
            return dashboard_wiring.business_figures.read()

    ports = replace(dashboard_wiring.dashboard.ports, business=Flaky())
    service = DashboardService(ports, history_hours=168, incident_window_days=30, refresh_seconds=30,
                               recent_incidents=20, cache_seconds=60, clock=lambda: NOW)
    assert service.document()["business"]["status"] == "failed"
    assert service.document()["business"]["status"] == "empty"  # read again: nothing counted yet
