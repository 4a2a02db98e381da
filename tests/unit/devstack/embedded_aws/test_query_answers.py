"""Kept answers to DynamoDB Query requests (devstack/embedded_aws/query_answers.py)."""
import json

import pytest
from werkzeug.test import Client

from devstack.embedded_aws import dynamodb, ttl
from devstack.embedded_aws.dynamodb import StateVersion
from devstack.embedded_aws.query_answers import QueryAnswers

SCOPE = "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/dynamodb/aws4_request"
QUERY = {"TableName": "t", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}


def call(client, action, body, scope=SCOPE):
    response = client.post("/", data=json.dumps(body), headers={
        "X-Amz-Target": f"DynamoDB_20120810.{action}", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": f"{scope}, SignedHeaders=host, Signature=0"})
    response.json_body = json.loads(response.data)  # DynamoDB JSON's content type is not application/json
    return response


class CountingApp:
    """Answers each Query with how many times it was reached, as a WSGI app."""

    def __init__(self, status="200 OK", during_call=None):
        self.calls = 0
        self.status = status
        self.during_call = during_call

    def __call__(self, environ, start_response):
        self.calls += 1
        if self.during_call:
            self.during_call()
        start_response(self.status, [("Content-Type", "application/x-amz-json-1.0"),
                                     ("x-amzn-RequestId", f"id-{self.calls}")])
        return [json.dumps({"Count": self.calls}).encode()]


def moto_calls_for_two_asks(app, action="Query", version=None):
    """How many times ``app`` was reached when the same request was sent twice through the answers."""
    client = Client(QueryAnswers(app, version or StateVersion()))
    for _ in range(2):
        call(client, action, QUERY)
    return app.calls


def test_a_query_asked_again_with_nothing_changed_gets_the_kept_answer_without_reaching_moto():
    app = CountingApp()
    client = Client(QueryAnswers(app, StateVersion()))
    answers = [call(client, "Query", QUERY).json_body for _ in range(3)]
    assert answers == [{"Count": 1}] * 3
    assert app.calls == 1


def test_a_kept_answer_carries_a_new_request_id():
    client = Client(QueryAnswers(CountingApp(), StateVersion()))
    first, second = call(client, "Query", QUERY), call(client, "Query", QUERY)
    assert second.json_body == first.json_body
    assert second.headers["x-amzn-RequestId"] != first.headers["x-amzn-RequestId"]


def test_a_change_of_state_ends_the_kept_answer():
    version = StateVersion()
    app = CountingApp()
    client = Client(QueryAnswers(app, version))
    call(client, "Query", QUERY)
    version.move_on()
    assert call(client, "Query", QUERY).json_body == {"Count": 2}


def test_an_answer_made_while_the_state_changed_is_not_kept():
    version = StateVersion()
    assert moto_calls_for_two_asks(CountingApp(during_call=version.move_on), version=version) == 2


def test_equal_bodies_from_another_credential_scope_are_answered_apart():
    app = CountingApp()
    client = Client(QueryAnswers(app, StateVersion()))
    call(client, "Query", QUERY)
    other_region = SCOPE.replace("us-east-1", "eu-west-1")
    assert call(client, "Query", QUERY, scope=other_region).json_body == {"Count": 2}


def test_error_answers_are_not_kept():
    assert moto_calls_for_two_asks(CountingApp(status="400 Bad Request")) == 2


def test_requests_other_than_query_always_reach_moto():
    assert moto_calls_for_two_asks(CountingApp(), action="Scan") == 2


def test_the_oldest_kept_answer_makes_room_for_a_new_one():
    app = CountingApp()
    client = Client(QueryAnswers(app, StateVersion(), max_kept=2))
    bodies = [{**QUERY, "Limit": limit} for limit in (1, 2, 3)]
    for body in bodies:
        call(client, "Query", body)
    call(client, "Query", bodies[0])
    call(client, "Query", bodies[2])
    assert app.calls == 4


def test_a_change_through_moto_api_ends_every_kept_answer():
    version = StateVersion()
    app = CountingApp()
    client = Client(QueryAnswers(app, version))
    call(client, "Query", QUERY)
    client.post("/moto-api/reset")
    assert call(client, "Query", QUERY).json_body == {"Count": 3}  # the reset reached moto too


def test_a_query_answered_while_a_moto_api_change_is_under_way_is_not_kept():
    app = CountingApp()
    client = Client(QueryAnswers(app, StateVersion()))
    app.during_call = lambda: app.calls == 1 and call(client, "Query", QUERY)  # midway through the reset
    client.post("/moto-api/reset")
    app.during_call = None
    assert call(client, "Query", QUERY).json_body == {"Count": 3}  # asked of moto again, after the reset


@pytest.fixture
def moto_server_app(aws_mock, restore_dynamo_handler):
    """moto's server application, DynamoDB serialized as the embedded AWS runs it."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    dynamodb.serialize_dynamodb()
    return DomainDispatcherApplication(create_backend_app)


def users_table(client):
    call(client, "CreateTable", {
        "TableName": "t", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}]})


def put(client, sk):
    assert call(client, "PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": sk}}}).status_code == 200


def listed(client):
    return [item["sk"]["S"] for item in call(client, "Query", QUERY).json_body["Items"]]


def test_a_write_between_two_queries_is_in_the_second_answer(moto_server_app):
    client = Client(QueryAnswers(moto_server_app))
    users_table(client)
    put(client, "1")
    assert listed(client) == ["1"]
    put(client, "2")
    assert listed(client) == ["1", "2"]
    assert call(client, "DeleteItem", {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}).status_code == 200
    assert listed(client) == ["2"]


def test_a_refused_write_still_ends_the_kept_answers(moto_server_app):
    before = dynamodb.STATE_VERSION.value
    client = Client(moto_server_app)
    users_table(client)
    refused = call(client, "PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                                       "ConditionExpression": "attribute_exists(pk)"})
    assert refused.status_code == 400
    assert dynamodb.STATE_VERSION.value == before + 2  # the CreateTable and the refused PutItem


def test_reads_leave_the_state_version_as_it_was(moto_server_app):
    client = Client(moto_server_app)
    users_table(client)
    put(client, "1")
    before = dynamodb.STATE_VERSION.value
    for action, body in (("Query", QUERY), ("Scan", {"TableName": "t"}), ("DescribeTable", {"TableName": "t"}),
                         ("GetItem", {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}})):
        assert call(client, action, body).status_code == 200
    assert dynamodb.STATE_VERSION.value == before


def test_a_ttl_sweep_that_deletes_ends_the_kept_answers(aws_mock):
    import boto3

    from tests.unit.devstack.embedded_aws.tables import ttl_table

    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl_table(client)
    client.put_item(TableName="ttl", Item={"pk": {"S": "p"}, "sk": {"S": "x"}, "expires_at": {"N": "1999999999"}})
    before = dynamodb.STATE_VERSION.value
    assert ttl.expire_ttl_items(now=2_000_000_100) == 1
    assert dynamodb.STATE_VERSION.value == before + 1
    assert ttl.expire_ttl_items(now=2_000_000_100) == 0
    assert dynamodb.STATE_VERSION.value == before + 1

