"""--cleanup: what a run created and left is deleted afterwards, and nothing else."""
import asyncio
import json
import signal
import time
from urllib.parse import unquote

import pytest

from tools.loadgen import LoadProfile, ScenarioError, parse_scenario, run_load
from tools.loadgen.cleanup import CleanupReport, clean_up_async
from tools.loadgen.cli import main
from tools.loadgen.integrity import Ledger
from tools.loadgen.report import EXIT_INTERRUPTED, EXIT_OK, SloObjective, exit_code
from tools.loadgen.scenario import CleanupSpec

from .conftest import CRUD_SCENARIO

OBJECTIVES = [SloObjective("success", "success", 0.99)]
SEEDED = {**CRUD_SCENARIO, "setup": [{"name": "seed", "method": "POST", "path": "/users", "repeat": 3,
                                      "records": "create", "expect": [201],
                                      "json": {"name": "Seed ${seq}", "email": "seed-${unique}@example.com"}}]}


def _clean_up(service, ledger):
    report = CleanupReport()
    return asyncio.run(clean_up_async(service.base_url, CleanupSpec(delete="/users/{id}"), ledger, report))


def test_cleanup_deletes_what_the_run_and_its_setup_created_and_left(service):
    report = run_load(service.base_url, parse_scenario(SEEDED), LoadProfile.concurrency(2, "30s", max_requests=40),
                      slos=OBJECTIVES, check=True, cleanup=True, seed=4)
    assert report["integrity"]["ok"]
    cleanup = report["cleanup"]
    assert cleanup["left"] >= 3 and cleanup["deleted"] == cleanup["left"]
    assert (cleanup["already_gone"], cleanup["failed"], cleanup["error"]) == (0, 0, None)
    assert service.users == {}


def test_cleanup_leaves_what_the_run_did_not_create(service):
    service.users["theirs"] = {"id": "theirs", "name": "Not the run's", "email": "theirs@example.com"}
    run_load(service.base_url, parse_scenario(CRUD_SCENARIO), LoadProfile.concurrency(1, "30s", max_requests=12),
             slos=OBJECTIVES, cleanup=True)
    assert list(service.users) == ["theirs"]


def test_a_run_without_cleanup_deletes_nothing(service):
    report = run_load(service.base_url, parse_scenario(SEEDED), LoadProfile.concurrency(1, "30s", max_requests=4),
                      slos=OBJECTIVES)
    assert report["cleanup"] is None
    assert len(service.users) >= 3


def test_a_report_before_any_delete_counts_what_was_left_and_the_creates_that_named_nothing():
    ledger = Ledger(expected={"kept": {}, "deleted": {}}, deleted={"deleted"}, unacknowledged_creates=2)
    report = CleanupReport.of(ledger)
    assert (report.left, report.deleted, report.unacknowledged_creates) == (1, 0, 2)


def test_a_resource_someone_else_deleted_counts_as_already_gone(service):
    report = _clean_up(service, Ledger(expected={"gone": {}}))
    assert (report.left, report.deleted, report.already_gone, report.failures) == (1, 0, 1, [])


def test_a_delete_the_service_refuses_is_reported_with_its_status(service):
    service.users["u1"] = {"id": "u1", "name": "A", "email": "a@example.com"}
    service.fail_every = 1
    report = _clean_up(service, Ledger(expected={"u1": {}}))
    assert report.failures == [{"id": "u1", "status": 500}]
    assert "u1" in service.users


def test_a_delete_acknowledged_during_the_run_is_not_sent_again(service):
    service.users["kept"] = {"id": "kept", "name": "A", "email": "a@example.com"}
    _clean_up(service, Ledger(expected={"kept": {}, "deleted": {}}, deleted={"deleted"}))
    assert [path for path in service.paths if path.startswith("DELETE")] == ["DELETE /users/kept"]


def test_an_id_is_sent_as_one_path_segment(service):
    _clean_up(service, Ledger(expected={"../admin?x=1": {}}))
    [path] = service.paths
    segment = path.removeprefix("DELETE /users/")
    assert "/" not in segment and "?" not in segment and unquote(segment) == "../admin?x=1"


def test_cleanup_of_a_scenario_that_creates_without_saying_how_to_delete_is_refused_before_any_load(service):
    scenario = parse_scenario({key: value for key, value in CRUD_SCENARIO.items() if key != "cleanup"})
    with pytest.raises(ScenarioError, match="has no cleanup section"):
        run_load(service.base_url, scenario, LoadProfile.concurrency(1, "5s", max_requests=4), cleanup=True)
    assert service.paths == []


def test_cleanup_of_a_scenario_that_creates_nothing_has_nothing_to_do(service):
    scenario = parse_scenario({"name": "health", "requests": [{"name": "ping", "method": "GET", "path": "/ping"}]})
    report = run_load(service.base_url, scenario, LoadProfile.concurrency(1, "5s", max_requests=2), slos=OBJECTIVES,
                      cleanup=True)
    assert (report["cleanup"]["left"], report["cleanup"]["deleted"]) == (0, 0)


def test_ctrl_c_during_cleanup_stops_it_and_the_exit_code_says_so(service, monkeypatch):
    async def slow_cleanup(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)
        await asyncio.sleep(30)

    monkeypatch.setattr("tools.loadgen.cleanup.clean_up_async", slow_cleanup)
    started = time.monotonic()
    report = run_load(service.base_url, parse_scenario(CRUD_SCENARIO), LoadProfile.concurrency(1, "5s", max_requests=4),
                      slos=OBJECTIVES, cleanup=True, interruptible=True)
    assert time.monotonic() - started < 10
    assert report["interrupted"] is True and exit_code(report) == EXIT_INTERRUPTED
    assert report["cleanup"]["error"] == "stopped with Ctrl-C before every resource was deleted"


def test_the_cleanup_requests_carry_the_scenarios_headers_and_the_run_id(service):
    report = run_load(service.base_url, parse_scenario(CRUD_SCENARIO), LoadProfile.concurrency(1, "5s", max_requests=1),
                      slos=OBJECTIVES, cleanup=True)
    deletes = [headers for headers, path in zip(service.seen_headers, service.paths) if path.startswith("DELETE")]
    assert deletes and all(headers["Accept"] == "application/json"
                           and headers["X-Correlation-Id"] == f"{report['run_id']}-cleanup" for headers in deletes)


def test_the_text_report_says_what_cleanup_deleted(service, tmp_path, capsys):
    path = tmp_path / "seeded.json"
    path.write_text(json.dumps(SEEDED))
    code = main([str(path), "--base-url", service.base_url, "--clients", "1", "--max-requests", "2", "--cleanup",
                 "--no-progress"])
    assert code == EXIT_OK
    said = " ".join(capsys.readouterr().out.split())
    # three seeds and one create (the second request read it)
    assert "cleanup done: 4 of the 4 resources the run created and left deleted, 0 already gone, 0 failed" in said
