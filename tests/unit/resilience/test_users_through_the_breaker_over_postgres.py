"""The ``database`` breaker and its stale-read fallback over PostgreSQL: a real server, really stopped."""
import json
import time

import boto3
import pytest
from chalice.test import Client

from chalicelib import wiring
from devstack.ports import free_port
from tests.postgres_server import PostgresCluster

SECRET_ID = "serverless-sre/database"


@pytest.fixture
def cluster():
    server = PostgresCluster(tcp_port=free_port(), password="outage-test")
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def client(aws_mock, cluster, monkeypatch):
    from chalicelib.users import migrate
    from devstack.provision import provision_tables

    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name=SECRET_ID, SecretString=json.dumps({"username": "sre", "password": cluster.password}))
    for name, value in {"USERS_STORE": "postgres", "DB_SECRET_ID": SECRET_ID, "DB_HOST": "127.0.0.1",
                        "DB_PORT": str(cluster.tcp_port), "DB_SSLMODE": "disable", "BREAKER_STORAGE": "memory",
                        "DB_POOL_TIMEOUT_SECONDS": "1", "DB_CONNECT_TIMEOUT_SECONDS": "1",
                        "DB_POOL_RECONNECT_SECONDS": "2"}.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    provision_tables(boto3.client("dynamodb", region_name="us-east-1"))
    assert migrate.main([]) == 0
    from app import app

    with Client(app) as test_client:
        yield test_client
    wiring.current().close()


@pytest.fixture
def database():
    return wiring.current().breakers.get("database")


def wait_until_ready(client, seconds=20):
    """As the load balancer's health check does: the pool reconnects on its own after an outage."""
    deadline = time.monotonic() + seconds
    while client.http.get("/health/ready").status_code != 200:
        assert time.monotonic() < deadline, "the store did not come back"
        time.sleep(0.2)


def create(client, email):
    return client.http.post("/api/users", headers={"Content-Type": "application/json"},
                            body=json.dumps({"name": "Ada", "email": email}))


def test_a_postgres_outage_serves_stale_reads_refuses_writes_and_trips_the_breaker(client, cluster, database):
    user = create(client, "ada@example.com").json_body
    assert client.http.get(f"/api/users/{user['id']}").status_code == 200

    cluster.stop()
    reads = [client.http.get(f"/api/users/{user['id']}") for _ in range(3)]
    writes = [create(client, f"outage-{n}@example.com").status_code for n in range(3)]

    assert [(r.status_code, r.headers.get("X-Data-Stale"), r.json_body) for r in reads] == [(200, "true", user)] * 3
    assert writes == [503] * 3
    assert database.current_state == "open"
    refused = create(client, "while-open@example.com")
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1

    cluster.start()
    wait_until_ready(client)
    database.close()
    retried = [create(client, f"outage-{n}@example.com").status_code for n in range(3)]
    listed = [u["email"] for u in client.http.get("/api/users").json_body]
    assert retried == [201] * 3
    assert sorted(listed) == sorted(["ada@example.com"] + [f"outage-{n}@example.com" for n in range(3)])


def test_reads_are_fresh_again_once_postgres_is_back(client, cluster, database):
    user = create(client, "grace@example.com").json_body
    client.http.get(f"/api/users/{user['id']}")
    cluster.stop()
    assert client.http.get(f"/api/users/{user['id']}").headers.get("X-Data-Stale") == "true"
    cluster.start()
    wait_until_ready(client)
    database.close()
    fresh = client.http.get(f"/api/users/{user['id']}")
    assert (fresh.status_code, fresh.headers.get("X-Data-Stale")) == (200, None)
