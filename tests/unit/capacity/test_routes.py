"""The capacity endpoints through a Chalice app with the project's middleware, against moto."""
import json
from datetime import timedelta

import boto3
import jsonschema
import pytest

from tests.unit.capacity.test_collector import T0, known_week  # noqa: F401  (fixture)

OPERATOR_TOKEN = "operator-token-for-capacity-tests"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def api_client(capacity_tables, wired):
    from chalice import Chalice
    from chalice.test import Client

    from chalicelib import wiring
    from chalicelib.capacity import routes
    from chalicelib.observability.middleware import http_middleware

    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="serverless-sre/operator-token", SecretString=json.dumps({"alice": OPERATOR_TOKEN}))
    # Collect as of the hour after the known week.
    wired.capacity_collector = lambda: wiring.Wiring.capacity_collector(wired, clock=lambda: T0 + timedelta(hours=1))
    app = Chalice(app_name="capacity-test")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(routes.build_blueprint(wiring.current))
    with Client(app) as client:
        yield client


def plan_schema():
    from chalicelib.web.openapi import openapi_document

    schemas = openapi_document()["components"]["schemas"]
    return json.loads(json.dumps(schemas["CapacityPlan"]).replace("#/components/schemas/", "#/$defs/"))


def test_collect_requires_the_operator_token(api_client):
    assert api_client.http.post("/sre/capacity/collect", body="").status_code == 401


def test_collect_on_demand_stores_the_known_week_and_says_who(api_client, known_week):
    response = api_client.http.post("/sre/capacity/collect", headers=OPERATOR, body="")
    assert response.status_code == 200, response.body
    assert response.json_body["days_of_data"] == 7
    assert response.json_body["operator"] == "alice"
    assert response.json_body["collected_at"] == (T0 + timedelta(hours=1)).isoformat()


def test_collect_on_demand_reads_the_api_functions_limits(api_client):
    from chalicelib import wiring
    from tests.support.lambdas import create_function

    create_function("serverless-sre-api", timeout_seconds=29, memory_mb=1024, reserved_concurrency=50)
    assert api_client.http.post("/sre/capacity/collect", headers=OPERATOR, body="").status_code == 200
    configuration = wiring.current().capacity_store.latest_report().configuration["lambda"]
    assert (configuration["timeout_seconds"], configuration["reserved_concurrency"]) == (29, 50)


@pytest.fixture
def ecs_stack(aws_mock, monkeypatch):
    """The collection's settings on the ECS stack: its service runs 3 tasks, scaled between 2 and 6."""
    from tests.support.ecs import create_scaled_service

    monkeypatch.setenv("ECS_CLUSTER_NAME", "serverless-sre-prod")
    monkeypatch.setenv("ECS_SERVICE_NAME", "serverless-sre-prod")
    create_scaled_service("serverless-sre-prod", "serverless-sre-prod", desired=3, minimum=2, maximum=6)


def test_collect_on_demand_on_the_ecs_stack_reads_the_services_scaling_bounds(ecs_stack, api_client):
    from chalicelib import wiring

    assert api_client.http.post("/sre/capacity/collect", headers=OPERATOR, body="").status_code == 200
    ecs = wiring.current().capacity_store.latest_report().configuration["ecs"]
    assert (ecs["desired_tasks"], ecs["min_tasks"], ecs["max_tasks"]) == (3, 2, 6)


def test_collect_refuses_a_body(api_client):
    response = api_client.http.post("/sre/capacity/collect", headers=OPERATOR, body=json.dumps({"days": 3}))
    assert response.status_code == 400
    assert "body" in response.json_body["details"]


def test_the_plan_before_any_collection_is_valid_and_says_so(api_client):
    response = api_client.http.get("/sre/capacity")
    assert response.status_code == 200
    jsonschema.validate(response.json_body, plan_schema())
    assert response.json_body["data"]["note"] == "no utilization collected yet"


def test_the_plan_after_a_collection_has_utilization_forecasts_and_recommendations(api_client, known_week):
    api_client.http.post("/sre/capacity/collect", headers=OPERATOR, body="")
    body = api_client.http.get("/sre/capacity").json_body
    jsonschema.validate(body, plan_schema())
    assert body["collected_at"] == (T0 + timedelta(hours=1)).isoformat()
    assert body["data"]["days_of_data"] == 7
    utilization = {item["series"]: item for item in body["utilization"]}
    assert utilization["requests"]["latest_peak"] == 1600
    forecasts = {item["series"]: item for item in body["forecasts"]}
    assert forecasts["requests"]["insufficient_history"] is True
    assert {item["kind"] for item in body["recommendations"]} >= {
        "reserved_concurrency", "provisioned_concurrency", "memory_size", "dynamodb_warm_throughput",
        "ecs_task_bounds"}


def test_unknown_query_parameters_are_a_400(api_client):
    response = api_client.http.get("/sre/capacity?days=3")
    assert response.status_code == 400
    assert "days" in response.json_body["details"]


def saturation_body(**overrides):
    body = {"scenario": "users-list", "target": "http://127.0.0.1:8000", "highest_holding_rps": 40,
            "breaking_rps": 50, "breaking_reason": "latency (latency) measured 0.95 against 0.99",
            "capacity_unit": "concurrent execution", "capacity_units": 2.0,
            "steps": [{"offered_rps": 40, "achieved_rps": 39.9, "p99_ms": 80.0, "concurrency": 2.0, "held": True,
                       "broke": None}]}
    return {**body, **overrides}


def test_a_recorded_saturation_point_keeps_who_recorded_it(api_client):
    response = api_client.http.post("/sre/capacity/saturation", headers=OPERATOR, body=json.dumps(saturation_body()))
    assert response.json_body["saturation_point"]["recorded_by"] == response.json_body["operator"]
    plan = api_client.http.get("/sre/capacity").json_body
    assert plan["saturation_point"]["concurrent execution"]["recorded_by"] == response.json_body["operator"]


def test_a_recorded_saturation_point_appears_in_the_plan_per_unit(api_client):
    response = api_client.http.post("/sre/capacity/saturation", headers=OPERATOR, body=json.dumps(saturation_body()))
    assert response.status_code == 200, response.body
    assert response.json_body["saturation_point"]["rps_per_unit"] == 20
    plan = api_client.http.get("/sre/capacity").json_body
    assert plan["saturation_point"]["concurrent execution"]["highest_holding_rps"] == 40
    assert plan["saturation_point"]["task"] is None


def test_an_empty_point_with_a_good_token_is_the_400_the_capacity_tests_token_check_expects(api_client):
    from types import SimpleNamespace

    from tools.capacity_test import _refused_as_invalid

    response = api_client.http.post("/sre/capacity/saturation", headers=OPERATOR, body=json.dumps({}))
    assert _refused_as_invalid(SimpleNamespace(status_code=response.status_code, json=lambda: response.json_body))
    assert api_client.http.get("/sre/capacity").json_body["saturation_point"]["concurrent execution"] is None


def test_recording_a_saturation_point_requires_the_operator_token(api_client):
    response = api_client.http.post("/sre/capacity/saturation", headers={"Content-Type": "application/json"},
                                    body=json.dumps(saturation_body()))
    assert response.status_code == 401


@pytest.mark.parametrize("overrides, field", [
    ({"capacity_unit": "pod"}, "capacity_unit"),
    ({"capacity_units": 0}, "capacity_units"),
    ({"highest_holding_rps": -1}, "highest_holding_rps"),
    ({"highest_holding_rps": True}, "highest_holding_rps"),
    ({"highest_holding_rps": 1e300}, "highest_holding_rps"),
    ({"scenario": ""}, "scenario"),
    ({"breaking_reason": "x" * 501}, "breaking_reason"),
    ({"steps": [{"offered_rps": "fast"}]}, "steps"),
    ({"steps": [{"colour": 1}]}, "steps"),
    ({"steps": "none"}, "steps"),
    ({"extra": 1}, "extra"),
    ({"capacity_units": 5e-324}, "capacity_units"),
    ({"capacity_units": 0.0009}, "capacity_units"),
    ({"target": "http://127.0.0.1\x17"}, "target"),
    ({"breaking_reason": "p99 \ud800"}, "breaking_reason"),
    ({"steps": [{"completed": 1.5}]}, "steps"),
    ({"steps": [{"broke": "\x85"}]}, "steps"),
    ({"highest_holding_rps": 100, "breaking_rps": 50}, "highest_holding_rps"),
    ({"highest_holding_rps": 50, "breaking_rps": 50}, "highest_holding_rps"),
])
def test_a_bad_saturation_point_says_which_field(api_client, overrides, field):
    response = api_client.http.post("/sre/capacity/saturation", headers=OPERATOR,
                                    body=json.dumps(saturation_body(**overrides)))
    assert response.status_code == 400
    assert field in response.json_body["details"]


@pytest.mark.parametrize("step, message", [
    ({"offered_rps": 1e300}, "Step 0: 'offered_rps' is out of range: 1e+300 is not from 0 to 1e+07."),
    ({"p99_ms": -1}, "Step 0: 'p99_ms' is out of range: -1 is not from 0 to 1e+07."),
    ({"offered_rps": "fast"}, "Step 0: 'offered_rps' must be a number from 0 to 1e+07, or null; got a string."),
    ({"concurrency": True}, "Step 0: 'concurrency' must be a number from 0 to 1e+07, or null; got a boolean."),
    ({"completed": 1.5}, "Step 0: 'completed' must be a whole number from 0 to 1000000000; 1.5 has a fraction."),
    ({"completed": 10 ** 10}, "Step 0: 'completed' is out of range: 1e+10 is not from 0 to 1000000000."),
    ({"completed": None}, "Step 0: 'completed' must be a whole number from 0 to 1000000000; got null."),
    ({"held": "yes"}, "Step 0: 'held' must be true or false; got a string."),
    ({"broke": ""}, "Step 0: 'broke' is an empty string: give text saying why the step broke, or null when it held."),
    ({"broke": 3}, "Step 0: 'broke' must be text saying why the step broke, or null; got a number."),
    ({"broke": "x" * 501}, "Step 0: 'broke' is 501 characters long; the limit is 500."),
    ({"broke": "\x85"}, "Step 0: 'broke' must be text without control characters, line separators or "
                        "bidirectional overrides."),
    ({"colour": 1}, "Step 0: 'colour' is not a step field; the fields are offered_rps, achieved_rps, p50_ms, "
                    "p99_ms, mean_ms, concurrency, completed, held, broke."),
])
def test_a_bad_step_field_is_a_400_saying_what_is_wrong_with_it(api_client, step, message):
    response = api_client.http.post("/sre/capacity/saturation", headers=OPERATOR,
                                    body=json.dumps(saturation_body(steps=[step])))
    assert response.status_code == 400, response.body
    assert response.json_body["details"] == {"steps": [message]}


@pytest.mark.parametrize("field", ["highest_holding_rps", "breaking_rps"])
def test_a_saturation_point_missing_a_nullable_field_is_a_400(api_client, field):
    body = saturation_body()
    del body[field]
    response = api_client.http.post("/sre/capacity/saturation", headers=OPERATOR, body=json.dumps(body))
    assert response.status_code == 400
    assert field in response.json_body["details"]


def test_a_saturation_point_the_document_accepts_is_recorded(api_client):
    """Whole counts written as 12.0 and text beyond ASCII are what the OpenAPI schema allows."""
    from chalicelib.web.openapi import openapi_document

    body = saturation_body(target="http://svc.example/\u00fe\U0001f680", breaking_reason="p99 \u2265 200 ms",
                           steps=[{"offered_rps": 5, "completed": 12.0, "held": True, "broke": None}])
    schemas = openapi_document()["components"]["schemas"]
    jsonschema.validate(body, schemas["SaturationPointInput"])
    response = api_client.http.post("/sre/capacity/saturation", headers=OPERATOR, body=json.dumps(body))
    assert response.status_code == 200, response.body
    assert response.json_body["saturation_point"]["steps"][0]["completed"] == 12


@pytest.mark.parametrize("body, status", [("", 200), (" {\n} ", 200), ("\x0b", 400), ('{"x": 1}', 400)])
def test_collect_takes_no_body_or_an_empty_object(api_client, known_week, body, status):
    assert api_client.http.post("/sre/capacity/collect", headers=OPERATOR, body=body).status_code == status
