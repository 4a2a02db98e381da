import threading

import boto3
import pytest
from moto.dynamodb.responses import DynamoHandler

from devstack import embedded_aws
from devstack.resources import definitions

RICH_ITEM = {"pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\x01"},
             "l": {"L": [{"S": "x"}, {"NULL": True}]}, "m": {"M": {"k": {"BOOL": False}}},
             "ss": {"SS": ["p", "q"]}, "bs": {"BS": [b"z"]}}


@pytest.fixture
def restore_dynamo_handler():
    saved = {name: DynamoHandler.__dict__.get(name) for name in ("serialized", "call_action")}
    yield
    for name, value in saved.items():
        if value is None:
            if name in DynamoHandler.__dict__:
                delattr(DynamoHandler, name)
        else:
            setattr(DynamoHandler, name, value)


def table(aws_mock_client):
    aws_mock_client.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                 BillingMode="PAY_PER_REQUEST")
    aws_mock_client.put_item(TableName="t", Item=RICH_ITEM)


def reads(client):
    return [client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"],
            client.query(TableName="t", KeyConditionExpression="pk = :a",
                         ExpressionAttributeValues={":a": {"S": "a"}})["Items"],
            client.scan(TableName="t")["Items"],
            client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "a"}}]}})["Responses"],
            client.get_item(TableName="t", Key={"pk": {"S": "missing"}}).get("Item")]


def test_item_reads_answered_as_json_parse_as_moto_would_answer_them(aws_mock, restore_dynamo_handler):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    expected = reads(client)
    embedded_aws.answer_item_reads_as_json()
    assert reads(client) == expected
    assert expected[0] == RICH_ITEM


def test_function_names_and_arns_map_to_infra_keys():
    key = next(iter(definitions("functions")))
    assert embedded_aws.function_key(f"serverless-sre-{key}") == key
    assert embedded_aws.function_key(f"arn:aws:lambda:us-east-1:123456789012:function:serverless-sre-{key}") == key
    assert embedded_aws.function_key(f"arn:aws:lambda:us-east-1:1:function:serverless-sre-{key}:$LATEST") == key
    assert embedded_aws.function_key("someone-elses-function") is None
