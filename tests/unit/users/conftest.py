import boto3
import pytest
from chalice.test import Client

from devstack.provision import provision_secrets, provision_tables


@pytest.fixture
def tables(aws_mock):
    return provision_tables(boto3.client("dynamodb", region_name="us-east-1"))


@pytest.fixture
def operator_token(aws_mock):
    return provision_secrets(boto3.client("secretsmanager", region_name="us-east-1"))["operator-token"]


@pytest.fixture
def client(tables):
    from chalicelib.users.dynamodb import table_models
    from chalicelib.users.service import get_user_service

    table_models.cache_clear()
    get_user_service.cache_clear()
    from app import app

    with Client(app) as test_client:
        yield test_client
    get_user_service.cache_clear()
    table_models.cache_clear()


@pytest.fixture
def create(client):
    def create_user(name="Ada Lovelace", email="ada@example.com"):
        return client.http.post("/api/users", headers={"Content-Type": "application/json"},
                                body=__import__("json").dumps({"name": name, "email": email}))

    return create_user
