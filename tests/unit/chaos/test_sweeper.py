"""The chaos-sweeper function: an experiment whose workflow ended without rolling back (stopped from the
console, failed on an uncatchable error, or stuck past its planned end) is rolled back within a minute."""
import time

from functions import chaos_inject, chaos_sweeper
from tests.support.lambdas import create_function, reserved_concurrency
from tests.unit.chaos.test_routes import client, send  # noqa: F401 - the app with the chaos workflow

FUNCTION = "serverless-sre-prod"  # experiments/lambda-throttling.json's function


def _throttled(client, reserved=None):  # noqa: F811
    create_function(FUNCTION, reserved_concurrency=reserved)
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "lambda-throttling"}).json_body
    chaos_inject.handler({"experiment_id": started["id"], "plan": {}}, None)
    assert reserved_concurrency(FUNCTION) == 1
    return started


def _status_once_settled(sfn, execution_arn):
    """The execution's status once it is no longer RUNNING: where moto runs the workflow for real (in a
    thread of its own), a stop lands a moment after StopExecution answers."""
    deadline = time.monotonic() + 10
    while (status := sfn.describe_execution(executionArn=execution_arn)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still RUNNING 10 s after it was stopped"
        time.sleep(0.05)
    return status


def test_an_experiment_whose_workflow_was_stopped_elsewhere_is_rolled_back_and_journaled(client):  # noqa: F811
    from chalicelib import wiring

    started = _throttled(client, reserved=5)
    sfn = wiring.current().client("stepfunctions")
    sfn.stop_execution(executionArn=started["execution_arn"], error="Console", cause="stopped in the console")
    assert _status_once_settled(sfn, started["execution_arn"]) == "ABORTED"
    assert chaos_sweeper.handler({}, None) == {"swept": [started["id"]]}
    assert reserved_concurrency(FUNCTION) == 5
    record = send(client, "get", f"/sre/chaos/experiments/{started['id']}").json_body
    assert (record["status"], [event["event"] for event in record["timeline"]][-2:]) == (
        "aborted", ["workflow_lost", "rolled_back"])
    assert record["reason"].startswith("the workflow ended without rolling back (execution ABORTED")
    assert chaos_sweeper.handler({}, None) == {"swept": []}


def test_an_experiment_whose_workflow_still_runs_is_left_alone(client):  # noqa: F811
    started = _throttled(client)
    assert chaos_sweeper.handler({}, None) == {"swept": []}
    assert reserved_concurrency(FUNCTION) == 1
    assert send(client, "get", f"/sre/chaos/experiments/{started['id']}").json_body["status"] == "running"


def test_experiments_still_running_past_their_planned_end_are_stopped_and_rolled_back(client, ecs, monkeypatch):  # noqa: F811
    from chalicelib import wiring
    from tests.unit.chaos.conftest import desired_count

    throttled = _throttled(client)
    started = [throttled["id"]]
    for name in ("dynamodb-failure", "ecs-task-termination"):
        record = send(client, "post", "/sre/chaos/experiments", {"experiment": name}).json_body
        chaos_inject.handler({"experiment_id": record["id"], "plan": {}}, None)
        started.append(record["id"])
    assert desired_count(ecs) == 1 and wiring.current().chaos_fault_store.active(time.time())
    service = wiring.current().chaos_service
    monkeypatch.setattr(service, "_clock", lambda: time.time() + 24 * 3600)
    assert sorted(chaos_sweeper.handler({}, None)["swept"]) == sorted(started)
    assert (reserved_concurrency(FUNCTION), desired_count(ecs)) == (None, 4)
    assert wiring.current().chaos_fault_store.active(time.time()) == []
    sfn = wiring.current().client("stepfunctions")
    for experiment_id in started:
        record = send(client, "get", f"/sre/chaos/experiments/{experiment_id}").json_body
        assert (record["status"], _status_once_settled(sfn, record["execution_arn"])) == ("aborted", "ABORTED")
        assert "still running past its planned end" in record["reason"]


def _lost_workflow(client):  # noqa: F811
    """A running experiment whose execution Step Functions no longer has (the embedded AWS restarted, or
    the state machine was deployed anew), with its fault injected."""
    from chalicelib import wiring

    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).json_body
    chaos_inject.handler({"experiment_id": started["id"], "plan": {}}, None)
    sfn = wiring.current().client("stepfunctions")
    sfn.delete_state_machine(stateMachineArn=started["execution_arn"].replace(":execution:", ":stateMachine:")
                             .rsplit(":", 1)[0])
    assert wiring.current().chaos_fault_store.active(time.time())
    return started


def test_an_experiment_whose_execution_no_longer_exists_is_rolled_back_by_the_sweeper(client):  # noqa: F811
    from chalicelib import wiring

    started = _lost_workflow(client)
    assert chaos_sweeper.handler({}, None) == {"swept": [started["id"]]}
    assert wiring.current().chaos_fault_store.active(time.time()) == []
    record = send(client, "get", f"/sre/chaos/experiments/{started['id']}").json_body
    assert record["status"] == "aborted"
    assert record["reason"].startswith("the workflow ended without rolling back (execution no longer exists)")


def test_an_experiment_whose_execution_no_longer_exists_can_be_stopped(client):  # noqa: F811
    from chalicelib import wiring

    started = _lost_workflow(client)
    response = send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop")
    assert (response.status_code, response.json_body["status"]) == (200, "aborted"), response.body
    assert wiring.current().chaos_fault_store.active(time.time()) == []
