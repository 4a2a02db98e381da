"""Shared test doubles for the resilience tests (imported by conftest and test modules)."""


class Boom(Exception):
    """A dependency failure."""


class ClientMistake(Exception):
    """An error the caller caused; excluded from counting."""


def fail():
    raise Boom("dependency down")


def succeed():
    return "ok"


def create_breakers_table(table_name: str = "serverless-sre-breakers") -> None:
    import boto3

    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName=table_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}])
