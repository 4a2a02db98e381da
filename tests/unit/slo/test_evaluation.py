"""The evaluator against moto CloudWatch and DynamoDB: known counts in, exact figures out."""
import json
from datetime import timedelta

from chalicelib.wiring import current as wired
from tests.unit.slo.helpers import T0, RecordingSink

REQUESTS = {"requests": 12, "valid_requests": 10, "good_availability": 9, "server_errors": 1,
            "latency_good_200ms": 8, "data_queries": 4, "fresh_data_queries": 4,
            "probe_total": 1, "probe_success": 1}


def fill(put_counts, start, minutes, **counts):
    for index in range(minutes):
        put_counts(start + timedelta(minutes=index), **(counts or REQUESTS))


def test_known_counts_give_exact_window_figures(short_min_history, make_evaluator, put_counts, clock, latest):
    fill(put_counts, T0 - timedelta(minutes=90), 90)
    make_evaluator().run()
    success = latest("success")
    counts = {w: (success["windows"][w]["good"], success["windows"][w]["valid"]) for w in ("5m", "1h", "2h", "30d")}
    assert counts == {"5m": (45, 50), "1h": (540, 600), "2h": (810, 900), "30d": (810, 900)}
    assert success["windows"]["1h"]["burn_rate"] == 10.0
    assert success["budget"] == {"state": "exhausted", "remaining_ratio": -9.0,
                                 "history": {"since": "2026-12-01T10:30:00Z", "minutes": 90, "required_minutes": 30,
                                             "valid_events": 900, "required_events": 100, "sufficient": True},
                                 "total": 9.0, "consumed": 90, "remaining": -81.0, "warning_below": 0.25,
                                 "freezes_releases": True, "unknown_reason": None}
    assert latest("latency")["windows"]["1h"]["sli"] == 0.8


def test_rollups_hold_the_sums_of_their_minutes(make_evaluator, put_counts):
    fill(put_counts, T0 - timedelta(minutes=90), 90)
    make_evaluator().run()
    hours = wired().slo_bucket_store.query("success", "h", T0 - timedelta(hours=2), T0)
    days = wired().slo_bucket_store.query("success", "d", T0 - timedelta(days=1), T0)
    assert hours == {T0 - timedelta(hours=2): {"good": 270, "valid": 300},
                     T0 - timedelta(hours=1): {"good": 540, "valid": 600}}
    assert days == {T0.replace(hour=0): {"good": 810, "valid": 900}}


def test_probe_minutes_are_time_slices(make_evaluator, put_counts, latest):
    fill(put_counts, T0 - timedelta(minutes=10), 10, probe_total=1, probe_success=1)
    put_counts(T0 - timedelta(minutes=3), probe_total=1, probe_success=0)
    make_evaluator().run()
    windows = latest("availability")["windows"]
    assert (windows["5m"]["good"], windows["5m"]["valid"], latest("availability")["unit"]) == (4, 5, "minutes")


def test_second_run_on_the_same_data_writes_no_bucket(make_evaluator, put_counts, latest):
    fill(put_counts, T0 - timedelta(minutes=30), 30)
    evaluator = make_evaluator()
    first = evaluator.run()
    snapshot = latest("success")
    second = evaluator.run()
    assert (first.buckets_written > 0, second.buckets_written, second.minutes_changed) == (True, 0, 0)
    assert latest("success") == snapshot


def test_late_datapoint_within_the_reread_window_is_counted(make_evaluator, put_counts, clock, latest):
    fill(put_counts, T0 - timedelta(minutes=10), 10)
    evaluator = make_evaluator()
    evaluator.run()
    put_counts(T0 - timedelta(minutes=2), valid_requests=5, good_availability=5)  # arrives after the run
    clock.advance(minutes=1)
    evaluator.run()
    assert latest("success")["windows"]["1h"]["valid"] == 105
    assert wired().slo_bucket_store.query("success", "h", T0 - timedelta(hours=1), T0) == {
        T0 - timedelta(hours=1): {"good": 95, "valid": 105}}


def test_next_run_catches_up_after_skipped_runs(make_evaluator, put_counts, clock, latest):
    fill(put_counts, T0 - timedelta(minutes=5), 5)
    evaluator = make_evaluator()
    evaluator.run()
    fill(put_counts, T0, 180)  # three hours in which the evaluator never ran
    clock.advance(hours=3)
    report = evaluator.run()
    assert report.fetch_start == T0 - timedelta(minutes=5)
    assert latest("success")["windows"]["6h"]["valid"] == 1850


def test_catch_up_is_bounded_and_reports_the_skipped_minutes(make_evaluator, put_counts, clock, monkeypatch):
    from chalicelib import wiring

    monkeypatch.setenv("SLO_CATCHUP_HOURS", "2")
    wiring.reset()
    evaluator = make_evaluator()
    evaluator.run()
    clock.advance(hours=5)
    report = evaluator.run()
    assert (report.fetch_start, report.gap_minutes_skipped) == (clock.now - timedelta(hours=2), 185)


def test_windows_spanning_days_read_rollups_not_minutes(make_evaluator, put_counts, clock, latest):
    fill(put_counts, T0 - timedelta(minutes=3), 3)
    evaluator = make_evaluator()
    evaluator.run()
    clock.advance(days=2)
    fill(put_counts, clock.now - timedelta(minutes=3), 3)
    store = evaluator.buckets
    read_before = store.items_read
    evaluator.run()  # gap > catch-up: only the last 24h are re-read, the old day comes from its rollup
    assert latest("success")["windows"]["3d"]["valid"] == 60
    assert store.items_read - read_before < 200


def test_burning_slo_opens_one_deduplicated_page_and_hands_it_off(make_evaluator, put_counts, clock, sink):
    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=0, latency_good_200ms=100)
    evaluator = make_evaluator()
    first = evaluator.run()
    clock.advance(minutes=1)
    put_counts(T0, valid_requests=100, good_availability=0, latency_good_200ms=100)
    second = evaluator.run()
    assert [alert_id.split("/")[:2] for alert_id in first.alerts_opened] == [["success", "page-fast"]]
    assert second.alerts_opened == []
    assert [(alert["slo"], alert["tier"], alert["severity"], alert["runbook"]) for alert in sink.opened] == [
        ("success", "page-fast", "page", "runbooks/slo-page-fast.md")]


def test_alert_resolves_when_the_burn_stops_and_is_kept(make_evaluator, put_counts, clock, sink):

    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=0, latency_good_200ms=100)
    evaluator = make_evaluator()
    evaluator.run()
    fill(put_counts, T0, 10, valid_requests=1000, good_availability=1000, latency_good_200ms=1000)
    clock.advance(minutes=10)
    report = evaluator.run()
    assert [alert["tier"] for alert in sink.resolved] == ["page-fast"]
    assert report.alerts_resolved == [sink.opened[0]["id"]]
    kept = [alert for alert in wired().slo_alert_store.listing("alert", 10) if alert.tier == "page-fast"]
    assert [(a.state, a.opened_at, a.resolved_at) for a in kept] == [
        ("resolved", "2026-12-01T12:00:00Z", "2026-12-01T12:10:00Z")]
    assert "page-fast" not in [alert.tier for alert in wired().slo_alert_store.listing("open", 10)]


def test_a_suppressed_tier_alert_closes_saying_by_which_tier(make_evaluator, put_counts, clock, sink):
    fill(put_counts, T0 - timedelta(hours=4), 240, valid_requests=100, good_availability=93, latency_good_200ms=100)
    evaluator = make_evaluator()
    evaluator.run()
    assert [alert["tier"] for alert in sink.opened if alert["slo"] == "success"] == ["page-slow"]
    fill(put_counts, T0, 10, valid_requests=100, good_availability=0, latency_good_200ms=100)
    clock.advance(minutes=10)
    evaluator.run()
    assert [alert["tier"] for alert in sink.opened if alert["slo"] == "success"] == ["page-slow", "page-fast"]
    [closed] = [alert for alert in sink.resolved if alert["slo"] == "success"]
    assert (closed["tier"], closed["state"], closed["resolution"]) == ("page-slow", "resolved",
                                                                       "suppressed by page-fast")
    tiers = {tier["name"]: tier for tier in latest_tiers("success")}
    assert (tiers["page-slow"]["state"], tiers["page-slow"]["suppressed_by"]) == ("suppressed", "page-fast")


def latest_tiers(name):
    from chalicelib.wiring import current

    return current().slo_status_store.latest([name])[name].tiers


def test_every_run_hands_each_slos_page_picture_to_the_sink(make_evaluator, put_counts, clock, sink):
    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=0, latency_good_200ms=100)
    evaluator = make_evaluator()
    evaluator.run()
    clock.advance(minutes=1)
    evaluator.run()
    success = [evaluation for evaluation in sink.evaluations if evaluation.slo == "success"]
    assert [(e.at, [alert.tier for alert in e.firing_pages]) for e in success] == [
        ("2026-12-01T12:00:00Z", ["page-fast"]), ("2026-12-01T12:01:00Z", ["page-fast"])]
    assert success[0].page_tiers == ("page-fast", "page-slow")
    assert {evaluation.slo for evaluation in sink.evaluations} == {"availability", "freshness", "latency", "success"}


def test_failed_hand_off_is_retried_next_run(make_evaluator, put_counts, clock):
    flaky = RecordingSink(fail_opened=1)
    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=0, latency_good_200ms=100)
    evaluator = make_evaluator(alert_sink=flaky)
    evaluator.run()
    assert flaky.opened == []
    clock.advance(minutes=1)
    evaluator.run()
    assert [alert["tier"] for alert in flaky.opened] == ["page-fast"]


def test_low_traffic_outage_opens_nothing(make_evaluator, put_counts):
    fill(put_counts, T0 - timedelta(minutes=5), 5, valid_requests=2, good_availability=0)
    report = make_evaluator().run()
    assert report.alerts_opened == []


def test_a_period_without_requests_has_an_unknown_budget_and_pages_nobody(make_evaluator, sink, latest):
    report = make_evaluator().run()
    success = latest("success")
    assert (success["budget"]["remaining_ratio"], success["budget"]["total"], success["budget"]["state"]) == (
        None, None, "insufficient_history")
    assert success["budget"]["unknown_reason"] == (
        "no requests in the 30d window yet: the SLI and error budget are unknown")
    assert {(w["sli"], w["budget_remaining_ratio"], w["seconds_to_exhaustion"]) for w in success["windows"].values()} == {
        (None, None, None)}
    assert {tier["state"] for tier in success["tiers"]} == {"insufficient_data"}
    assert (report.alerts_opened, [alert for item in sink.evaluations for alert in item.firing_pages]) == ([], [])


def test_too_few_events_in_the_period_freeze_nothing(short_min_history, make_evaluator, put_counts, latest):
    fill(put_counts, T0 - timedelta(minutes=40), 40, valid_requests=2, good_availability=0)
    make_evaluator().run()
    budget = latest("success")["budget"]
    assert (budget["state"], budget["freezes_releases"], budget["remaining_ratio"]) == (
        "insufficient_history", False, -99.0)
    assert (budget["history"]["minutes"], budget["history"]["valid_events"]) == (40, 80)


def test_less_than_a_day_of_history_is_insufficient_history_with_the_figures_shown(make_evaluator, put_counts,
                                                                                  latest):
    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=50, latency_good_200ms=100)
    make_evaluator().run()
    success = latest("success")
    assert (success["budget"]["state"], success["budget"]["freezes_releases"]) == ("insufficient_history", False)
    assert success["budget"]["remaining_ratio"] == -49.0
    assert success["budget"]["history"] == {"since": "2026-12-01T11:00:00Z", "minutes": 60, "required_minutes": 1440,
                                            "valid_events": 6000, "required_events": 100, "sufficient": False}


def test_burn_rate_tiers_page_while_the_budget_has_insufficient_history(make_evaluator, put_counts, sink, latest):
    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=50, latency_good_200ms=100)
    make_evaluator().run()
    [evaluation] = [item for item in sink.evaluations if item.slo == "success"]
    assert [alert.tier for alert in evaluation.firing_pages] == ["page-fast"]
    assert evaluation.budget_state == "insufficient_history"


def test_a_day_of_history_makes_the_budget_state_count(monkeypatch, make_evaluator, put_counts, clock, latest):
    from chalicelib import wiring

    monkeypatch.setenv("SLO_CATCHUP_HOURS", "25")
    wiring.reset()
    fill(put_counts, T0 - timedelta(hours=25), 25 * 60, valid_requests=10, good_availability=10,
         latency_good_200ms=10)
    make_evaluator().run()
    budget = latest("success")["budget"]
    assert (budget["state"], budget["history"]["since"], budget["history"]["sufficient"]) == (
        "healthy", "2026-11-30T11:00:00Z", True)


def test_service_metrics_are_computed_per_window(make_evaluator, put_counts):
    fill(put_counts, T0 - timedelta(minutes=10), 10)
    make_evaluator().run()
    service = wired().slo_status_store.service_snapshot().to_json()["windows"]["5m"]
    assert (service["requests"], service["error_rate"], service["latency_good_ratio"]["200ms"],
            service["probe_success_ratio"]) == (60, 0.1, 0.8, 1.0)
    assert service["request_rate_per_second"] == 60 / 300


def test_run_record_tells_lag_and_data_freshness(make_evaluator, put_counts, clock):
    fill(put_counts, T0 - timedelta(minutes=5), 5)
    make_evaluator().run()
    record = wired().slo_status_store.evaluator_record()
    assert (record["last_end"], record["newest_data_minute"]) == ("2026-12-01T12:00:00Z", "2026-12-01T11:59:00Z")


def test_metrics_of_all_slos_are_read_in_one_call(make_evaluator, put_counts):
    fill(put_counts, T0 - timedelta(minutes=5), 5)
    assert make_evaluator().run().cloudwatch_calls == 1


def _agrees(state, remaining_ratio, sufficient, warning_below=0.25):
    from chalicelib.slo import budget

    if not sufficient:
        return state == budget.INSUFFICIENT_HISTORY
    return state == budget.budget_state(remaining_ratio, warning_below)


def test_every_stored_snapshot_has_a_state_that_agrees_with_its_ratio_and_history(
        monkeypatch, make_evaluator, put_counts, clock):
    from chalicelib import wiring

    monkeypatch.setenv("SLO_MIN_HISTORY", "2h")
    wiring.reset()
    evaluator = make_evaluator()
    # Young and burning (insufficient history, whatever the ratio), then old enough and exhausted.
    for minute in range(180):
        failed = 60 if 20 <= minute < 40 or minute >= 150 else 0
        put_counts(T0 + timedelta(minutes=minute), valid_requests=100, good_availability=100 - failed,
                   latency_good_200ms=100, data_queries=10, fresh_data_queries=10, probe_total=1, probe_success=1)
        if minute % 10 == 9:
            clock.now = T0 + timedelta(minutes=minute + 1)
            evaluator.run()
    items = [item for item in wiring.current().slo_status_store.model.scan()
             if item.slo in ("availability", "freshness", "latency", "success")]
    rows = [(item.slo, item.data) for item in items if not item.at.startswith("H#")]  # H#: hourly rollup copies
    snapshots = [row for _, row in rows if "budget" in row]
    points = [(slo, row) for slo, row in rows if "budget" not in row]
    assert len(snapshots) == 4 and len(points) == 4 * 18
    assert all((item.slo, item.data) in points for item in items if item.at.startswith("H#"))
    for snapshot in snapshots:
        budget = snapshot["budget"]
        assert _agrees(budget["state"], budget["remaining_ratio"], budget["history"]["sufficient"]), snapshot["slo"]
        assert budget["remaining_ratio"] == snapshot["windows"][snapshot["period"]]["budget_remaining_ratio"]
        assert budget["freezes_releases"] == (budget["state"] == "exhausted")
    for slo, point in points:
        assert _agrees(point["state"], point["budget_remaining_ratio"], point["history_sufficient"]), (slo, point)
    success_states = {point["state"] for slo, point in points if slo == "success"}
    assert success_states == {"insufficient_history", "exhausted"}


class LambdaTimeout(BaseException):
    """The function stopped mid-run (timeout, out of memory): nothing after this line runs."""


def crash_once_after_minute_rows(monkeypatch, failure, series="success"):
    """The next bucket write of ``series`` stores its minute rows, then fails before its hour and day rollups."""
    store = wired().slo_bucket_store
    real_write, state = store.write, {"crashed": False}

    def write(rows):
        rows = list(rows)
        if state["crashed"] or {row[0] for row in rows} != {series}:
            return real_write(rows)
        state["crashed"] = True
        real_write([row for row in rows if row[1] == "m"])
        raise failure

    monkeypatch.setattr(store, "write", write)


EXPECTED_AFTER_90_MINUTES = {"5m": (45, 50), "1h": (540, 600), "2h": (810, 900), "30d": (810, 900)}


def window_counts(latest, name="success"):
    snapshot = latest(name)
    return {w: (snapshot["windows"][w]["good"], snapshot["windows"][w]["valid"]) for w in EXPECTED_AFTER_90_MINUTES}


def test_a_run_that_crashes_midway_is_caught_up_without_counting_a_minute_twice(monkeypatch, make_evaluator,
                                                                                put_counts, clock, latest):
    fill(put_counts, T0 - timedelta(minutes=90), 90)
    crash_once_after_minute_rows(monkeypatch, LambdaTimeout())
    try:
        make_evaluator().run()
    except LambdaTimeout:
        pass
    clock.advance(minutes=1)
    report = make_evaluator().run(now=T0)  # the next scheduled run, as of the same minute's data
    assert report.errors == []
    assert window_counts(latest) == EXPECTED_AFTER_90_MINUTES
    hours = wired().slo_bucket_store.query("success", "h", T0 - timedelta(hours=2), T0)
    assert hours == {T0 - timedelta(hours=2): {"good": 270, "valid": 300},
                     T0 - timedelta(hours=1): {"good": 540, "valid": 600}}


def test_a_run_whose_bucket_writes_failed_is_redone_by_the_next_run(monkeypatch, make_evaluator, put_counts, clock,
                                                                     latest):
    fill(put_counts, T0 - timedelta(minutes=90), 90)
    crash_once_after_minute_rows(monkeypatch, RuntimeError("ProvisionedThroughputExceededException"))
    first = make_evaluator().run()
    assert first.errors  # recorded and logged, the other SLOs evaluated
    assert wired().slo_status.plane_health()["status"] == "degraded"
    clock.advance(minutes=30)  # past the re-read window: only a run that did not move on catches up
    make_evaluator().run(now=T0)
    assert window_counts(latest) == EXPECTED_AFTER_90_MINUTES


def test_a_run_with_errors_does_not_move_the_evaluated_minute_on(monkeypatch, make_evaluator, put_counts, clock):
    fill(put_counts, T0 - timedelta(minutes=90), 90)
    good = make_evaluator().run()
    assert good.evaluated_through == good.end
    fill(put_counts, T0, 5)
    clock.advance(minutes=5)
    crash_once_after_minute_rows(monkeypatch, RuntimeError("ProvisionedThroughputExceededException"))
    failed = make_evaluator().run()
    assert failed.errors and failed.end > good.end
    assert failed.evaluated_through == good.end
    assert failed.to_json()["evaluated_through"] == good.to_json()["end"]


def test_a_run_that_overlaps_another_still_sees_the_page_the_other_opened(make_evaluator, put_counts, latest):
    """Two runs of one minute at once (EventBridge delivers at least once): the one that loses the
    open lock must still hand the sink the page as firing, or the incident side would start the
    hold-down of an incident that is burning."""
    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=0, latency_good_200ms=100)
    winner_sink, loser_sink = RecordingSink(), RecordingSink()
    loser = make_evaluator(alert_sink=loser_sink)
    locks = loser.alerts.locks
    stale = {"success": locks.open_alerts("success")}  # read before the other run opened the page
    make_evaluator(alert_sink=winner_sink).run()
    real_open_alerts = locks.open_alerts
    locks.open_alerts = lambda slo: stale.pop(slo) if slo in stale else real_open_alerts(slo)
    report = loser.run()
    [evaluation] = [item for item in loser_sink.evaluations if item.slo == "success"]
    assert [alert.tier for alert in evaluation.firing_pages] == ["page-fast"]
    assert (report.alerts_opened, loser_sink.opened) == ([], [])
    assert latest("success")["open_alerts"] == [winner_sink.opened[0]["id"]]


def test_every_alert_transition_is_logged_whatever_the_sink(make_evaluator, put_counts, clock, sink, capsys):
    """With the default sink (incidents) no line said an alert opened: the local console never showed one."""
    fill(put_counts, T0 - timedelta(minutes=60), 60, valid_requests=100, good_availability=0, latency_good_200ms=100)
    evaluator = make_evaluator()
    capsys.readouterr()
    evaluator.run()
    fill(put_counts, T0, 10, valid_requests=1000, good_availability=1000, latency_good_200ms=1000)
    clock.advance(minutes=10)
    evaluator.run()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"level"')]
    transitions = [(line["level"], line["message"], line["alert"]["tier"]) for line in lines
                   if line["message"].startswith("slo alert")]
    assert ("WARNING", "slo alert opened", "page-fast") in transitions
    assert ("INFO", "slo alert resolved", "page-fast") in transitions
