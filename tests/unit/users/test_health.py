import json

import boto3


def test_health_is_healthy_after_a_round_trip_to_the_table(client, tables):
    response = client.http.get("/health")
    body = json.loads(response.body)
    assert response.status_code == 200
    assert body["status"] == "healthy" and body["database"] == "connected"
    assert {"timestamp", "response_time_ms"} <= set(body)


def test_health_is_503_with_a_reason_when_the_table_is_gone(client, tables):
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=tables["users"])
    response = client.http.get("/health")
    body = json.loads(response.body)
    assert response.status_code == 503
    assert body["status"] == "unhealthy" and body["database"] == "disconnected"
    assert body["reason"]


def test_ready_follows_the_table(client, tables):
    assert json.loads(client.http.get("/health/ready").body) == {"status": "ready"}
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=tables["users"])
    assert client.http.get("/health/ready").status_code == 503


def test_live_needs_no_dependency(client):
    response = client.http.get("/health/live")
    assert response.status_code == 200
    assert json.loads(response.body) == {"status": "alive"}


def test_health_lists_no_open_breakers_when_all_are_closed(client, tables):
    assert json.loads(client.http.get("/health").body)["open_breakers"] == []


def test_health_stays_200_and_reports_degraded_while_a_breaker_is_open(client, tables):
    from chalicelib import wiring

    wiring.current().breakers.get("webhook").open(actor="test")
    response = client.http.get("/health")
    body = json.loads(response.body)
    assert response.status_code == 200
    assert (body["status"], body["database"]) == ("degraded", "connected")
    assert [(breaker["name"], breaker["state"]) for breaker in body["open_breakers"]] == [("webhook", "open")]
    assert body["reason"].startswith("circuit breaker webhook is open")


def test_health_is_degraded_not_down_when_the_table_fails_behind_an_open_database_breaker(client, tables):
    from chalicelib import wiring

    wiring.current().breakers.get("database").open(actor="test")
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=tables["users"])
    response = client.http.get("/health")
    body = json.loads(response.body)
    assert response.status_code == 200
    assert (body["status"], body["database"]) == ("degraded", "disconnected")
    assert "user table round trip failed" in body["reason"]
    assert "last known good" in body["reason"]
