import threading

import boto3
import pytest
from moto.dynamodb.responses import DynamoHandler

from devstack import embedded_aws
from devstack.resources import definitions
from tests.support import moto_speedups

RICH_ITEM = {"pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\x01"},
             "l": {"L": [{"S": "x"}, {"NULL": True}]}, "m": {"M": {"k": {"BOOL": False}}},
             "ss": {"SS": ["p", "q"]}, "bs": {"BS": [b"z"]}}


@pytest.fixture
def restore_dynamo_handler():
    """moto as released while the test runs (the unit suite runs it with the savings applied),
    and whatever the test changed undone after."""
    with moto_speedups.stock_moto():
        from moto.dynamodb import models

        saved = {name: DynamoHandler.__dict__.get(name) for name in ("serialized", "call_action")}
        from moto.dynamodb.models.dynamo_type import DynamoType

        from moto.dynamodb import responses
        from moto.dynamodb.models import table as table_module

        saved_transact, saved_copy = models.DynamoDBBackend.transact_write_items, models.copy
        from moto.dynamodb.models.dynamo_type import Item

        saved_cast, saved_size = DynamoType.__dict__["cast_value"], Item.__dict__["size"]
        saved_to_dict, saved_table_copy = responses.dynamo_to_dict, table_module.copy
        from moto.core import responses as core_responses

        saved_sorts = {name: table_module.Table.__dict__[name] for name in ("all_items", "sorted_items")}
        saved_enrich = core_responses.BaseResponse.__dict__["_enrich_response"]
        saved_method_names = core_responses.method_names_from_class
        yield
        for name, value in saved_sorts.items():
            setattr(table_module.Table, name, value)
        core_responses.BaseResponse._enrich_response = saved_enrich
        core_responses.method_names_from_class = saved_method_names
        models.DynamoDBBackend.transact_write_items, models.copy = saved_transact, saved_copy
        responses.dynamo_to_dict, table_module.copy = saved_to_dict, saved_table_copy
        DynamoType.cast_value, Item.size = saved_cast, saved_size
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
    embedded_aws.answer_items_as_json()
    assert reads(client) == expected
    embedded_aws.convert_stored_values_directly()
    embedded_aws.answer_reads_without_copying_items()
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
    embedded_aws.answer_items_as_json()
    embedded_aws.convert_stored_values_directly()
    assert writes(client) == expected
    assert expected[1]["Attributes"] == {**RICH_ITEM, "pk": {"S": "b"}}
    assert expected[-1]["Error"]["Code"] == "ConditionalCheckFailedException"


def test_a_projected_read_without_copies_leaves_the_stored_item_whole(aws_mock, restore_dynamo_handler):
    embedded_aws.answer_reads_without_copying_items()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    projected = client.scan(TableName="t", ProjectionExpression="pk, n")["Items"]
    assert projected == [{"pk": {"S": "a"}, "n": {"N": "1.50"}}]
    assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == RICH_ITEM


def ttl_table(client, name="ttl", ttl=True):
    client.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    if ttl:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True,
                                                                             "AttributeName": "expires_at"})


def stored(client, name="ttl"):
    return sorted(item["sk"]["S"] for item in client.scan(TableName=name)["Items"])


def test_items_past_their_ttl_are_deleted_and_others_kept(aws_mock):
    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl_table(client)
    now = 2_000_000_000
    for sk, expires in (("expired", {"N": str(now - 1)}), ("due-later", {"N": str(now + 60)}),
                        ("not-a-number", {"S": str(now - 1)}), ("ancient", {"N": "5"})):
        client.put_item(TableName="ttl", Item={"pk": {"S": "p"}, "sk": {"S": sk}, "expires_at": expires})
    client.put_item(TableName="ttl", Item={"pk": {"S": "p"}, "sk": {"S": "no-ttl"}})
    assert embedded_aws.expire_ttl_items(now=now) == 1
    assert stored(client) == ["ancient", "due-later", "no-ttl", "not-a-number"]


def test_tables_without_ttl_keep_every_item(aws_mock):
    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl_table(client, ttl=False)
    client.put_item(TableName="ttl", Item={"pk": {"S": "p"}, "sk": {"S": "old"}, "expires_at": {"N": "1000"}})
    assert embedded_aws.expire_ttl_items(now=2_000_000_000) == 0
    assert stored(client) == ["old"]


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
    embedded_aws.sort_by_key_values()
    assert orders() == expected
    assert expected[0] == ["USER#5", "USER#8", "USER#6"]  # by created, then by the table's key
    assert expected[3] == ["USER#6", "USER#9", "USER#8"]  # by size as a number, descending


def test_json_answers_get_a_request_id_and_xml_answers_their_request_id_rewritten(aws_mock, restore_dynamo_handler):
    from moto.core.responses import BaseResponse

    embedded_aws.skip_request_id_rewrite_without_xml()
    json_headers, json_body = BaseResponse._enrich_response({"status": 200}, '{"Items": []}')
    xml_headers, xml_body = BaseResponse._enrich_response({}, "<R><RequestId>old</RequestId></R>")
    assert json_body == '{"Items": []}' and json_headers["status"] == "200"
    assert len(json_headers["x-amzn-requestid"]) == 52
    assert xml_body == f"<R><RequestId>{xml_headers['x-amzn-requestid']}</RequestId></R>"


def test_an_action_no_handler_implements_is_still_refused_with_method_names_cached(aws_mock, restore_dynamo_handler):
    from moto.core import responses

    embedded_aws.cache_handler_method_names()
    assert "query" in responses.method_names_from_class(DynamoHandler)
    assert "no_such_action" not in responses.method_names_from_class(DynamoHandler)
    assert responses.method_names_from_class(DynamoHandler) is responses.method_names_from_class(DynamoHandler)


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


def test_item_sizes_are_measured_as_moto_measures_them(restore_dynamo_handler):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    items = [Item(DynamoType({"S": "a"}), None, dict(RICH_ITEM)),
             Item(DynamoType({"S": "b"}), None, {"pk": {"S": "b"}, "námé": {"S": "héllo"}, "n": {"N": "-12.50"},
                                                 "e": {"S": ""}, "t": {"BOOL": True}})]
    expected = [item.size() for item in items]
    embedded_aws.size_items_directly()
    assert [item.size() for item in items] == expected
    assert expected[1] == 2 + 1 + 6 + 6 + 1 + 6 + 1 + 0 + 1 + 1  # UTF-8 bytes of names and values


def dispatcher():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return embedded_aws.CachingDispatcher.create(DomainDispatcherApplication, create_backend_app)


def test_service_apps_run_without_flask_debug_mode():
    assert dispatcher().create_app("dynamodb").debug is False


def test_the_backend_of_a_host_is_looked_up_once(monkeypatch):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lookups = []
    monkeypatch.setattr(DomainDispatcherApplication, "get_backend_for_host",
                        lambda self, host: lookups.append(host) or "dynamodb")
    served = dispatcher()
    assert [served.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") for _ in range(3)] == ["dynamodb"] * 3
    assert lookups == ["dynamodb.us-east-1.amazonaws.com"]


@pytest.fixture
def restore_model_tracking():
    from moto.core.common_models import BaseModel

    saved = BaseModel.__dict__["__new__"]
    yield
    BaseModel.__new__ = saved


def test_item_versions_are_not_kept_after_their_updates(aws_mock, restore_model_tracking):
    from moto.dynamodb.models.dynamo_type import Item

    embedded_aws.stop_keeping_every_model_object()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    kept = len(Item.instances_tracked)
    for value in range(20):
        client.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                           ExpressionAttributeValues={":v": {"N": str(value)}})
    assert len(Item.instances_tracked) == kept
    assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "19"}


def test_ttl_deletions_are_journaled_so_a_replay_does_not_bring_the_items_back(aws_mock, tmp_path):
    import json

    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl_table(client)
    item = {"pk": {"S": "p"}, "sk": {"S": "expired"}, "expires_at": {"N": "1999999999"}}
    client.put_item(TableName="ttl", Item=item)
    journal = embedded_aws.Journal(str(tmp_path / "journal.jsonl"))
    assert embedded_aws.expire_ttl_items(now=2_000_000_000, journal=journal) == 1
    client.put_item(TableName="ttl", Item=item)  # as a replay of its earlier write would
    for line in (tmp_path / "journal.jsonl").read_text().splitlines():
        embedded_aws.apply_item_images(json.loads(line))
    assert stored(client) == []


def test_metric_data_queries_answer_as_moto_answers_them(aws_mock, restore_dynamo_handler):
    from datetime import datetime, timedelta, timezone

    client = boto3.client("cloudwatch", region_name="us-east-1")
    start = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    function = [{"Name": "FunctionName", "Value": "api"}]
    for minute in (7, 0, 3, 3, 12, 59, 1, 8):  # out of order, two in one minute
        moment = start + timedelta(minutes=minute, seconds=minute % 5)
        client.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "requests", "Timestamp": moment, "Value": minute + 0.25, "Unit": "Count"},
            {"MetricName": "requests", "Timestamp": moment, "Dimensions": function, "Values": [1.5, 2], "Counts": [2, 1]},
            {"MetricName": "latency", "Timestamp": moment, "Unit": "Milliseconds",
             "StatisticValues": {"SampleCount": 4, "Sum": 10 * minute + 1, "Minimum": 1, "Maximum": 9}}])
        client.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "requests", "Timestamp": moment, "Value": 100}])
    for second, value in ((30, 1e16), (10, -1e16), (20, 0.1)):  # a float sum that depends on the order of adding
        client.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "cancelling", "Timestamp": start + timedelta(seconds=second), "Value": value}])

    def stat(query_id, name, statistic, period=60, namespace="App", **extra):
        metric = {"Namespace": namespace, "MetricName": name, **extra.pop("metric", {})}
        return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": period, "Stat": statistic, **extra}}

    queries = [stat("plain", "requests", "Sum"), stat("counted", "requests", "SampleCount", period=300),
               stat("by_function", "requests", "Average", metric={"Dimensions": function}),
               stat("other", "requests", "Maximum", namespace="Other", period=120),
               stat("in_ms", "latency", "Sum", Unit="Milliseconds"), stat("in_s", "latency", "Sum", Unit="Seconds"),
               stat("slowest", "latency", "p90", period=600) | {"ReturnData": False},
               stat("cancelling", "cancelling", "Sum"), {"Id": "ratio", "Expression": "plain / counted", "Label": "ratio"}]

    def answers():
        return [client.get_metric_data(MetricDataQueries=queries, StartTime=start + timedelta(minutes=begin),
                                       EndTime=start + timedelta(minutes=end), ScanBy=order)["MetricDataResults"]
                for begin, end in ((0, 60), (2, 13), (-5, 120)) for order in ("TimestampAscending", "TimestampDescending")]

    expected = answers()
    assert [len(result["Values"]) for result in expected[0]][:6] == [7, 4, 7, 6, 7, 0]
    assert expected[0][6]["Values"] == [0.1]  # added in the order stored
    embedded_aws.find_metric_data_by_name_and_time()
    assert answers() == expected
    client.put_metric_data(Namespace="App", MetricData=[{"MetricName": "requests", "Timestamp": start, "Value": 0}])
    with moto_speedups.stock_moto():
        expected_after_a_write = answers()
    assert answers() == expected_after_a_write != expected  # a datapoint stored after the index was built


def test_list_metrics_answers_each_metric_once_as_cloudwatch_does(aws_mock, restore_dynamo_handler):
    from datetime import datetime, timedelta, timezone

    client = boto3.client("cloudwatch", region_name="us-east-1")
    start = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    service = {"Name": "service", "Value": "users"}
    for minute in range(3):
        for route in ("GET /api/users", "POST /api/users"):
            client.put_metric_data(Namespace="App", MetricData=[
                {"MetricName": "requests", "Timestamp": start + timedelta(minutes=minute), "Value": 1,
                 "Dimensions": [service, {"Name": "route", "Value": route}]}])
        client.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "requests", "Timestamp": start + timedelta(minutes=minute), "Value": 1, "Dimensions": [service]},
            {"MetricName": "users_registered", "Timestamp": start + timedelta(minutes=minute), "Value": 1}])

    def listed(**filters):
        return sorted((metric["Namespace"], metric["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in metric["Dimensions"])))
                      for metric in client.list_metrics(**filters)["Metrics"])

    by_route = {"Namespace": "App", "MetricName": "requests", "Dimensions": [service, {"Name": "route"}]}
    assert len(listed(**by_route)) == 6  # moto as released: once per datapoint
    embedded_aws.list_each_metric_once()
    assert listed(**by_route) == [("App", "requests", (("route", route), ("service", "users")))
                                  for route in ("GET /api/users", "POST /api/users")]
    assert listed(Namespace="App", MetricName="requests") == sorted([("App", "requests", (("service", "users"),)),
                                                                     *listed(**by_route)])
    assert listed(MetricName="users_registered") == [("App", "users_registered", ())]
    client.put_metric_data(Namespace="App", MetricData=[{"MetricName": "errors", "Value": 1, "Dimensions": [service]}])
    assert listed(MetricName="errors") == [("App", "errors", (("service", "users"),))]  # stored after the first list


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
    embedded_aws.query_only_what_can_match()
    assert answers() == expected
    assert [len(page["Items"]) for page in expected[0]] == [3, 5, 3, 7, 0, 1]
