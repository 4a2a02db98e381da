import json

import boto3
import pytest

from devstack.embedded_aws import dynamodb
from tests.unit.devstack.embedded_aws.tables import RICH_ITEM, reads, table


def test_item_reads_answered_as_json_parse_as_moto_would_answer_them(aws_mock, restore_dynamo_handler):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    expected = reads(client)
    dynamodb.answer_items_as_json()
    assert reads(client) == expected
    dynamodb.convert_stored_values_directly()
    dynamodb.answer_reads_without_copying_items()
    assert reads(client) == expected
    assert expected[0] == RICH_ITEM


def writes(client):
    """Each kind of item write, and what botocore parses of its answer (the request id aside)."""
    def answer(response):
        return {key: value for key, value in response.items() if key != "ResponseMetadata"}

    second = {**RICH_ITEM, "pk": {"S": "b"}}
    answers = [answer(client.put_item(TableName="t", Item=second, ReturnValues="ALL_OLD")),
               answer(client.put_item(TableName="t", Item={**second, "n": {"N": "2"}}, ReturnValues="ALL_OLD")),
               answer(client.update_item(TableName="t", Key={"pk": {"S": "b"}}, UpdateExpression="SET n = :n",
                                         ExpressionAttributeValues={":n": {"N": "3"}}, ReturnValues="ALL_NEW")),
               answer(client.update_item(TableName="t", Key={"pk": {"S": "b"}}, UpdateExpression="SET n = :n",
                                         ExpressionAttributeValues={":n": {"N": "4"}}, ReturnValues="UPDATED_OLD")),
               answer(client.transact_write_items(TransactItems=[
                   {"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}}}},
                   {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "a"}},
                                       "ConditionExpression": "attribute_exists(pk)"}}])),
               answer(client.batch_write_item(RequestItems={"t": [{"DeleteRequest": {"Key": {"pk": {"S": "c"}}}}]})),
               answer(client.delete_item(TableName="t", Key={"pk": {"S": "b"}}, ReturnValues="ALL_OLD"))]
    try:
        client.put_item(TableName="t", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except client.exceptions.ConditionalCheckFailedException as failed:
        answers.append({key: failed.response[key] for key in ("Error", "Item") if key in failed.response})
    return answers


def test_item_writes_answered_as_json_parse_as_moto_would_answer_them(aws_mock, restore_dynamo_handler):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    expected = writes(client)
    dynamodb.answer_items_as_json()
    dynamodb.convert_stored_values_directly()
    assert writes(client) == expected
    assert expected[1]["Attributes"] == {**RICH_ITEM, "pk": {"S": "b"}}
    assert expected[-1]["Error"]["Code"] == "ConditionalCheckFailedException"


def test_a_projected_read_without_copies_leaves_the_stored_item_whole(aws_mock, restore_dynamo_handler):
    dynamodb.answer_reads_without_copying_items()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    projected = client.scan(TableName="t", ProjectionExpression="pk, n")["Items"]
    assert projected == [{"pk": {"S": "a"}, "n": {"N": "1.50"}}]
    assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == RICH_ITEM


def claim_and_user(email, user_id, name="Ada"):
    return [{"Put": {"TableName": "t", "Item": {"pk": {"S": f"EMAIL#{email}"}, "user": {"S": user_id}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": f"USER#{user_id}"}, "name": {"S": name}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}]


@pytest.fixture
def client(aws_mock, restore_dynamo_handler):
    """A client of the in-process moto whose transactions roll back by item, and the table ``t``."""
    dynamodb.roll_back_transactions_by_item()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    return client


def test_a_cancelled_transaction_leaves_every_item_as_it_was(client):
    client.put_item(TableName="t", Item={"pk": {"S": "USER#2"}, "name": {"S": "Grace"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=claim_and_user("new@example.com", "2", name="Usurper"))
    assert "Item" not in client.get_item(TableName="t", Key={"pk": {"S": "EMAIL#new@example.com"}})
    assert client.get_item(TableName="t", Key={"pk": {"S": "USER#2"}})["Item"]["name"] == {"S": "Grace"}
    assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == RICH_ITEM


def test_an_update_cancelled_by_a_later_condition_is_undone(client):
    client.put_item(TableName="t", Item={"pk": {"S": "USER#3"}, "name": {"S": "Grace"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "USER#3"}}, "UpdateExpression": "SET #n = :v",
                        "ExpressionAttributeNames": {"#n": "name"}, "ExpressionAttributeValues": {":v": {"S": "X"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
    assert client.get_item(TableName="t", Key={"pk": {"S": "USER#3"}})["Item"]["name"] == {"S": "Grace"}


def test_a_committed_transaction_writes_every_item(client):
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
    dynamodb.compare_strings_directly()
    assert order() == expected == ["é", "b", "a9", "a10", "a", "Z"]


def test_queries_and_scans_return_the_same_order_sorted_by_key_values(aws_mock, restore_dynamo_handler):
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="g", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "listing", "AttributeType": "S"},
                                              {"AttributeName": "created", "AttributeType": "S"},
                                              {"AttributeName": "size", "AttributeType": "N"}],
                        GlobalSecondaryIndexes=[
                            {"IndexName": "by_created", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "listing", "KeyType": "HASH"},
                                           {"AttributeName": "created", "KeyType": "RANGE"}]},
                            {"IndexName": "by_size", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "listing", "KeyType": "HASH"},
                                           {"AttributeName": "size", "KeyType": "RANGE"}]}],
                        BillingMode="PAY_PER_REQUEST")
    for number, created in enumerate(["2024-01-02", "2024-01-01", "2024-01-10", "2024-01-02", "2023-12-31"]):
        client.put_item(TableName="g", Item={"pk": {"S": f"USER#{9 - number}"}, "listing": {"S": "USER"},
                                             "created": {"S": created}, "size": {"N": str([10, 9, -1.5, 100, 2][number])}})
    client.put_item(TableName="g", Item={"pk": {"S": "EMAIL#a"}})  # in no index

    def orders():
        found = [[item["pk"]["S"] for item in client.query(
            TableName="g", IndexName=index, KeyConditionExpression="listing = :l",
            ExpressionAttributeValues={":l": {"S": "USER"}}, ScanIndexForward=forward, Limit=3)["Items"]]
            for index in ("by_created", "by_size") for forward in (True, False)]
        page = client.query(TableName="g", IndexName="by_created", KeyConditionExpression="listing = :l",
                            ExpressionAttributeValues={":l": {"S": "USER"}}, Limit=2)
        found.append([item["pk"]["S"] for item in client.query(
            TableName="g", IndexName="by_created", KeyConditionExpression="listing = :l",
            ExpressionAttributeValues={":l": {"S": "USER"}}, ExclusiveStartKey=page["LastEvaluatedKey"])["Items"]])
        found.append([item["pk"]["S"] for item in client.scan(TableName="g")["Items"]])
        return found

    expected = orders()
    dynamodb.sort_by_key_values()
    assert orders() == expected
    assert expected[0] == ["USER#5", "USER#8", "USER#6"]  # by created, then by the table's key
    assert expected[3] == ["USER#6", "USER#9", "USER#8"]  # by size as a number, descending


def test_item_sizes_are_measured_as_moto_measures_them(restore_dynamo_handler):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    items = [Item(DynamoType({"S": "a"}), None, dict(RICH_ITEM)),
             Item(DynamoType({"S": "b"}), None, {"pk": {"S": "b"}, "námé": {"S": "héllo"}, "n": {"N": "-12.50"},
                                                 "e": {"S": ""}, "t": {"BOOL": True}})]
    expected = [item.size() for item in items]
    dynamodb.size_items_directly()
    assert [item.size() for item in items] == expected
    assert expected[1] == 2 + 1 + 6 + 6 + 1 + 6 + 1 + 0 + 1 + 1  # UTF-8 bytes of names and values


def test_queries_read_only_what_can_match_and_answer_as_moto_answers(aws_mock, restore_dynamo_handler):
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="r", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"},
                                              {"AttributeName": "group", "AttributeType": "S"},
                                              {"AttributeName": "n", "AttributeType": "N"}],
                        GlobalSecondaryIndexes=[{"IndexName": "by_group", "Projection": {"ProjectionType": "ALL"},
                                                 "KeySchema": [{"AttributeName": "group", "KeyType": "HASH"},
                                                               {"AttributeName": "n", "KeyType": "RANGE"}]}],
                        BillingMode="PAY_PER_REQUEST")
    client.create_table(TableName="h", KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}], BillingMode="PAY_PER_REQUEST")
    for number in range(30):
        item = {"pk": {"S": f"p{number % 4}"}, "sk": {"S": f"s{(number * 7) % 30:02d}"}, "n": {"N": str(number % 5)}}
        client.put_item(TableName="r", Item={**item, **({"group": {"S": f"g{number % 2}"}} if number % 3 else {})})
        client.put_item(TableName="h", Item={"n": {"N": str(number)}, "v": {"S": "x" * number}})

    def answers():
        found = []
        for forward in (True, False):
            pages = [client.query(TableName="r", KeyConditionExpression="pk = :p", ScanIndexForward=forward,
                                  ExpressionAttributeValues={":p": {"S": "p1"}}, Limit=3)]
            pages.append(client.query(TableName="r", KeyConditionExpression="pk = :p", ScanIndexForward=forward,
                                      ExpressionAttributeValues={":p": {"S": "p1"}},
                                      ExclusiveStartKey=pages[0]["LastEvaluatedKey"]))
            pages.append(client.query(TableName="r", KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                                      FilterExpression="n > :z", ScanIndexForward=forward,
                                      ExpressionAttributeValues={":p": {"S": "p2"}, ":a": {"S": "s05"},
                                                                 ":b": {"S": "s25"}, ":z": {"N": "1"}}))
            pages.append(client.query(TableName="r", IndexName="by_group", KeyConditionExpression="#g = :g",
                                      ExpressionAttributeNames={"#g": "group"}, ScanIndexForward=forward,
                                      ExpressionAttributeValues={":g": {"S": "g1"}}, Limit=7))
            pages.append(client.query(TableName="r", KeyConditionExpression="pk = :p",
                                      ExpressionAttributeValues={":p": {"S": "absent"}}))
            pages.append(client.query(TableName="h", KeyConditionExpression="n = :n",
                                      ExpressionAttributeValues={":n": {"N": "7.0"}}))
            found.append([{key: page.get(key) for key in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")}
                          for page in pages])
        found.append(client.scan(TableName="r")["Items"])
        return found

    expected = answers()
    dynamodb.query_only_what_can_match()
    assert answers() == expected
    assert [len(page["Items"]) for page in expected[0]] == [3, 5, 3, 7, 0, 1]


def test_items_json_writes_what_json_would_parse_the_same():
    page = {"Items": [{"name": {"S": "Zoë ✓"}, "n": {"N": "12345678901234567890.5"}, "b": {"B": b"\x00\xff"}}],
            "Count": 1, "ConsumedCapacity": {"CapacityUnits": 0.5}}
    expected = json.loads(json.dumps(page, default=dynamodb._binary_as_base64))
    assert json.loads(dynamodb.items_json(page)) == expected


def test_items_json_writes_lone_surrogates_and_huge_integers_as_json_does():
    for page in ({"Items": [{"name": {"S": "half \ud800 pair"}}]}, {"Count": 2 ** 70}):
        assert dynamodb.items_json(page) == json.dumps(page)
