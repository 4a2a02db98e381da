"""Tables the embedded AWS tests write to, through a client of the in-process moto."""

RICH_ITEM = {"pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\x01"},
             "l": {"L": [{"S": "x"}, {"NULL": True}]}, "m": {"M": {"k": {"BOOL": False}}},
             "ss": {"SS": ["p", "q"]}, "bs": {"BS": [b"z"]}}


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
