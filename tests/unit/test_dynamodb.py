import base64
import json
import threading

import boto3
import pytest
from botocore.parsers import JSONParser
from botocore.session import get_session

from chalicelib.dynamodb import (_attribute_value_parser_factory, parse_attribute_values_directly, table_meta,
                                 with_client_built)
from chalicelib.webhooks.outbox import outbox_model

B64 = base64.b64encode(b"\x00\x01").decode()
EVERY_KIND = {"s": {"S": "Ada"}, "empty": {"S": ""}, "n": {"N": "-1.50"}, "b": {"B": B64},
              "yes": {"BOOL": True}, "null": {"NULL": True}, "ss": {"SS": ["p", "q"]}, "ns": {"NS": ["1", "2.5"]},
              "bs": {"BS": [B64, None]}, "l": {"L": [{"S": "x"}, {"NULL": True}, None, {"L": [{"N": "1"}]}]},
              "m": {"M": {"k": {"BOOL": False}, "deep": {"M": {"b": {"B": B64}}}, "gone": None}},
              "unknown_tag": {"ZZ": "from a newer DynamoDB"}}
MALFORMED = [{"S": "a", "N": "1"}, {"SS": "not a list"}, {"M": []}, {"L": {}}, {"S": None}]
PLAIN_ITEM = {"s": {"S": "Ada"}, "empty": {"S": ""}, "n": {"N": "-1.50"}, "yes": {"BOOL": True}, "null": {"NULL": True}}
# Plain tags with values of another JSON type than DynamoDB sends (kept as botocore keeps them),
# and values of kinds botocore converts (binaries decoded) among plain ones.
BESIDE_PLAIN_VALUES = [{"S": 5}, {"N": 1.5}, {"BOOL": "true"}, {"NULL": False}, {"S": ["a"]}, {"S": {"k": 1}},
                       {"S": None}, {"B": B64}, {"BS": [B64]}, {"M": {"b": {"B": B64}}}]


def parsed(parser, operation, body):
    shape = get_session().get_service_model("dynamodb").operation_model(operation).output_shape
    response = {"body": json.dumps(body).encode(), "headers": {"x-amzn-requestid": "r"}, "status_code": 200}
    try:
        return parser.parse(response, shape)
    except Exception as exc:  # a malformed answer must fail as botocore fails it
        return type(exc)


def parse_both(operation, body):
    return (parsed(JSONParser(), operation, body),
            parsed(_attribute_value_parser_factory().create_parser("json"), operation, body))


@pytest.mark.parametrize("operation, body", [
    ("Query", {"Items": [EVERY_KIND, {"pk": {"S": "b"}}], "Count": 2, "ScannedCount": 2,
               "LastEvaluatedKey": {"pk": {"S": "b"}}}),
    ("GetItem", {"Item": EVERY_KIND}),
    ("GetItem", {}),
    ("BatchGetItem", {"Responses": {"t": [EVERY_KIND]}, "UnprocessedKeys": {}}),
    ("UpdateItem", {"Attributes": EVERY_KIND}),
])
def test_attribute_values_parse_as_botocore_parses_them(operation, body):
    plain, direct = parse_both(operation, body)
    assert direct == plain


@pytest.mark.parametrize("value", BESIDE_PLAIN_VALUES)
def test_an_item_of_plain_values_and_one_more_parses_as_botocore_parses_it(value):
    body = {"Items": [PLAIN_ITEM, {**PLAIN_ITEM, "odd": value}], "Count": 2, "ScannedCount": 2}
    plain, direct = parse_both("Query", body)
    assert direct == plain


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_value_parses_or_fails_as_botocore_has_it(value):
    plain, direct = parse_both("GetItem", {"Item": {"v": value}})
    assert direct == plain


def test_a_binary_value_is_decoded_and_an_unknown_kind_left_to_botocore():
    plain, direct = parse_both("GetItem", {"Item": EVERY_KIND})
    assert direct["Item"]["b"] == {"B": b"\x00\x01"}
    assert direct["Item"]["unknown_tag"] == plain["Item"]["unknown_tag"]


def test_a_connection_parsing_directly_reads_what_it_wrote(aws_mock):
    from pynamodb.connection import Connection

    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    meta = table_meta("t", "us-east-1")
    connection = Connection(region=meta.region)
    parse_attribute_values_directly(connection)
    binary = b"\x00\x01"
    item = {"s": {"S": "Ada"}, "n": {"N": "-1.50"}, "b": {"B": binary}, "yes": {"BOOL": True}, "null": {"NULL": True},
            "ss": {"SS": ["p", "q"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [binary, b"z"]},
            "l": {"L": [{"S": "x"}, {"NULL": True}, {"L": [{"N": "1"}]}]},
            "m": {"M": {"k": {"BOOL": False}, "deep": {"M": {"b": {"B": binary}}}}}}
    connection.client.put_item(TableName="t", Item={"pk": {"S": "a"}, **item})
    read = connection.client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]
    assert read == boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="t", Key={"pk": {"S": "a"}})["Item"]
    assert read["b"] == {"B": b"\x00\x01"}


def _clients_seen_by_concurrent_first_uses(model, threads=8):
    clients, start = [], threading.Barrier(threads)

    def first_use():
        start.wait()
        clients.append(model._get_connection().connection.client)

    workers = [threading.Thread(target=first_use) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {id(client) for client in clients}


def test_a_model_handed_out_with_its_client_built_gives_concurrent_first_uses_one_client():
    model = with_client_built(outbox_model("serverless-sre-webhook-outbox", "us-east-1"))
    assert len(_clients_seen_by_concurrent_first_uses(model)) == 1
