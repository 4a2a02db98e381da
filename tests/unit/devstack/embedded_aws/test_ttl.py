import json

import boto3

from devstack.embedded_aws import dynamodb, ttl
from devstack.embedded_aws.journal import Journal
from tests.unit.devstack.embedded_aws.tables import stored, ttl_table


def test_items_past_their_ttl_are_deleted_and_others_kept(aws_mock):
    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl_table(client)
    now = 2_000_000_000
    for sk, expires in (("expired", {"N": str(now - 1)}), ("due-later", {"N": str(now + 60)}),
                        ("not-a-number", {"S": str(now - 1)}), ("ancient", {"N": "5"})):
        client.put_item(TableName="ttl", Item={"pk": {"S": "p"}, "sk": {"S": sk}, "expires_at": expires})
    client.put_item(TableName="ttl", Item={"pk": {"S": "p"}, "sk": {"S": "no-ttl"}})
    assert ttl.expire_ttl_items(now=now) == 1
    assert stored(client) == ["ancient", "due-later", "no-ttl", "not-a-number"]


def test_tables_without_ttl_keep_every_item(aws_mock):
    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl_table(client, ttl=False)
    client.put_item(TableName="ttl", Item={"pk": {"S": "p"}, "sk": {"S": "old"}, "expires_at": {"N": "1000"}})
    assert ttl.expire_ttl_items(now=2_000_000_000) == 0
    assert stored(client) == ["old"]


def test_ttl_deletions_are_journaled_so_a_replay_does_not_bring_the_items_back(aws_mock, tmp_path):
    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl_table(client)
    item = {"pk": {"S": "p"}, "sk": {"S": "expired"}, "expires_at": {"N": "1999999999"}}
    client.put_item(TableName="ttl", Item=item)
    journal = Journal(str(tmp_path / "journal.jsonl"))
    assert ttl.expire_ttl_items(now=2_000_000_000, journal=journal) == 1
    client.put_item(TableName="ttl", Item=item)  # as a replay of its earlier write would
    for line in (tmp_path / "journal.jsonl").read_text().splitlines():
        dynamodb.apply_item_images(json.loads(line))
    assert stored(client) == []
