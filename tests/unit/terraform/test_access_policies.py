"""Each function's policy against the AWS calls its code was seen making (tests/fixtures/aws_calls.json,
the record of a whole suite run: unit tests with moto and the e2e stacks). Every call is allowed,
and every action a function's policy allows on a resource was called there by that function, but
for those tests/fixtures/aws_calls_unproven.json lists: a code path uses them and no test drives
it through its function yet (each says which)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.aws_calls import CallRecorder, resource_of
from devstack.aws_calls import Call
from tests.support.iam import PolicyBook, access_file, access_lists, grant_of, read_record


@pytest.fixture(scope="module")
def book():
    return PolicyBook()


@pytest.fixture(scope="module")
def record():
    calls = read_record()
    assert calls, "tests/fixtures/aws_calls.json is missing or empty"
    return calls


def test_every_function_and_the_api_declare_their_access():
    undeclared = [function for function, entries in access_lists().items() if not entries]
    assert undeclared == []


def test_every_recorded_call_is_allowed_by_its_functions_policy(book, record):
    assert book.refused(record) == []


UNPROVEN = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "aws_calls_unproven.json").read_text())


def test_no_policy_allows_a_function_an_action_on_a_resource_it_never_called_there(book, record):
    assert book.unused(record) == sorted(UNPROVEN["grants"])


def test_every_unproven_grant_names_the_code_path_that_uses_it():
    assert all(reason.strip() for reason in UNPROVEN["grants"].values())


def test_every_access_entry_takes_only_actions_its_grant_offers():
    grants = access_file()["grants"]
    offered = {entry: {a for s in grant_of(entry, grants)["statements"] for a in s["actions"]}
               for entries in access_lists().values() for entry in entries}
    assert [(function, entry, action) for function, entries in access_lists().items()
            for entry, actions in entries.items() for action in actions if action not in offered[entry]] == []


def test_every_rendered_statement_has_an_alphanumeric_sid_of_its_own(book):
    sids = [(s.function, s.sid) for s in book.statements]
    assert [sid for _, sid in sids if not sid.isalnum()] == []
    assert len(set(sids)) == len(sids)


def test_every_function_was_seen_calling_aws(record):
    assert set(access_lists()) - {call.function for call in record} == set(UNPROVEN["functions_not_driven"])


def test_a_statement_on_every_resource_says_why():
    statements = [s for grant in access_file()["grants"].values() for s in grant["statements"]]
    assert [s["sid"] for s in statements if s["resources"] == ["*"] and not s.get("star_reason")] == []
    assert [s["sid"] for s in statements if s["resources"] != ["*"] and "*" in s["resources"]] == []


def test_the_book_refuses_a_call_on_a_resource_the_function_does_not_hold(book):
    assert book.refused([Call("health-probe", "dynamodb:GetItem", "table:users")]) == [
        Call("health-probe", "dynamodb:GetItem", "table:users")]
    assert book.refused([Call("health-probe", "cloudwatch:PutMetricData", None)]) == []


def test_the_book_refuses_a_delete_to_a_function_that_only_reads_the_table(book):
    assert access_lists()["escalation-validate"]["table:incidents"] == ["dynamodb:GetItem"]
    assert book.refused([Call("escalation-validate", "dynamodb:GetItem", "table:incidents"),
                         Call("escalation-validate", "dynamodb:DeleteItem", "table:incidents")]) == [
        Call("escalation-validate", "dynamodb:DeleteItem", "table:incidents")]


def test_a_table_without_indexes_gets_no_index_statement():
    book = PolicyBook({"reader": {"table:breakers": ["dynamodb:Query"], "table:incidents": ["dynamodb:Query"]}})
    assert [(s.sid, s.resources) for s in book.statements] == [
        ("TableBreakers", ("{arn}",)), ("TableIncidents", ("{arn}",)), ("TableIncidentsIndexes", ("{indexes_arn}",))]


@pytest.mark.parametrize("kind, identifier, entry", [
    ("table", "serverless-sre-prod-slo-status", "table:slo-status"),
    ("table", "serverless-sre-users", "table:users"),
    ("secret", "serverless-sre/prod/operator-token", "secret:operator-token"),
    ("secret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:serverless-sre/operator-token-AbCdEf",
     "secret:operator-token"),
    ("execution", "arn:aws:states:us-east-1:123456789012:execution:serverless-sre-escalation:inc-1",
     "execution:escalation"),
    ("function", "serverless-sre-api", "function:api"),
    ("queue", "http://127.0.0.1:5000/123456789012/serverless-sre-breaker-transitions.fifo",
     "queue:breaker-transitions"),
    ("table", "someone-elses-table", "table:?someone-elses-table"),
])
def test_calls_name_the_infra_entry_of_their_resource(kind, identifier, entry):
    assert resource_of(kind, identifier, CallRecorder()._names, environ={}) == entry


def test_the_ecs_variants_database_secret_is_the_task_roles_own_entry():
    assert resource_of("secret", "serverless-sre/database", CallRecorder()._names,
                       environ={"DB_SECRET_ID": "serverless-sre/database"}) == "secret:database"


def test_a_process_recorder_gives_every_call_to_its_one_principal(aws_mock):
    import boto3

    recorder = CallRecorder(process_function="ecs-task")
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.meta.events.register("before-parameter-build.*.*", recorder)
    client.create_secret(Name="serverless-sre/operator-token", SecretString="{}")
    assert {(call.function, call.action) for call in recorder.calls} == {("ecs-task", "secretsmanager:CreateSecret")}


def test_the_task_role_holds_the_apis_statements_and_the_database_secret(book):
    assert book.refused([Call("ecs-task", "secretsmanager:GetSecretValue", "secret:database"),
                         Call("ecs-task", "dynamodb:GetItem", "table:users")]) == []
    assert book.refused([Call("api", "secretsmanager:GetSecretValue", "secret:database")]) != []
