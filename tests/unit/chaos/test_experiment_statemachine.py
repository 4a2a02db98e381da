"""statemachines/chaos_experiment.asl.json executed for real by moto, its waits fast-forwarded.

In every case the fault is gone afterwards and the journal says what happened.
"""
from __future__ import annotations

import copy
import json
import time
import uuid

import pytest

from tests.support.golden import golden

pytestmark = pytest.mark.usefixtures("moto_stack")


def snapshot(name: str, *, remaining: float = 0.9, burn_5m: float = 0.0, burn_1h: float = 0.0,
             sli_5m: float = 1.0) -> dict:
    body = copy.deepcopy(golden("slo_snapshot"))
    body["slo"] = name
    body["open_alerts"] = []
    body["budget"].update(state="healthy", remaining_ratio=remaining, freezes_releases=False)
    body["windows"]["5m"].update(burn_rate=burn_5m, sli=sli_5m)
    body["windows"]["1h"].update(burn_rate=burn_1h)
    return body


def definition(**overrides) -> dict:
    body = {
        "title": "Route errors on GET /api/users",
        "duration_seconds": 30,
        "recovery_seconds": 20,
        "budget": {"slos": ["availability"], "min_remaining_ratio": 0.25, "max_fast_burn_rate": 1},
        "steady-state-hypothesis": {"title": "available", "probes": [
            {"name": "availability 5m", "type": "sli", "slo": "availability", "window": "5m", "min": 0.99}]},
        "method": [{"name": "503 on GET /api/users", "type": "fault",
                    "fault": {"kind": "route_error", "target": "/api/users", "magnitude": 503,
                              "blast_radius_pct": 50}}],
        "stop-conditions": {"interval_seconds": 10, "conditions": [
            {"name": "availability burning fast", "type": "burn_rate", "slo": "availability", "window": "5m",
             "max": 14.4}]},
    }
    body.update(overrides)
    return body


def finished(stack, execution_arn: str, within: float = 20) -> dict:
    sfn = stack.clients["stepfunctions"]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(0.05)
    raise AssertionError(f"execution still running: {execution_arn}")


def start(stack, body: dict) -> str:
    return stack.clients["stepfunctions"].start_execution(
        stateMachineArn=stack.machines["chaos-experiment"], name=f"test-{uuid.uuid4().hex[:12]}",
        input=json.dumps(body))["executionArn"]


def test_a_successful_experiment_injects_then_rolls_back_and_journals_completed(chaos, waits):
    chaos.set_slo(snapshot("availability"))
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition(), "started_by": "console:alice"}))
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    record = chaos.journal.get(output["experiment_id"])
    assert (record.status, record.reason) == ("completed", "the service responded as designed")
    assert waits.faults_seen[0] and waits.faults_seen[0][0].kind == "route_error"
    assert chaos.faults.active(time.time()) == []
    events = [event["event"] for event in record.timeline]
    assert events[:4] == ["started", "budget_gate", "steady_state_before", "injected"]
    assert "rolled_back" in events and events[-1] == "journal"
    assert record.steady_state_before["met"] and record.steady_state_after["met"]
    assert record.budget["availability"]["remaining_ratio_before"] == 0.9
    assert chaos.journal.running_on(time.time()) == {}


def test_low_budget_refuses_before_anything_is_injected(chaos, waits):
    chaos.set_slo(snapshot("availability", remaining=0.1))
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition()}))
    record = chaos.journal.get(json.loads(result["output"])["experiment_id"])
    assert record.status == "refused"
    assert "availability: 10.0% of the error budget left" in record.reason
    assert waits.faults_seen == [] and "injected" not in [event["event"] for event in record.timeline]


def test_a_fast_burn_refuses_too(chaos, waits):
    chaos.set_slo(snapshot("availability", burn_1h=2.5))
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition()}))
    record = chaos.journal.get(json.loads(result["output"])["experiment_id"])
    assert record.status == "refused" and "fast burn rate 2.5" in record.reason


def test_a_stop_condition_firing_mid_run_aborts_and_rolls_back(chaos, waits):
    chaos.set_slo(snapshot("availability"))
    waits.on_wait = lambda n: chaos.set_slo(snapshot("availability", burn_5m=20.0)) if n == 1 else None
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition()}))
    record = chaos.journal.get(json.loads(result["output"])["experiment_id"])
    assert record.status == "aborted"
    assert record.stop_condition["name"] == "availability burning fast" and record.stop_condition["observed"] == 20.0
    assert "stop condition fired: availability burning fast" in record.reason
    assert chaos.faults.active(time.time()) == []


def test_a_failing_injection_step_rolls_back_what_it_wrote_and_journals_errored(chaos, waits, monkeypatch):
    chaos.set_slo(snapshot("availability"))
    # The function was there when the experiment was checked, and is gone when it is injected.
    monkeypatch.setattr(chaos.steps._actions, "problem", lambda action: None)
    method = definition()["method"] + [{"name": "throttle a function that is gone", "type": "lambda_throttle",
                                        "function": "serverless-sre-no-such-function", "reserved_concurrency": 1}]
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition(method=method)}))
    assert result["status"] == "SUCCEEDED", result
    record = chaos.journal.get(json.loads(result["output"])["experiment_id"])
    assert record.status == "errored" and "ResourceNotFoundException" in record.reason
    assert chaos.faults.active(time.time()) == []
    assert "rolled_back" in [event["event"] for event in record.timeline]


def test_lambda_throttling_saves_and_restores_the_reserved_concurrency(chaos, waits):
    chaos.set_slo(snapshot("availability"))
    lambda_client = chaos.stack.clients["lambda"]
    function = "serverless-sre-health-probe"
    lambda_client.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=7)
    seen = []
    waits.on_wait = lambda n: seen.append(lambda_client.get_function_concurrency(FunctionName=function)
                                          .get("ReservedConcurrentExecutions"))
    method = [{"name": "throttle", "type": "lambda_throttle", "function": function, "reserved_concurrency": 1}]
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition(method=method)}))
    record = chaos.journal.get(json.loads(result["output"])["experiment_id"])
    assert seen[0] == 1
    assert lambda_client.get_function_concurrency(FunctionName=function)["ReservedConcurrentExecutions"] == 7
    assert record.saved["actions"][0]["previous_reserved_concurrency"] == 7
    assert record.saved["restored"][0]["restored_reserved_concurrency"] == 7


def test_the_execution_stopped_mid_run_rolls_back_now_and_journals_aborted(chaos, waits):
    chaos.set_slo(snapshot("availability"))
    waits.hold_at = 1
    record = chaos.service.start({"definition": definition()}, "alice")
    waits.reached.wait(10)
    assert chaos.faults.active(time.time())
    stopped = chaos.service.stop(record.id, "bob")
    waits.release.set()
    assert finished(chaos.stack, record.execution_arn)["status"] == "ABORTED"
    assert (stopped.status, stopped.reason) == ("aborted", "stopped by bob")
    assert chaos.faults.active(time.time()) == []
    assert chaos.journal.get(record.id).status == "aborted"
    assert chaos.journal.running_on(time.time()) == {}


def test_a_bad_input_fails_in_the_first_state_with_the_reason(chaos):
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition(duration_seconds=0)}))
    assert (result["status"], result["error"]) == ("FAILED", "InvalidExperimentInput")
    assert result["cause"].startswith("duration_seconds: ")


def test_an_unknown_catalog_name_fails_with_the_reason(chaos):
    result = finished(chaos.stack, start(chaos.stack, {"experiment": "no-such-experiment"}))
    assert result["error"] == "InvalidExperimentInput" and "no catalog experiment 'no-such-experiment'" in result["cause"]


def test_the_shipped_example_inputs_pass_validation(chaos):
    from pathlib import Path

    from chalicelib.chaos.steps import INPUT_FIELDS

    for path in sorted(Path("statemachines").glob("chaos_experiment.example-input*.json")):
        body = json.loads(path.read_text())
        assert set(body) <= INPUT_FIELDS
        source, spec = chaos.steps.resolve(body)
        chaos.steps.new_record(source, spec, "test")


def test_a_second_experiment_on_a_busy_target_is_refused(chaos, waits):
    from chalicelib.chaos.journal import TargetBusy

    chaos.set_slo(snapshot("availability"))
    waits.hold_at = 1
    first = chaos.service.start({"definition": definition()}, "alice")
    waits.reached.wait(10)
    with pytest.raises(TargetBusy):
        chaos.service.start({"definition": definition()}, "bob")
    chaos.service.stop(first.id, "alice")
    waits.release.set()


def test_an_ecs_experiment_where_there_is_no_ecs_cluster_fails_in_the_first_state_naming_it(chaos):
    ecs_action = {"name": "stop half the tasks", "type": "ecs_stop_tasks", "cluster": "serverless-sre-prod",
                  "service": "serverless-sre-prod", "percent": 50}
    result = finished(chaos.stack, start(chaos.stack, {"definition": definition(method=[ecs_action])}))
    assert (result["status"], result["error"]) == ("FAILED", "InvalidExperimentInput")
    assert result["cause"].startswith("method/0/cluster: no ECS cluster 'serverless-sre-prod' in this deployment")
    assert chaos.journal.running_on(time.time()) == {}
