"""Step mode: the ramp's rates and when a step counts as broken (no network: judged from summaries)."""
import json
import os
import signal
import threading

import pytest

from tools.loadgen import parse_scenario
from tools.loadgen.report import SloObjective
from tools.loadgen.steps import StepRamp, _judge, run_steps, step_record


def summary(*, completed=100, dropped=0, met=(True, True), mean_ms=10.0):
    verdicts = [{"slo": "latency", "kind": "latency", "objective": 0.99, "measured": 0.999 if met[0] else 0.9,
                 "met": met[0]},
                {"slo": "success", "kind": "success", "objective": 0.999, "measured": 1.0 if met[1] else 0.98,
                 "met": met[1]}]
    return {"slo": verdicts, "requests": {"completed": completed, "dropped_iterations": dropped},
            "profile": {"max_in_flight": 256}, "rate": {"achieved_rps": completed / 10},
            "latency_ms": {"p50_ms": 5.0, "p99_ms": 50.0, "mean_ms": mean_ms},
            "service_time_ms": {"mean_ms": mean_ms}}


def test_a_ramp_goes_from_start_to_max_by_step():
    assert StepRamp.parse("5:5:20", "2s").rates() == [5, 10, 15, 20]
    assert StepRamp.parse("5:10:20", "2s").rates() == [5, 15]


@pytest.mark.parametrize("text", ["5:5", "0:5:10", "10:5:5", "5:0:10", "a:b:c", "nan:1:2", "1:inf:2"])
def test_a_bad_ramp_is_refused(text):
    with pytest.raises(ValueError):
        StepRamp.parse(text, "2s")


@pytest.mark.parametrize("text, step_duration", [("1:1:99999999", "5s"), ("1:1:100", "20m")])
def test_a_ramp_over_a_thousand_steps_or_a_day_is_refused_before_listing_its_rates(text, step_duration):
    with pytest.raises(ValueError, match="at most 1000 steps and lasts at most 24h"):
        StepRamp.parse(text, step_duration)


def test_a_step_that_met_every_objective_and_served_the_rate_held():
    assert _judge(summary(), offered=10, step_seconds=10) is None


def test_a_missed_latency_objective_breaks_the_step_and_says_which():
    reason = _judge(summary(met=(False, True)), offered=10, step_seconds=10)
    assert reason == "latency (latency) measured 0.9 against 0.99"


def test_a_server_that_fell_behind_the_offered_rate_breaks_the_step():
    assert "served 80 of 100" in _judge(summary(completed=80), offered=10, step_seconds=10)


def test_dropped_iterations_break_the_step():
    assert "iterations dropped" in _judge(summary(dropped=5), offered=10, step_seconds=10)


def test_a_steps_concurrency_is_rate_times_time_in_the_system():
    assert step_record(summary(completed=200, mean_ms=50), offered=20, broke=None)["concurrency"] == 1.0


HEALTH = {"name": "health", "requests": [{"name": "ping", "method": "GET", "path": "/ping"}]}
OBJECTIVES = [SloObjective("latency", "latency", 0.95, 200), SloObjective("success", "success", 0.99)]


# The ramp's logic, not the machine's speed: a shared machine's pause of a few hundred ms on one of a
# half-second step's few requests would otherwise break the step on latency.
LENIENT_LATENCY = [SloObjective("latency", "latency", 0.95, 5000), OBJECTIVES[1]]


def test_a_ramp_the_service_holds_ends_above_the_saturation_point(service):
    result = run_steps(service.base_url, parse_scenario(HEALTH), StepRamp.parse("10:10:30", "0.5s"),
                       slos=LENIENT_LATENCY)
    assert [step["offered_rps"] for step in result["steps"]] == [10, 20, 30]
    assert result["highest_holding_rps"] == 30 and result["breaking_rps"] is None
    assert "above the ramp" in result["breaking_reason"]


def test_the_ramp_stops_at_the_first_step_that_breaks_an_objective(service):
    service.fail_every = 2
    result = run_steps(service.base_url, parse_scenario(HEALTH), StepRamp.parse("10:10:30", "0.5s"),
                       slos=LENIENT_LATENCY)
    assert len(result["steps"]) == 1
    assert result["highest_holding_rps"] is None and result["breaking_rps"] == 10
    assert result["breaking_reason"].startswith("success (success)")


def test_a_ramp_stores_the_scenarios_seed_data_once(service):
    seeded = {**HEALTH, "setup": [{"name": "seed", "method": "POST", "path": "/users", "repeat": 3,
                                   "json": {"name": "Seed ${seq}", "email": "seed-${unique}@example.com"}}]}
    result = run_steps(service.base_url, parse_scenario(seeded), StepRamp.parse("10:10:30", "0.5s"),
                       slos=LENIENT_LATENCY)
    assert len(result["steps"]) == 3
    assert len(service.users) == 3


# Three seed users the ramp records as its creates, and how to delete them.
SEEDED_WITH_CLEANUP = {**HEALTH, "setup": [{"name": "seed", "method": "POST", "path": "/users", "repeat": 3,
                                            "records": "create",
                                            "json": {"name": "Seed ${seq}", "email": "seed-${unique}@example.com"}}],
                       "cleanup": {"delete": "/users/{id}"}}


def test_a_ramp_deletes_what_its_steps_stored_when_its_scenario_says_how(service):
    service.users["theirs"] = {"id": "theirs", "name": "Not the ramp's", "email": "theirs@example.com"}
    result = run_steps(service.base_url, parse_scenario(SEEDED_WITH_CLEANUP), StepRamp.parse("10:10:20", "0.5s"),
                       slos=LENIENT_LATENCY)
    assert (result["cleanup"]["left"], result["cleanup"]["deleted"], result["cleanup"]["failed"]) == (3, 3, 0)
    assert list(service.users) == ["theirs"]


def test_ctrl_c_during_a_step_ends_the_ramp_unjudged_and_still_deletes_what_it_stored(service):
    ctrl_c = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    ctrl_c.start()
    try:
        result = run_steps(service.base_url, parse_scenario(SEEDED_WITH_CLEANUP), StepRamp.parse("10:10:30", "5s"),
                           slos=LENIENT_LATENCY, interruptible=True)
    finally:
        ctrl_c.cancel()
    assert result["interrupted"] is True and result["steps"] == []
    assert result["highest_holding_rps"] is None and result["breaking_rps"] is None
    assert result["breaking_reason"].startswith("interrupted (Ctrl-C) during the step at 10 requests/s")
    assert (result["cleanup"]["deleted"], result["cleanup"]["error"]) == (3, None)
    assert service.users == {}


def test_a_ramps_requests_carry_its_run_id_and_its_cleanup_is_tagged_with_it(service):
    scenario = {**SEEDED_WITH_CLEANUP, "headers": {"Accept": "application/json"}}
    result = run_steps(service.base_url, parse_scenario(scenario), StepRamp.parse("10:10:20", "0.5s"),
                       slos=LENIENT_LATENCY)
    seen = list(zip(service.seen_headers, service.paths))
    deletes = [headers for headers, path in seen if path.startswith("DELETE")]
    assert len(deletes) == 3 and all(headers["X-Correlation-Id"] == f"{result['run_id']}-cleanup"
                                     and headers["Accept"] == "application/json" for headers in deletes)
    assert all(headers["X-Correlation-Id"].startswith(result["run_id"]) for headers, _ in seen)


def test_a_failed_setup_request_ends_the_ramp_before_its_first_step_and_deletes_what_setup_stored(service):
    service.false_conflicts = 1  # one of the five creates is refused (409); the other four store their user
    seeded = {**SEEDED_WITH_CLEANUP, "setup": [{**SEEDED_WITH_CLEANUP["setup"][0], "repeat": 5, "expect": [201]}]}
    result = run_steps(service.base_url, parse_scenario(seeded), StepRamp.parse("10:10:30", "0.5s"),
                       slos=LENIENT_LATENCY)
    assert result["setup_failures"] == 1 and result["steps"] == []
    assert result["highest_holding_rps"] is None and result["breaking_rps"] is None
    assert result["breaking_reason"].startswith("setup: 1 setup requests failed, so the ramp did not start")
    assert not [path for path in service.paths if path.startswith("GET /ping")]
    assert (result["cleanup"]["left"], result["cleanup"]["deleted"]) == (4, 4) and service.users == {}


def test_the_capacity_test_exits_98_and_records_nothing_when_setup_failed(service, tmp_path, capsys, monkeypatch):
    """It reported a held rate and exited 0 (with a token, recorded it) while loadgen exited 98."""
    from tools.capacity_test import main

    path = tmp_path / "seeded.json"
    path.write_text(json.dumps({**HEALTH, "setup": [
        {"name": "s", "method": "GET", "path": "/health/live", "expect": [201], "repeat": 3}]}))
    monkeypatch.setattr("tools.capacity_test.check_token", lambda *args, **kwargs: None)
    monkeypatch.setattr("tools.capacity_test.record", lambda *args, **kwargs: pytest.fail("a point was recorded"))
    code = main(["--token", "t", "--base-url", service.base_url, "--scenario", str(path), "--ramp", "5:5:5",
                 "--step-duration", "1s"])
    printed = capsys.readouterr()
    assert code == 98
    assert "capacity-test: setup: 3 setup requests failed, so the ramp did not start" in printed.out
    assert "3 setup requests failed; no step ran, nothing recorded" in printed.err
    assert not [path for path in service.paths if path.startswith("GET /ping")]


def test_a_ramp_announces_its_id_before_its_first_request(service):
    announced = []
    result = run_steps(service.base_url, parse_scenario(SEEDED_WITH_CLEANUP), StepRamp.parse("10:10:10", "0.5s"),
                       slos=LENIENT_LATENCY, on_ramp_start=lambda ramp_id: announced.append((ramp_id, len(service.paths))))
    assert announced == [(result["run_id"], 0)]
