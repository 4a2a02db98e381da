import json

import boto3
import pytest
from chalice.test import Client

from devstack.provision import provision_secrets
from tests.postgres_server import run_cluster


@pytest.fixture
def operator_token(aws_mock):
    return provision_secrets(boto3.client("secretsmanager", region_name="us-east-1"))["operator-token"]


@pytest.fixture
def client(tables):
    from app import app

    with Client(app) as test_client:
        yield test_client


JSON = {"Content-Type": "application/json"}


@pytest.fixture
def send_json(client):
    def send(method, path, body):
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(client.http, method)(path, headers=JSON, body=raw)

    return send


@pytest.fixture
def create(send_json):
    def create_user(name="Ada Lovelace", email="ada@example.com"):
        return send_json("post", "/api/users", {"name": name, "email": email})

    return create_user


@pytest.fixture
def created(create):
    def make(name="Ada Lovelace", email="ada@example.com"):
        response = create(name, email)
        assert response.status_code == 201, response.body
        return json.loads(response.body)

    return make


@pytest.fixture(scope="session")
def postgres_dsn():
    yield from run_cluster()


@pytest.fixture(params=["memory", "dynamodb", "postgres"])
def repository(request):
    """Each user store, empty."""
    if request.param == "memory":
        from chalicelib.users.memory import InMemoryUserRepository

        yield InMemoryUserRepository()
        return
    if request.param == "dynamodb":
        request.getfixturevalue("tables")
        # moto's DynamoDB backend is not thread-safe (a TransactWriteItems racing another can let two
        # conflicting transactions both commit); serialize it as the embedded AWS does.
        from moto.dynamodb.responses import DynamoHandler

        from devstack.embedded_aws.dynamodb import serialize_dynamodb

        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setattr(DynamoHandler, "call_action", DynamoHandler.call_action)
        serialize_dynamodb()
        from chalicelib import wiring

        yield wiring.current().user_repository
        return
    import psycopg

    from chalicelib.users.postgres import PostgresUserRepository

    dsn = request.getfixturevalue("postgres_dsn")
    store = PostgresUserRepository(lambda: psycopg.connect(dsn))
    store.ensure_schema()
    with psycopg.connect(dsn) as connection:
        connection.execute("TRUNCATE users, event_outbox")
    yield store
