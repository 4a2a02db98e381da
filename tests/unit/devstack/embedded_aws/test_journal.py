import json

import boto3
import pytest

from devstack.embedded_aws import dynamodb
from devstack.embedded_aws.journal import Journal
from tests.unit.devstack.embedded_aws.tables import table


def test_item_writes_are_journaled_as_images_that_rebuild_the_same_items(aws_mock, restore_dynamo_handler, tmp_path):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    journal = Journal(str(tmp_path / "journal.jsonl"))
    dynamodb.serialize_dynamodb(journal)
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
        dynamodb.apply_item_images(entry)
    assert client.scan(TableName="t")["Items"] == stored
