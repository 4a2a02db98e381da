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
    from moto.dynamodb import models

    saved = {name: DynamoHandler.__dict__.get(name) for name in ("serialized", "call_action")}
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved_transact, saved_copy = models.DynamoDBBackend.transact_write_items, models.copy
    saved_cast = DynamoType.__dict__["cast_value"]
    yield
    models.DynamoDBBackend.transact_write_items, models.copy = saved_transact, saved_copy
    DynamoType.cast_value = saved_cast
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


def claim_and_user(email, user_id, name="Ada"):
    return [{"Put": {"TableName": "t", "Item": {"pk": {"S": f"EMAIL#{email}"}, "user": {"S": user_id}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": f"USER#{user_id}"}, "name": {"S": name}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}]


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws_mock, restore_dynamo_handler):
    embedded_aws.roll_back_transactions_by_item()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    client.put_item(TableName="t", Item={"pk": {"S": "USER#2"}, "name": {"S": "Grace"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=claim_and_user("new@example.com", "2", name="Usurper"))
    assert "Item" not in client.get_item(TableName="t", Key={"pk": {"S": "EMAIL#new@example.com"}})
    assert client.get_item(TableName="t", Key={"pk": {"S": "USER#2"}})["Item"]["name"] == {"S": "Grace"}
    assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == RICH_ITEM


def test_an_update_cancelled_by_a_later_condition_is_undone(aws_mock, restore_dynamo_handler):
    embedded_aws.roll_back_transactions_by_item()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    client.put_item(TableName="t", Item={"pk": {"S": "USER#3"}, "name": {"S": "Grace"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "USER#3"}}, "UpdateExpression": "SET #n = :v",
                        "ExpressionAttributeNames": {"#n": "name"}, "ExpressionAttributeValues": {":v": {"S": "X"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
    assert client.get_item(TableName="t", Key={"pk": {"S": "USER#3"}})["Item"]["name"] == {"S": "Grace"}


def test_a_committed_transaction_writes_every_item(aws_mock, restore_dynamo_handler):
    embedded_aws.roll_back_transactions_by_item()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    client.transact_write_items(TransactItems=claim_and_user("ada@example.com", "1"))
    assert client.get_item(TableName="t", Key={"pk": {"S": "USER#1"}})["Item"]["name"] == {"S": "Ada"}
    assert client.get_item(TableName="t", Key={"pk": {"S": "EMAIL#ada@example.com"}})["Item"]["user"] == {"S": "1"}


def test_queries_return_the_same_order_with_strings_compared_directly(aws_mock, restore_dynamo_handler):
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="q", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    for key in ("b", "a10", "a9", "Z", "é", "a"):
        client.put_item(TableName="q", Item={"pk": {"S": "p"}, "sk": {"S": key}, "n": {"N": str(len(key))}})

    def order():
        return [item["sk"]["S"] for item in client.query(
            TableName="q", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
            ScanIndexForward=False)["Items"]]

    expected = order()
    embedded_aws.compare_strings_directly()
    assert order() == expected == ["é", "b", "a9", "a10", "a", "Z"]


def test_item_writes_are_journaled_as_images_that_rebuild_the_same_items(aws_mock, restore_dynamo_handler, tmp_path):
    import json

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    journal = embedded_aws.Journal(str(tmp_path / "journal.jsonl"))
    embedded_aws.serialize_dynamodb(journal)
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)  # a PutItem of RICH_ITEM
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "v": {"N": "1"}}}},
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "2"}}}}])
    client.delete_item(TableName="t", Key={"pk": {"S": "b"}})
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):  # refused: nothing journaled
        client.put_item(TableName="t", Item={"pk": {"S": "c"}}, ConditionExpression="attribute_exists(pk)")
    stored = client.scan(TableName="t")["Items"]
    entries = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert [len(entry["items"]) for entry in entries] == [1, 2, 1]

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.get_table("t").items.clear()
    for entry in entries:
        embedded_aws.apply_item_images(entry)
    assert client.scan(TableName="t")["Items"] == stored
