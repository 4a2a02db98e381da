"""The shipped catalog (experiments/*.json) against its JSON Schema, and what a bad definition is told."""
import copy
import json

import pytest

from chalicelib.chaos import definition as definitions
from chalicelib.http.strict import FREE_TEXT_RULE

SEED_LIST = {"route-latency", "dynamodb-failure", "dynamodb-slowdown", "webhook-outage", "lambda-throttling",
             "ecs-task-termination", "load-test"}


@pytest.mark.parametrize("name", definitions.catalog_names())
def test_every_shipped_experiment_is_valid(name):
    assert definitions.validate(definitions.catalog_entry(name)) is None


def test_the_catalog_covers_the_seed_list():
    assert SEED_LIST <= set(definitions.catalog_names())


def test_the_catalog_speaks_chaos_toolkit_vocabulary():
    document = definitions.catalog_entry("dynamodb-failure")
    assert {"steady-state-hypothesis", "method", "rollbacks"} <= set(document)


def test_targets_name_what_each_action_acts_on():
    assert definitions.targets(definitions.catalog_entry("dynamodb-failure")) == ["database"]
    assert definitions.targets(definitions.catalog_entry("route-latency")) == ["route:/api/users"]
    every_route = definitions.catalog_entry("route-latency")
    every_route["method"][0]["fault"]["target"] = "*"
    assert definitions.targets(every_route) == [
        "route:/", "route:/api/users", "route:/api/users/{user_id}", "route:/openapi.json", "route:/user"]
    assert definitions.targets(definitions.catalog_entry("ecs-task-termination")) == [
        "ecs:serverless-sre-prod/serverless-sre-prod"]


@pytest.mark.parametrize("spelling", [
    "serverless-sre-health-probe", "serverless-sre-health-probe:live", "serverless-sre-health-probe:$LATEST",
    "arn:aws:lambda:us-east-1:123456789012:function:serverless-sre-health-probe",
    "arn:aws:lambda:us-east-1:123456789012:function:serverless-sre-health-probe:7"])
def test_a_throttled_function_is_one_target_however_it_is_spelled(spelling):
    document = definitions.catalog_entry("lambda-throttling")
    document["method"][0]["function"] = spelling
    assert definitions.targets(document) == ["lambda:serverless-sre-health-probe"]


def _broken(change):
    document = copy.deepcopy(definitions.catalog_entry("dynamodb-failure"))
    change(document)
    return definitions.validate(document)


@pytest.mark.parametrize("change, field, reason", [
    (lambda d: d.pop("method"), "(document)", "'method' is a required property"),
    (lambda d: d.update(duration_seconds=0), "duration_seconds", "less than the minimum of 1"),
    (lambda d: d.update(duration_seconds="60"), "duration_seconds", "is not of type 'integer'"),
    (lambda d: d.update(surprise=1), "(document)", "Additional properties are not allowed"),
    (lambda d: d["method"][0]["fault"].update(kind="meteor"), "method/0/fault/kind", "is not one of"),
    (lambda d: d["method"][0]["fault"].update(target="users"), "method/0/fault/target", "targets database"),
    (lambda d: d["method"][0].update(type="teleport"), "method/0/type", "must be one of"),
    (lambda d: d["method"][0]["fault"].update(blast_radius_pct=150), "method/0/fault/blast_radius_pct",
     "greater than the maximum of 100"),
    (lambda d: d["stop-conditions"]["conditions"][0].pop("max"), "stop-conditions/conditions/0", "'max' is a required"),
    (lambda d: d["method"][0].update(name=[]), "method/0/name", "is not of type 'string'"),
    (lambda d: d["method"][0].update(name=None), "method/0/name", "null is not of type 'string'"),
    (lambda d: d.update(tags=True), "tags", "true is not of type 'array'"),
])
def test_a_bad_definition_names_the_field_and_the_reason(change, field, reason):
    problem = _broken(change)
    assert problem is not None and problem.field == field and reason in problem.reason, problem


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(duration_seconds=30.0), "duration_seconds"),
    (lambda d: d.update(recovery_seconds=1e2), "recovery_seconds"),
    (lambda d: d["stop-conditions"].update(interval_seconds=5.0), "stop-conditions/interval_seconds"),
])
def test_a_whole_number_written_with_a_fraction_is_refused_before_a_wait_state_fails_on_it(change, field):
    """Step Functions' Wait refuses 30.0 in SecondsPath with an uncatchable error after the injection,
    which would skip the rollback state."""
    problem = _broken(change)
    assert problem is not None and (problem.field, problem.reason.endswith("is not of type 'integer'")) == (
        field, True)


def test_a_too_long_value_is_refused_without_echoing_it_back():
    problem = _broken(lambda d: d.update(title="x" * 5000))
    assert (problem.field, problem.reason) == ("title", "at most 200 characters")


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(title="x\u202eevil"), "title"),
    (lambda d: d.update(title="\x1b[31mred"), "title"),
    (lambda d: d["method"][0].update(name="inject\x00"), "method/0/name"),
])
def test_text_a_page_or_a_log_would_show_otherwise_than_it_holds_is_refused(change, field):
    problem = _broken(change)
    assert (problem.field, problem.reason) == (field, FREE_TEXT_RULE)


def test_a_description_may_span_lines():
    assert _broken(lambda d: d.update(description="first line\nsecond line")) is None


def test_route_errors_must_be_server_error_statuses():
    document = copy.deepcopy(definitions.catalog_entry("route-latency"))
    document["method"][0]["fault"].update(kind="route_error", magnitude=404)
    assert definitions.validate(document).field == "method/0/fault/magnitude"


def _fault(kind, target, magnitude):
    document = copy.deepcopy(definitions.catalog_entry("route-latency"))
    document["method"][0]["fault"].update(kind=kind, target=target, magnitude=magnitude)
    return document


@pytest.mark.parametrize("kind, target, magnitude, reason", [
    ("route_error", "/health/live", 500.5, "a route error is a whole HTTP status from 500 to 599"),
    ("route_error", "/health/live", 503.0, "a route error is a whole HTTP status from 500 to 599"),
    ("webhook_failure", "webhook", 503.5, "a webhook failure is a whole HTTP status from 400 to 599"),
    ("webhook_failure", "webhook", 429.0, "a webhook failure is a whole HTTP status from 400 to 599"),
])
def test_a_status_magnitude_with_a_fraction_is_refused(kind, target, magnitude, reason):
    problem = definitions.validate(_fault(kind, target, magnitude))
    assert (problem.field, problem.reason) == ("method/0/fault/magnitude", reason)


@pytest.mark.parametrize("kind, target, magnitude", [
    ("route_error", "/health/live", 599), ("route_error", "*", 500),
    ("webhook_failure", "webhook", 400), ("webhook_failure", "webhook", 599)])
def test_a_whole_status_within_the_range_is_accepted(kind, target, magnitude):
    assert definitions.validate(_fault(kind, target, magnitude)) is None


@pytest.mark.parametrize("kind, target", [
    ("route_error", "/health/live"), ("webhook_failure", "webhook"), ("route_latency", "/health/live"),
    ("dynamodb_timeout", "database"), ("dynamodb_slowdown", "database"), ("webhook_timeout", "webhook")])
def test_a_boolean_magnitude_is_refused(kind, target):
    problem = definitions.validate(_fault(kind, target, True))
    assert (problem.field, problem.reason) == ("method/0/fault/magnitude", "true is not of type 'number'")


@pytest.mark.parametrize("target", ["/sre/chaos/experiments/{experiment_id}/stop", "/sre/chaos/experiments"])
def test_a_route_fault_on_the_chaos_endpoints_is_refused(target):
    """Such a fault would answer the operator's stop with the injected error."""
    document = copy.deepcopy(definitions.catalog_entry("route-latency"))
    document["method"][0]["fault"].update(kind="route_error", magnitude=503, target=target)
    problem = definitions.validate(document)
    assert problem.field == "method/0/fault/target" and "could not be stopped" in problem.reason


@pytest.mark.parametrize("target", ["/nope", "/api/users/", "/api/users/123"])
def test_a_route_fault_on_a_path_the_api_does_not_have_is_refused(target):
    document = copy.deepcopy(definitions.catalog_entry("route-latency"))
    document["method"][0]["fault"]["target"] = target
    problem = definitions.validate(document)
    assert problem.field == "method/0/fault/target" and f"no route {target}" in problem.reason


@pytest.mark.parametrize("target", ["*", "/api/users/{user_id}", "/health/ready", "/sre/slos"])
def test_a_route_fault_may_name_any_other_route_of_the_api(target):
    document = copy.deepcopy(definitions.catalog_entry("route-latency"))
    document["method"][0]["fault"]["target"] = target
    assert definitions.validate(document) is None


@pytest.mark.parametrize("function", ["nope\u0000", "../x", "a b", "x" * 65, ""])
def test_a_lambda_throttle_of_something_that_is_no_function_name_is_refused(function):
    document = copy.deepcopy(definitions.catalog_entry("lambda-throttling"))
    document["method"][0]["function"] = function
    assert definitions.validate(document).field == "method/0/function"


@pytest.mark.parametrize("function", ["serverless-sre-api", "serverless-sre-api:live",
                                      "arn:aws:lambda:us-east-1:123456789012:function:serverless-sre-api"])
def test_a_lambda_throttle_takes_a_name_or_an_arn(function):
    document = copy.deepcopy(definitions.catalog_entry("lambda-throttling"))
    document["method"][0]["function"] = function
    assert definitions.validate(document) is None


def test_catalog_names_cannot_escape_the_folder():
    for name in ("../secrets", "schema", "UPPER", ""):
        with pytest.raises(definitions.DefinitionError) as raised:
            definitions.catalog_entry(name)
        assert raised.value.field == "experiment"


def test_the_schema_itself_is_a_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads((definitions.REPOSITORY_CATALOG / "schema.json").read_text()))


def test_the_catalog_schema_is_no_experiment_and_is_refused_as_an_unknown_one():
    """It was refused as 'a catalog name: lowercase letters, digits and dashes', which it is."""
    with pytest.raises(definitions.DefinitionError, match="no catalog experiment 'schema'; known: dynamodb-failure"):
        definitions.catalog_entry("schema")
