"""Runs against a local test service: bounded, 127.0.0.1 only, a few seconds at most."""
import asyncio
import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.loadgen import LoadProfile, parse_scenario, run_load
from tools.loadgen.cli import main
from tools.loadgen.report import (
    EXIT_INTEGRITY, EXIT_INTERRUPTED, EXIT_OK, EXIT_SETUP, EXIT_THRESHOLDS, EXIT_USAGE, SloObjective, exit_code, objectives_from_slos)

from .conftest import CRUD_SCENARIO, DUPLICATE_SCENARIO

OBJECTIVES = [SloObjective("latency", "latency", 0.95, 200), SloObjective("success", "success", 0.99)]
REPOSITORY = Path(__file__).resolve().parents[4]
HEALTH = {"name": "health", "requests": [{"name": "ping", "method": "GET", "path": "/ping"}]}


def crud():
    return parse_scenario(CRUD_SCENARIO, "test")


def test_a_closed_run_stops_at_its_request_budget(service):
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.concurrency(4, "20s", max_requests=50),
                      slos=OBJECTIVES)
    assert report["requests"]["completed"] == 50
    assert report["duration_s"] < 10


def test_a_run_stops_at_its_duration(service):
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.concurrency(2, "0.5s"), slos=OBJECTIVES)
    assert 0.5 <= report["duration_s"] < 2
    assert report["requests"]["completed"] > 0


def test_ctrl_c_ends_the_run_early_and_its_exit_code_says_so(service):
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.concurrency(2, "30s"), slos=OBJECTIVES,
                      interruptible=True, on_start=lambda: signal.raise_signal(signal.SIGINT))
    assert report["interrupted"] is True
    assert report["duration_s"] < 10
    assert exit_code(report) == EXIT_INTERRUPTED


def test_a_run_that_ends_by_itself_is_not_interrupted(service):
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.concurrency(2, "0.3s"), slos=OBJECTIVES,
                      interruptible=True)
    assert report["interrupted"] is False
    assert exit_code(report) == EXIT_OK


def test_follow_ups_use_the_answer_of_the_create(service):
    report = run_load(service.base_url, crud(), LoadProfile.concurrency(2, "30s", max_requests=40), slos=OBJECTIVES,
                      seed=1)
    created = [path for path in service.paths if path.startswith("POST")]
    reads = [path for path in service.paths if path.startswith("GET /users/")]
    assert reads and all(path.split("/")[-1] in {user_id for user_id in _created_ids(report, service)}
                         for path in reads)
    assert len(created) >= len(reads)
    assert report["statuses"].keys() <= {"200", "201", "204"}


def _created_ids(report, service):
    ids = {path.split("/")[-1] for path in service.paths if path.startswith(("PUT", "DELETE"))}
    return ids | set(service.users)


def test_bodies_carry_unique_values_and_requests_the_run_id(service):
    report = run_load(service.base_url, crud(), LoadProfile.concurrency(4, "30s", max_requests=60), slos=OBJECTIVES)
    assert report["statuses"].get("409") is None  # no two creates sent one email
    correlation_ids = [headers["X-Correlation-Id"] for headers in service.seen_headers]
    assert all(value.startswith(report["run_id"]) for value in correlation_ids)
    assert len(set(correlation_ids)) == len(correlation_ids)


def test_a_header_named_in_another_case_replaces_the_one_it_names(service):
    """A scenario's x-correlation-id went out beside the run's X-Correlation-Id: two ids for one request."""
    scenario = parse_scenario({"name": "cased", "headers": {"x-correlation-id": "mine", "accept": "text/plain"},
                               "requests": [{"name": "ping", "method": "GET", "path": "/ping",
                                             "headers": {"Accept": "application/json"}}]})
    run_load(service.base_url, scenario, LoadProfile.concurrency(1, "5s", max_requests=1), slos=OBJECTIVES)
    sent = [(name.lower(), value) for name, value in service.seen_header_lists[0]]
    assert [value for name, value in sent if name == "x-correlation-id"] == ["mine"]
    assert [value for name, value in sent if name == "accept"] == ["application/json"]


def test_the_open_model_counts_a_stall_against_every_request_scheduled_during_it(service):
    service.stall_once_seconds = 1.0
    report = run_load(service.base_url, parse_scenario(HEALTH),
                      LoadProfile.constant_rate(40, "2s", max_in_flight=1), slos=OBJECTIVES)
    # With one connection, every request due during the stall waits: their latency counts from when they were due.
    # (Relative, not a fixed bound on service time: on a busy machine a ping alone can take 50 ms.)
    assert report["latency_ms"]["p50_ms"] > 100
    assert report["service_time_ms"]["p50_ms"] < report["latency_ms"]["p50_ms"] / 2
    assert report["latency_ms"]["max_ms"] >= 900


def test_the_open_model_keeps_its_rate_whatever_the_answers(service):
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.constant_rate(50, "2s"), slos=OBJECTIVES)
    assert 90 <= report["requests"]["completed"] <= 101
    assert report["rate"]["target"] == 50


def test_an_open_run_lasts_its_duration_so_its_achieved_rate_is_not_overstated(service):
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.constant_rate(4, "1s"), slos=OBJECTIVES)
    assert report["requests"]["completed"] == 4
    assert report["duration_s"] >= 1.0 and report["rate"]["achieved_rps"] <= 4.0


def test_an_open_run_reports_iterations_per_second_beside_requests_per_second(service):
    report = run_load(service.base_url, crud(), LoadProfile.constant_rate(4, "1s"), slos=OBJECTIVES)
    assert report["requests"]["iterations"] == 4 and report["requests"]["completed"] > 4
    assert report["rate"]["achieved_iterations_per_s"] <= report["rate"]["target"] == 4


def test_an_open_run_faster_than_the_loop_stops_at_its_request_budget(service):
    """--rate 1e7 --max-requests 50 --duration 1s ran past a 60 s timeout holding 475 MB: every arrival was due
    already, and the loop created tasks without yielding, so none of them sent and the budget never counted."""
    report = run_load(service.base_url, parse_scenario(HEALTH),
                      LoadProfile.constant_rate(1e7, "1s", max_requests=50), slos=OBJECTIVES)
    assert report["requests"]["sent"] == report["requests"]["completed"] == 50
    assert report["duration_s"] < 10  # 50 answers; a busy machine may take a few seconds for them


def test_an_open_run_behind_schedule_ends_with_its_duration_and_counts_the_rest_dropped(service):
    """It went on scheduling the arrivals it could no longer start: a 1 s run lasted 9.7 s."""
    report = run_load(service.base_url, parse_scenario(HEALTH),
                      LoadProfile.constant_rate(1e6, "0.5s", max_in_flight=2), slos=OBJECTIVES)
    assert report["duration_s"] < 4
    assert report["requests"]["iterations"] + report["requests"]["dropped_iterations"] == 100_000


def test_errors_are_counted_sampled_and_judged_against_the_success_objective(service):
    service.fail_every = 5
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.concurrency(2, "30s", max_requests=50),
                      slos=OBJECTIVES, thresholds=["error_rate<0.1"])
    assert report["statuses"]["500"] == 10
    assert report["error_samples"][0]["status"] == 500
    success = next(verdict for verdict in report["slo"] if verdict["slo"] == "success")
    assert success["error_ratio"] == 0.2 and success["met"] is False
    assert report["thresholds"] == [{"threshold": "error_rate<0.1", "value": 0.2, "passed": False}]


def test_the_integrity_check_passes_when_the_service_kept_every_acknowledged_write(service):
    report = run_load(service.base_url, crud(), LoadProfile.concurrency(4, "30s", max_requests=80), slos=OBJECTIVES,
                      check=True, seed=3)
    integrity = report["integrity"]
    assert integrity["ok"], integrity
    assert integrity["checked_present"] == len(service.users)
    assert integrity["checked_gone"] > 0


def test_the_integrity_checks_requests_carry_the_scenarios_headers_and_the_run_id(service):
    report = run_load(service.base_url, parse_scenario(CRUD_SCENARIO), LoadProfile.concurrency(1, "5s", max_requests=2),
                      slos=OBJECTIVES, check=True)
    checks = [headers for headers in service.seen_headers if headers["X-Correlation-Id"] == f"{report['run_id']}-check"]
    assert checks and all(headers["Accept"] == "application/json" for headers in checks)


def test_the_integrity_check_names_lost_creates_and_deletes_that_did_not_happen(service):
    service.forget_creates = 1
    service.ignore_deletes = 1
    scenario = dict(CRUD_SCENARIO)
    report = run_load(service.base_url, parse_scenario(scenario), LoadProfile.concurrency(1, "30s", max_requests=60),
                      slos=OBJECTIVES, check=True, seed=5)
    integrity = report["integrity"]
    assert not integrity["ok"]
    assert [problem["problem"] for problem in integrity["missing"]] == ["acknowledged but not listed"]
    assert [problem["problem"] for problem in integrity["extra"]] == ["delete answered 204 but still listed"]
    assert integrity["gone"] == integrity["checked_gone"] - 1
    assert integrity["stored_as_sent"] == integrity["checked_present"] - 1


def test_the_integrity_report_says_what_it_checked_and_what_it_found_and_the_status_a_delete_got(service):
    """It said "0 acknowledged present, 6 deleted gone" of 6 deletes still listed, each "deleted (204)"
    though its answer was a 200 (a GET marked as the delete)."""
    from rich.console import Console

    from tools.loadgen.report import render_text

    create = {key: value for key, value in CRUD_SCENARIO["requests"][0].items() if key != "follow_ups"}
    not_a_delete = {"name": "read", "method": "GET", "path": "/users/${create.json.id}", "expect": [200],
                    "records": "delete", "id": "${create.json.id}"}
    scenario = parse_scenario({**CRUD_SCENARIO, "requests": [{**create, "follow_ups": [not_a_delete]}]})
    report = run_load(service.base_url, scenario, LoadProfile.concurrency(1, "30s", max_requests=12),
                      slos=OBJECTIVES, check=True)
    integrity = report["integrity"]
    assert (integrity["checked_present"], integrity["stored_as_sent"]) == (0, 0)
    assert (integrity["checked_gone"], integrity["gone"], integrity["extra_count"]) == (6, 0, 6)
    assert {problem["problem"] for problem in integrity["extra"]} == {"delete answered 200 but still listed"}
    console = Console(record=True, width=400)
    render_text(report, console)
    assert ("integrity FAILED: 0 acknowledged creates checked: 0 stored once as sent; 6 acknowledged deletes "
            "checked: 0 gone, 6 still there;") in console.export_text()


def test_a_write_the_open_model_cancelled_after_sending_it_is_not_judged_and_is_counted_cancelled(service):
    """An iteration still running long after the end is cancelled; the update it had sent was done but its
    answer never came, and the check named the user as stored differently from what was acknowledged."""
    service.answer_delay_seconds = 0.15
    updates = [{"name": f"update-{number}", "method": "PUT", "path": "/users/${create.json.id}", "expect": [200],
                "records": "update", "id": "${create.json.id}",
                "json": {"name": f"User v{number}", "email": "u-${unique}@example.com"}} for number in range(14)]
    from rich.console import Console

    from tools.loadgen.report import render_text

    scenario = parse_scenario({**CRUD_SCENARIO, "requests": [{**CRUD_SCENARIO["requests"][0], "follow_ups": updates}]})
    report = run_load(service.base_url, scenario, LoadProfile.constant_rate(1, "0.5s", timeout=0.3),
                      slos=OBJECTIVES, check=True)  # cancelled 2 x 0.3 + 1 s after the end, mid-iteration
    assert report["requests"]["completed"] < 15
    assert report["integrity"]["ok"], report["integrity"]
    assert report["integrity"]["uncertain"] == 1
    assert report["requests"]["cancelled"] == 1  # counted, so sent = completed + cancelled
    assert report["requests"]["sent"] == report["requests"]["completed"] + 1
    console = Console(record=True, width=200)
    render_text(report, console)
    assert "cancelled: 1 of the requests sent had no answer when the run ended" in console.export_text()


def test_every_409_that_met_a_real_duplicate_passes_the_check(service):
    report = run_load(service.base_url, parse_scenario(DUPLICATE_SCENARIO),
                      LoadProfile.concurrency(2, "30s", max_requests=40), slos=OBJECTIVES, check=True)
    integrity = report["integrity"]
    assert integrity["ok"], integrity
    # Two clients share the 40-request budget: one iteration may be cut after its create.
    assert integrity["checked_conflicts"] == report["statuses"]["409"] in (19, 20)


def test_a_409_for_a_value_nobody_stored_is_named(service):
    service.false_conflicts = 1
    report = run_load(service.base_url, parse_scenario(DUPLICATE_SCENARIO),
                      LoadProfile.concurrency(1, "30s", max_requests=3), slos=OBJECTIVES, check=True)
    integrity = report["integrity"]
    assert not integrity["ok"]
    assert [problem["problem"] for problem in integrity["extra"]] == ["answered 409, but no such value was stored"]


def test_refusals_without_retry_after_are_counted(service):
    service.fail_every, service.fail_status = 4, 503
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.concurrency(1, "30s", max_requests=20),
                      slos=OBJECTIVES)
    assert report["statuses"]["503"] == 5
    assert report["refusals_without_retry_after"] == 5


def test_the_timeline_counts_every_answer_by_second_and_status_class(service):
    service.fail_every = 4
    report = run_load(service.base_url, parse_scenario(HEALTH), LoadProfile.concurrency(1, "30s", max_requests=20),
                      slos=OBJECTIVES)
    totals = {}
    for second in report["timeline"]:
        assert second["second"] >= 0
        for status_class, count in second.items():
            if status_class != "second":
                totals[status_class] = totals.get(status_class, 0) + count
    assert totals == {"2xx": 15, "5xx": 5}


def test_a_request_without_an_answer_is_a_valid_event_of_both_slos_and_no_good_latency_event(service):
    """Every request of an https:// run against an http server failed at once, and the latency SLO said
    "measured 1.0, met True"."""
    report = run_load(service.base_url.replace("http://", "https://"), parse_scenario(HEALTH),
                      LoadProfile.concurrency(1, "5s", max_requests=5), slos=OBJECTIVES)
    assert report["requests"]["completed"] == 5 and not any(status.isdigit() for status in report["statuses"])
    verdicts = {verdict["slo"]: verdict for verdict in report["slo"]}
    assert (verdicts["latency"]["measured"], verdicts["latency"]["met"]) == (0.0, False)
    assert (verdicts["success"]["error_ratio"], verdicts["success"]["met"]) == (1.0, False)


def test_an_answer_under_the_threshold_is_a_good_latency_event_whatever_its_status():
    """The service's latency SLI counts every valid request answered in time, a 5xx too."""
    from tools.loadgen.stats import Outcome, Recorder

    recorder = Recorder((200,))
    for status in (200, 500, 0, 404):
        recorder.record(Outcome(name="ping", status=status, latency_us=1000, service_time_us=1000, ok=status == 200))
    assert (recorder.valid, recorder.valid_under[200], recorder.server_errors) == (3, 2, 2)


def test_the_objectives_are_those_of_the_shipped_slos():
    from chalicelib.slo.config import load_slos

    shipped = {slo.name: slo.target for slo in load_slos()}
    objectives = {objective.slo: objective for objective in objectives_from_slos()}
    assert objectives["latency"].threshold_ms == 200
    assert {name: objective.target for name, objective in objectives.items()} == {
        name: shipped[name] for name in objectives}
    assert {objective.kind for objective in objectives.values()} == {"latency", "success"}


def test_the_command_exits_99_when_a_threshold_fails(service, tmp_path, capsys):
    path = tmp_path / "health.json"
    path.write_text(json.dumps(HEALTH))
    code = main([str(path), "--base-url", service.base_url, "--clients", "2", "--max-requests", "20",
                 "--threshold", "requests>1000", "--threshold", "p99<5000", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == EXIT_THRESHOLDS == report["exit_code"]
    assert [item["passed"] for item in report["thresholds"]] == [False, True]


def test_the_command_exits_97_when_the_integrity_check_fails(service, tmp_path, capsys):
    service.forget_creates = 1
    path = tmp_path / "crud.json"
    path.write_text(json.dumps(CRUD_SCENARIO))
    code = main([str(path), "--base-url", service.base_url, "--clients", "1", "--max-requests", "12", "--check",
                 "--json"])
    assert code == EXIT_INTEGRITY
    assert json.loads(capsys.readouterr().out)["integrity"]["missing_count"] == 1


def test_the_command_exits_98_when_a_setup_request_failed(service, tmp_path, capsys):
    service.fail_every = 1
    path = tmp_path / "seeded.json"
    path.write_text(json.dumps({**HEALTH, "setup": [{"name": "seed", "method": "POST", "path": "/users",
                                                       "json": {"name": "Seed", "email": "seed@example.com"}}]}))
    code = main([str(path), "--base-url", service.base_url, "--clients", "1", "--max-requests", "2",
                 "--threshold", "requests>1000", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == EXIT_SETUP == report["exit_code"]
    assert report["requests"]["setup_failures"] == 1


def test_setup_sends_nothing_after_its_first_failure(service, tmp_path, capsys):
    """A setup of 600 sent all 600 to a service that refused the first, for the same exit 98."""
    from tools.loadgen.engine import SETUP_CONCURRENCY

    service.fail_every = 1
    path = tmp_path / "seeded.json"
    path.write_text(json.dumps({**HEALTH, "setup": [
        {"name": "seed", "method": "POST", "path": "/users", "repeat": 600, "expect": [201], "records": "create",
         "json": {"name": "Seed", "email": "seed-${unique}@example.com"}}], "cleanup": {"delete": "/users/{id}"}}))
    code = main([str(path), "--base-url", service.base_url, "--rate", "1", "--duration", "1s", "--max-requests", "1",
                 "--cleanup", "--json"])
    assert code == EXIT_SETUP
    assert 1 <= len([path for path in service.paths if path.startswith("POST")]) <= SETUP_CONCURRENCY


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel's backlog does) and never answers."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_setup_against_a_server_that_never_answers_ends_with_its_first_timeouts(silent_port):
    """100 setup requests at a 1 s timeout took 13 s, 8 at a time, to fail as the first had."""
    seeded = {**HEALTH, "setup": [{"name": "seed", "method": "GET", "path": "/ping", "repeat": 100}]}
    started = time.monotonic()
    report = run_load(silent_port, parse_scenario(seeded), LoadProfile.concurrency(1, "1s", max_requests=1, timeout=1),
                      slos=OBJECTIVES)
    assert time.monotonic() - started < 6
    assert exit_code(report) == EXIT_SETUP


def test_the_command_refuses_zero_clients_instead_of_running_the_default(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["health-live", "--clients", "0", "--base-url", "http://127.0.0.1:9"])
    assert exited.value.code == EXIT_USAGE
    assert "Invalid value for '--clients': 0 is not in the range x>=1" in capsys.readouterr().err


@pytest.mark.parametrize("argv, said", [
    (["--open", "--duration", "1m"], "--open shapes a ramp of --stage"),
    (["--start", "0"], "--start shapes a ramp of --stage"),
    (["--clients", "3", "--stage", "10s:5"], "--clients with --stage: the stages give the clients"),
    (["--rate", "3", "--stage", "10s:5"], "--rate with --stage: the stages give the rate"),
    (["--clients", "3", "--max-in-flight", "10"], "--max-in-flight caps the open model's outstanding requests"),
    (["--max-in-flight=256"], "--max-in-flight caps the open model's outstanding requests"),
    (["--stage", "10s:5", "--max-in-flight", "10"], "--max-in-flight caps the open model's outstanding requests"),
])
def test_a_model_option_the_run_would_ignore_is_refused(capsys, argv, said):
    """`loadgen users-list --open --duration 1m` ran the closed model with 8 clients without a word."""
    with pytest.raises(SystemExit) as exited:
        main(["health-live", *argv, "--base-url", "http://127.0.0.1:9"])
    assert exited.value.code == EXIT_USAGE and said in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--rate", "3", "--max-in-flight", "10"],
                                  ["--stage", "10s:5", "--open", "--max-in-flight", "10"]])
def test_max_in_flight_shapes_the_open_model(argv):
    from tools.loadgen.cli import parse_arguments, profile_from

    assert profile_from(parse_arguments(["health-live", *argv])).max_in_flight == 10


@pytest.mark.parametrize("option, value, said", [
    ("--duration", "-5s", "a duration is positive, not '-5s'"),
    ("--stage", "-5s:2", "a duration is positive, not '-5s'"),
    ("--clients", "-3", "-3 is not in the range x>=1"),
    ("--rate", "-1", "-1.0 is not in the range x>0"),
    ("--timeout", "-1", "-1.0 is not in the range x>0"),
    ("--max-requests", "-1", "-1 is not in the range x>=1"),
])
def test_a_negative_value_gets_the_same_refusal_with_or_without_the_equals_sign(capsys, option, value, said):
    refusals = []
    for spelling in ([option, value], [f"{option}={value}"]):
        with pytest.raises(SystemExit) as exited:
            main(["health-live", *spelling, "--base-url", "http://127.0.0.1:9"])
        refusals.append((exited.value.code, capsys.readouterr().err))
    assert refusals[0] == refusals[1]
    assert refusals[0][0] == EXIT_USAGE and f"Invalid value for '{option}': {said}" in refusals[0][1]


@pytest.mark.parametrize("argv", [["--duration", "1s"], ["--max-requests", "10", "--json"],
                                  ["--duration", "1s", "--check", "--cleanup", "--json"]])
def test_a_rate_whose_schedule_overflows_is_refused_before_any_request(service, tmp_path, capsys, argv):
    path = tmp_path / "crud.json"
    path.write_text(json.dumps(CRUD_SCENARIO))
    code = main([str(path), "--rate", "1e308", "--base-url", service.base_url, *argv])
    printed = capsys.readouterr()
    assert code == EXIT_USAGE and service.paths == [] and printed.out == ""
    assert "at most 10^9 iterations (rate x duration, over every stage)" in printed.err
    assert len(printed.err.splitlines()) == 1


def test_the_json_report_is_strict_json(service, tmp_path, capsys):
    def refuse_constant(name):
        raise AssertionError(f"{name} is no JSON")

    path = tmp_path / "health.json"
    path.write_text(json.dumps(HEALTH))
    main([str(path), "--base-url", service.base_url, "--rate", "50", "--max-requests", "5", "--json"])
    assert json.loads(capsys.readouterr().out, parse_constant=refuse_constant)["rate"]["target"] == 50


def test_the_command_says_nothing_answers_before_sending_load_to_a_closed_port(capsys):
    from devstack.ports import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    assert main(["health-live", "--clients", "1", "--duration", "1s", "--base-url", url]) == EXIT_USAGE
    printed = capsys.readouterr().err
    assert f"nothing answers at {url}" in printed and f"(start the local stack with `make run PORT={port}`)" in printed


def test_a_malformed_stage_is_a_usage_error_saying_the_form_it_takes(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["health-live", "--stage", "30s", "--base-url", "http://127.0.0.1:9"])
    assert exited.value.code == EXIT_USAGE
    assert "not a stage: '30s' (use DURATION:TARGET, e.g. 30s:50)" in capsys.readouterr().err


def test_check_on_a_scenario_with_nothing_to_check_says_to_run_it_without(service, capsys):
    assert main(["health-live", "--check", "--clients", "1", "--duration", "1s",
                 "--base-url", service.base_url]) == EXIT_USAGE
    assert "has no integrity section; it cannot be checked (run it without --check" in capsys.readouterr().err


@pytest.mark.parametrize("report", ["--json", "--no-progress"])
def test_a_reader_that_went_away_cuts_the_report_short_without_a_traceback(service, tmp_path, report):
    """Text too: rich's console answered a broken pipe with exit status 1."""
    path = tmp_path / "health.json"
    path.write_text(json.dumps(HEALTH))
    command = (f"{shlex.quote(sys.executable)} -m tools.loadgen {path} --base-url {service.base_url} "
               f"--clients 1 --max-requests 5 --threshold 'requests>1000' {report} | true; exit ${{PIPESTATUS[0]}}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=REPOSITORY)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
    assert done.returncode == EXIT_THRESHOLDS  # the run's verdict, not the printing's


def test_the_text_report_says_when_setup_requests_failed(service):
    from rich.console import Console

    from tools.loadgen.report import render_text

    service.fail_every = 1
    seeded = {**HEALTH, "setup": [{"name": "seed", "method": "POST", "path": "/api/users", "repeat": 3,
                                   "json": {"name": "Seed", "email": "seed-${unique}@example.com"}, "expect": [201]}]}
    report = run_load(service.base_url, parse_scenario(seeded), LoadProfile.concurrency(1, "5s", max_requests=2),
                      slos=OBJECTIVES)
    console = Console(record=True, width=200)
    render_text(report, console)
    assert report["requests"]["setup_failures"] == 3
    assert "setup: 3 setup requests failed" in console.export_text()


def test_a_threshold_naming_a_request_the_scenario_lacks_is_refused_before_any_load(service):
    with pytest.raises(ValueError, match=r"scenario test-crud has no request named 'craete' \(its requests: create, "
                                         r"delete, read, update\)"):
        run_load(service.base_url, crud(), LoadProfile.concurrency(1, "5s"), slos=OBJECTIVES,
                 thresholds=["craete.p95<200"])
    assert service.paths == []


@pytest.mark.parametrize("threshold, said", [
    ("create.rate>1", "rate is a figure of the whole run"), ("create.dropped<1", "dropped is a figure of the whole run"),
    ("p95<1.2.3", "not a threshold")])
def test_a_threshold_the_report_cannot_judge_is_refused_before_any_load(service, threshold, said):
    """create.rate>1 was accepted, and the run ended in a KeyError ('rate_ms') instead of its report."""
    with pytest.raises(ValueError, match=said):
        run_load(service.base_url, crud(), LoadProfile.concurrency(1, "5s"), slos=OBJECTIVES, thresholds=[threshold])
    assert service.paths == []


def test_a_threshold_on_a_request_the_run_never_sent_fails_saying_so(service):
    report = run_load(service.base_url, crud(), LoadProfile.concurrency(1, "5s", max_requests=1), slos=OBJECTIVES,
                      thresholds=["delete.p95<200"])
    assert report["thresholds"] == [{"threshold": "delete.p95<200", "value": None, "passed": False,
                                     "reason": "no delete request was sent in this run"}]
    assert exit_code(report) == EXIT_THRESHOLDS


def test_ctrl_c_during_the_integrity_check_stops_it_and_the_exit_code_says_so(service, monkeypatch):
    async def slow_check(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)
        await asyncio.sleep(30)  # a listing of a large table

    monkeypatch.setattr("tools.loadgen.integrity.check_integrity_async", slow_check)
    started = time.monotonic()
    report = run_load(service.base_url, crud(), LoadProfile.concurrency(1, "5s", max_requests=4), slos=OBJECTIVES,
                      check=True, interruptible=True)
    assert time.monotonic() - started < 10
    assert report["interrupted"] is True and exit_code(report) == EXIT_INTERRUPTED
    assert report["integrity"]["error"] == "the check was stopped with Ctrl-C before it judged anything"


def test_ctrl_c_during_the_integrity_check_still_deletes_what_the_run_stored(service, monkeypatch):
    """The cleanup was skipped ("not started"), leaving the run's users behind."""
    async def slow_check(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)
        await asyncio.sleep(30)

    monkeypatch.setattr("tools.loadgen.integrity.check_integrity_async", slow_check)
    seeded = parse_scenario({**CRUD_SCENARIO, "setup": [  # three users the load never deletes
        {"name": "seed", "method": "POST", "path": "/users", "repeat": 3, "expect": [201], "records": "create",
         "json": {"name": "Seed", "email": "seed-${unique}@example.com"}}]}, "test")
    report = run_load(service.base_url, seeded, LoadProfile.concurrency(1, "5s", max_requests=4), slos=OBJECTIVES,
                      check=True, cleanup=True, interruptible=True)
    assert report["interrupted"] is True and exit_code(report) == EXIT_INTERRUPTED
    assert report["cleanup"]["error"] is None and report["cleanup"]["deleted"] >= 3
    assert service.users == {}


def test_the_live_view_shows_no_latency_before_any_answer():
    from rich.console import Console

    from tools.loadgen.display import progress_table
    from tools.loadgen.engine import Runner

    console = Console(record=True, width=200)
    console.print(progress_table(Runner("http://127.0.0.1:9", crud(), LoadProfile.concurrency(1, "1s")), {}))
    shown = console.export_text()
    assert "p95       - ms" in shown and "0.0 ms" not in shown


def test_a_run_that_got_no_answer_gives_no_latency_and_fails_a_latency_threshold():
    from tools.loadgen.engine import Progress, RunResult
    from tools.loadgen.report import evaluate_thresholds, summarize
    from tools.loadgen.stats import Recorder

    profile = LoadProfile.concurrency(1, "1s")
    result = RunResult(run_id="r", base_url="http://127.0.0.1:9", scenario=crud(), profile=profile,
                       recorder=Recorder(), progress=Progress(), ledger=None, wall_seconds=1.0, started_at="")
    summary = summarize(result, OBJECTIVES)
    assert set(summary["latency_ms"].values()) == {None}
    assert evaluate_thresholds(summary, ["p95<200"]) == [
        {"threshold": "p95<200", "value": None, "passed": False, "reason": "no request was answered in this run"}]


def test_a_follow_up_naming_a_value_no_answer_has_is_reported_and_fails_the_run(service, tmp_path, capsys):
    """It was skipped in every iteration, counted only as 'skipped', and the run exited 0."""
    scenario = {"name": "unfilled", "requests": [{"name": "ping", "method": "GET", "path": "/ping", "follow_ups": [
        {"name": "pong", "method": "GET", "path": "/ping/${ping.json.nosuch}"}]}]}
    path = tmp_path / "unfilled.json"
    path.write_text(json.dumps(scenario))
    code = main([str(path), "--base-url", service.base_url, "--clients", "1", "--max-requests", "5", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == EXIT_USAGE == report["exit_code"]
    [skipped] = report["requests"]["skipped_because"]
    assert skipped.pop("iterations") >= 1  # the last ping may end the request budget before its follow-up
    assert skipped == {"request": "pong", "placeholder": "${ping.json.nosuch}", "never_sent": True}


@pytest.mark.parametrize("profile", [LoadProfile.concurrency(1, "1ms"), LoadProfile.constant_rate(1, "1ms")])
def test_the_shortest_run_allowed_sends_a_request(service, profile):
    report = run_load(service.base_url, parse_scenario(HEALTH), profile, slos=OBJECTIVES)
    assert report["requests"]["sent"] >= 1
