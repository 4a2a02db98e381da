"""POST/GET /sre/chaos/experiments and /{id}/stop through the app (mock_aws; the workflow does not run here)."""
import json
import time

import boto3
import pytest
from chalice.test import Client

TOKEN = "chaos-operator-token"


@pytest.fixture
def client(tables, monkeypatch):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = sfn.create_state_machine(name="chaos", roleArn=role, definition=json.dumps(
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}))["stateMachineArn"]
    monkeypatch.setenv("CHAOS_STATE_MACHINE_ARN", machine)
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="serverless-sre/operator-token", SecretString=json.dumps({"alice": TOKEN}))
    from chalicelib import wiring

    wiring.reset()
    from app import app

    with Client(app) as test_client:
        yield test_client


def send(client, method, path, body=None, token=TOKEN):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return getattr(client.http, method)(path, headers=headers, body=raw)


def test_starting_a_catalog_experiment_answers_202_with_the_running_record(client):
    response = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"})
    assert response.status_code == 202, response.body
    body = response.json_body
    assert (body["status"], body["source"], body["started_by"], body["targets"]) == (
        "running", "dynamodb-failure", "alice", ["database"])
    assert body["execution_arn"].endswith(f":{body['id']}")


def test_an_inline_definition_is_accepted(client):
    from chalicelib.chaos.definition import catalog_entry

    response = send(client, "post", "/sre/chaos/experiments", {"definition": catalog_entry("route-latency")})
    assert response.status_code == 202 and response.json_body["source"] == "inline"


def test_a_second_experiment_on_a_busy_target_is_409(client):
    first = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).json_body
    response = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-slowdown"})
    assert response.status_code == 409
    assert response.json_body["details"] == {"target": "database", "running_experiment": first["id"]}


def _on_route(target):
    from chalicelib.chaos.definition import catalog_entry

    definition = catalog_entry("route-latency")
    definition["method"][0]["fault"]["target"] = target
    return {"definition": definition}


@pytest.mark.parametrize("first, second", [("*", "/api/users/{user_id}"), ("/api/users/{user_id}", "*")])
def test_a_fault_on_every_route_and_one_on_a_single_route_never_run_at_once(client, first, second):
    running = send(client, "post", "/sre/chaos/experiments", _on_route(first)).json_body
    response = send(client, "post", "/sre/chaos/experiments", _on_route(second))
    assert response.status_code == 409, response.body
    assert response.json_body["details"] == {"target": "route:/api/users/{user_id}",
                                             "running_experiment": running["id"]}


def test_faults_on_two_different_routes_may_run_at_once(client):
    assert send(client, "post", "/sre/chaos/experiments", _on_route("/api/users")).status_code == 202
    assert send(client, "post", "/sre/chaos/experiments", _on_route("/api/users/{user_id}")).status_code == 202


@pytest.mark.parametrize("body, field", [
    ({"experiment": "no-such-thing"}, "experiment"),
    ({}, "experiment"),
    ({"experiment": "route-latency", "definition": {}}, "experiment"),
    ({"definition": {"title": "x"}}, "(document)"),
    ({"definition": {"title": "x", "duration_seconds": 10, "steady-state-hypothesis": {"title": "t", "probes": []},
                     "method": [{"name": "n", "type": "fault", "fault": {"kind": "route_error", "target": "*",
                                                                         "magnitude": 200}}]}},
     "method/0/fault/magnitude"),
    ({"definition": {"title": "x", "duration_seconds": 10, "steady-state-hypothesis": {"title": "t", "probes": []},
                     "method": [{"name": "n", "type": "fault", "fault": {"kind": "route_latency", "target": "*",
                                                                         "magnitude": 0.5}}]}},
     "method/0/fault/magnitude"),
])
def test_a_bad_definition_is_400_naming_the_field_and_reason(client, body, field):
    response = send(client, "post", "/sre/chaos/experiments", body)
    assert response.status_code == 400, response.body
    assert field in response.json_body["details"] and response.json_body["details"][field][0]


def test_a_route_error_with_a_fractional_status_is_400_and_starts_nothing(client):
    definition = {"title": "x", "duration_seconds": 10, "steady-state-hypothesis": {"title": "t", "probes": []},
                  "method": [{"name": "n", "type": "fault", "fault": {"kind": "route_error", "target": "/health/live",
                                                                      "magnitude": 500.5}}]}
    response = send(client, "post", "/sre/chaos/experiments", {"definition": definition})
    assert response.status_code == 400, response.body
    assert response.json_body["details"] == {
        "method/0/fault/magnitude": ["a route error is a whole HTTP status from 500 to 599"]}
    assert send(client, "get", "/sre/chaos/experiments").json_body["experiments"] == []


def test_unknown_fields_and_bad_json_are_400(client):
    assert send(client, "post", "/sre/chaos/experiments", {"experiment": "route-latency", "x": 1}).status_code == 400
    assert send(client, "post", "/sre/chaos/experiments", '{"experiment": NaN}').status_code == 400


def test_starting_needs_the_operator_token(client):
    assert send(client, "post", "/sre/chaos/experiments", {"experiment": "route-latency"}, token=None).status_code == 401
    assert send(client, "post", "/sre/chaos/experiments", {"experiment": "route-latency"},
                token="wrong").status_code in (401, 403)


def test_list_and_get_show_the_journal(client):
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "webhook-outage"}).json_body
    listed = send(client, "get", "/sre/chaos/experiments").json_body["experiments"]
    assert [item["id"] for item in listed] == [started["id"]]
    assert send(client, "get", f"/sre/chaos/experiments/{started['id']}").json_body["title"] == started["title"]
    assert send(client, "get", "/sre/chaos/experiments/exp-ffffffffffff").status_code == 404
    assert send(client, "get", "/sre/chaos/experiments/nope").status_code == 404
    assert send(client, "get", "/sre/chaos/experiments?limit=0").status_code == 400


def test_the_list_pages_through_every_experiment_once_and_refuses_a_cursor_it_did_not_give_out(client):
    from chalicelib import wiring
    from chalicelib.chaos.journal import ExperimentRecord
    from chalicelib.http.cursor import Position, encode_cursor
    from tests.support.golden import golden

    ids = [f"exp-00000000000{digit}" for digit in range(5)]
    for experiment_id in ids:  # started in one instant: the id orders them
        wiring.current().chaos_journal.create(ExperimentRecord.from_json(
            {**golden("chaos_experiment"), "id": experiment_id, "targets": [experiment_id], "status": "completed",
             "started_at": "2026-12-05T02:00:00.00Z"}), time.time())
    seen, cursor = [], ""
    for _ in range(3):
        body = send(client, "get", f"/sre/chaos/experiments?limit=2&cursor={cursor}").json_body
        seen += [item["id"] for item in body["experiments"]]
        cursor = body["next_cursor"]
    assert (seen, cursor) == (sorted(ids, reverse=True), None)
    incidents_cursor = encode_cursor("incidents", Position("2026-12-05T02:00:00.00Z", ids[0]), {})
    for bad in (incidents_cursor, "%C3%A9", "x" * 600):
        response = send(client, "get", f"/sre/chaos/experiments?cursor={bad}")
        assert response.status_code == 400 and list(response.json_body["details"]) == ["cursor"]


def test_stop_rolls_back_now_and_frees_the_target(client):
    from chalicelib import wiring

    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).json_body
    steps = wiring.current().chaos_steps
    steps.inject({"experiment_id": started["id"], "plan": {}})
    assert wiring.current().chaos_fault_store.active(time.time())
    response = send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop")
    assert response.status_code == 200, response.body
    assert (response.json_body["status"], response.json_body["reason"]) == ("aborted", "stopped by alice")
    assert wiring.current().chaos_fault_store.active(time.time()) == []
    assert send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop").status_code == 409
    assert send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).status_code == 202


def test_the_document_names_the_shipped_catalog_and_needs_one_of_name_or_definition():
    import jsonschema

    from chalicelib.chaos.definition import catalog_entry, catalog_names
    from chalicelib.web.openapi import openapi_document

    document = openapi_document()
    body = document["paths"]["/sre/chaos/experiments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["experiment"]["enum"] == catalog_names()
    schema = {**body, "components": document["components"]}  # the definition's $ref resolves against it
    jsonschema.validate({"experiment": "route-latency"}, schema)
    jsonschema.validate({"definition": catalog_entry("route-latency")}, schema)
    for bad in ({}, {"experiment": "route-latency", "definition": {}}, {"experiment": "no-such-thing"},
                {"definition": {"title": "x"}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_a_load_phase_is_refused_where_the_load_generator_is_not_installed(client, monkeypatch):
    from chalicelib import wiring

    monkeypatch.setattr(wiring.current().chaos_steps, "_load_scenarios", lambda: None)
    response = send(client, "post", "/sre/chaos/experiments", {"experiment": "load-test"})
    assert response.status_code == 400, response.body
    assert "does not include" in response.json_body["details"]["method/0/type"][0]


def test_a_load_phase_runs_a_shipped_scenario_only(client):
    from chalicelib.chaos.definition import catalog_entry

    definition = catalog_entry("load-test")
    definition["method"][0]["scenario"] = "/etc/passwd"
    response = send(client, "post", "/sre/chaos/experiments", {"definition": definition})
    assert response.status_code == 400
    assert "crud-mix" in response.json_body["details"]["method/0/scenario"][0]
    assert send(client, "post", "/sre/chaos/experiments", {"experiment": "load-test"}).status_code == 202


def test_stopping_a_throttling_experiment_removes_the_reserved_concurrency_the_function_did_not_have(client):
    from functions import chaos_inject
    from tests.support.lambdas import create_function, reserved_concurrency

    create_function("serverless-sre-prod")  # experiments/lambda-throttling.json's function
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "lambda-throttling"}).json_body
    chaos_inject.handler({"experiment_id": started["id"], "plan": {}}, None)
    assert reserved_concurrency("serverless-sre-prod") == 1
    assert send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop").status_code == 200
    assert reserved_concurrency("serverless-sre-prod") is None


def test_a_stop_after_the_stop_condition_fired_keeps_the_condition_as_the_reason(client):
    from dataclasses import replace

    from chalicelib import wiring

    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).json_body
    fired = {"name": "availability burning budget at page speed", "observed": 20.0, "met": False}
    wiring.current().chaos_journal.update(started["id"], lambda stored: replace(stored, stop_condition=fired))
    stopped = send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop").json_body
    assert (stopped["status"], stopped["reason"]) == ("aborted", "stop condition fired: availability burning budget "
                                                                 "at page speed (observed 20.0); then stopped by alice")


def test_an_ecs_experiment_where_there_is_no_ecs_cluster_is_400_naming_it_and_starts_nothing(client):
    response = send(client, "post", "/sre/chaos/experiments", {"experiment": "ecs-task-termination"})
    assert response.status_code == 400, response.body
    assert response.json_body["details"] == {"method/0/cluster": [
        "no ECS cluster 'serverless-sre-prod' in this deployment (ECS experiments act on the cluster of a deployed "
        "ECS variant; the local stack runs none)"]}
    assert send(client, "get", "/sre/chaos/experiments").json_body["experiments"] == []


def test_stopping_an_ecs_experiment_restores_the_desired_count(client, ecs):
    from functions import chaos_inject
    from tests.unit.chaos.conftest import desired_count

    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "ecs-task-termination"}).json_body
    chaos_inject.handler({"experiment_id": started["id"], "plan": {}}, None)
    assert desired_count(ecs) == 1
    response = send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop")
    assert response.status_code == 200, response.body
    assert desired_count(ecs) == 4


def test_an_action_applied_while_the_experiment_is_being_stopped_is_undone_by_the_injection(client, monkeypatch):
    from chalicelib import wiring
    from chalicelib.chaos.journal import ExperimentFinished
    from functions import chaos_inject
    from tests.support.lambdas import create_function, reserved_concurrency

    create_function("serverless-sre-prod")
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "lambda-throttling"}).json_body
    actions = wiring.current().chaos_steps._actions
    apply = actions.apply

    def apply_as_the_operator_stops(action):
        done = apply(action)
        assert send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop").status_code == 200
        return done

    monkeypatch.setattr(actions, "apply", apply_as_the_operator_stops)
    with pytest.raises(ExperimentFinished):
        chaos_inject.handler({"experiment_id": started["id"], "plan": {}}, None)
    assert reserved_concurrency("serverless-sre-prod") is None
    record = send(client, "get", f"/sre/chaos/experiments/{started['id']}").json_body
    assert (record["status"], [event["event"] for event in record["timeline"]][-2:]) == (
        "aborted", ["stopped", "rolled_back"])


def test_a_fault_written_after_the_stop_removed_the_faults_is_removed_by_the_injection(client, monkeypatch):
    from chalicelib import wiring
    from chalicelib.chaos.journal import ExperimentFinished
    from functions import chaos_inject

    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).json_body
    store = wiring.current().chaos_steps._faults
    put = store.put

    def put_after_the_operator_stopped(fault):
        assert send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop").status_code == 200
        put(fault)

    monkeypatch.setattr(store, "put", put_after_the_operator_stopped)
    with pytest.raises(ExperimentFinished):
        chaos_inject.handler({"experiment_id": started["id"], "plan": {}}, None)
    assert wiring.current().chaos_fault_store.active(time.time()) == []
    assert send(client, "get", f"/sre/chaos/experiments/{started['id']}").json_body["status"] == "aborted"


def test_stopping_a_throttling_experiment_puts_back_the_reserved_concurrency_the_function_had(client):
    from functions import chaos_inject
    from tests.support.lambdas import create_function, reserved_concurrency

    create_function("serverless-sre-prod", reserved_concurrency=5)
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "lambda-throttling"}).json_body
    chaos_inject.handler({"experiment_id": started["id"], "plan": {}}, None)
    assert reserved_concurrency("serverless-sre-prod") == 1
    assert send(client, "post", f"/sre/chaos/experiments/{started['id']}/stop").status_code == 200
    assert reserved_concurrency("serverless-sre-prod") == 5


def test_the_rollback_function_removes_the_reserved_concurrency_a_throttled_function_did_not_have(client):
    from functions import chaos_inject, chaos_rollback
    from tests.support.lambdas import create_function, reserved_concurrency

    create_function("serverless-sre-prod")
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "lambda-throttling"}).json_body
    state = chaos_inject.handler({"experiment_id": started["id"], "plan": {"recovery_seconds": 0}}, None)
    assert reserved_concurrency("serverless-sre-prod") == 1
    chaos_rollback.handler(state, None)
    assert reserved_concurrency("serverless-sre-prod") is None


@pytest.mark.parametrize("path_suffix, body", [("/stop", '{"reason": "done"}'), ("/stop", "not json"),
                                               ("/stop?force=1", None)])
def test_a_stop_with_a_body_or_query_it_does_not_take_is_400_and_stops_nothing(client, path_suffix, body):
    """It used to stop and silently drop what it was sent (a reason the operator thought was recorded)."""
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).json_body
    response = send(client, "post", f"/sre/chaos/experiments/{started['id']}{path_suffix}", body)
    assert response.status_code == 400, response.body
    assert send(client, "get", f"/sre/chaos/experiments/{started['id']}").json_body["status"] == "running"


def test_reading_an_experiment_with_a_query_it_does_not_take_is_400(client):
    started = send(client, "post", "/sre/chaos/experiments", {"experiment": "dynamodb-failure"}).json_body
    response = send(client, "get", f"/sre/chaos/experiments/{started['id']}?verbose=1")
    assert response.status_code == 400 and response.json_body["details"] == {"verbose": ["Unknown query parameter."]}
