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
