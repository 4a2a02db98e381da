"""Fault records picked up by the running service: routes, DynamoDB below the breaker, webhooks."""
import json
import time

import pytest
from chalice.test import Client

from chalicelib.observability import metrics

from .conftest import fault

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(tables):
    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def inject(wired):
    def put(record):
        wired.chaos_fault_store.put(record)
        wired.chaos_faults.invalidate()
        return record

    return put


@pytest.fixture
def records():
    seen = []
    metrics.add_record_listener(seen.append)
    yield seen
    metrics.remove_record_listener(seen.append)


def create(client, email="ada@example.com"):
    return client.http.post("/api/users", headers=JSON, body=json.dumps({"name": "Ada", "email": email}))


def test_a_route_error_fault_answers_its_status_and_names_the_experiment_in_the_metrics(client, inject, records):
    inject(fault(kind="route_error", target="/api/users", magnitude=503))
    response = client.http.get("/api/users")
    assert response.status_code == 503 and response.json_body == {"error": "Service temporarily unavailable"}
    assert records[-1]["chaos_experiment"] == "exp-0001" and records[-1]["server_errors"] == [1.0]


def test_a_route_latency_fault_adds_its_delay(client, inject, records, monkeypatch):
    slept = []
    monkeypatch.setattr("chalicelib.observability.middleware.route_fault_sleep", slept.append)
    inject(fault(kind="route_latency", target="/api/users", magnitude=750))
    assert client.http.get("/api/users").status_code == 200
    assert slept == [0.75] and records[-1]["chaos_experiment"] == "exp-0001"


def test_untouched_requests_carry_no_experiment(client, inject, records):
    inject(fault(kind="route_error", target="/api/users/{user_id}", magnitude=500))
    assert client.http.get("/api/users").status_code == 200
    assert "chaos_experiment" not in records[-1]


def test_a_star_fault_never_touches_the_control_plane_or_the_probes(client, inject):
    inject(fault(kind="route_error", target="*", magnitude=500))
    assert client.http.get("/health/live").status_code == 200
    assert client.http.get("/sre/breakers").status_code < 500
    assert client.http.get("/api/users").status_code == 500


def test_a_star_fault_never_touches_the_local_stacks_own_routes():
    """It failed the local webhook receiver's deliveries, a route no "*" experiment locks."""
    from chalicelib.chaos.definition import targets

    star = fault(kind="route_error", target="*")
    assert not star.applies_to_route("/_local/webhook-receiver")
    locked = targets({"method": [{"type": "fault", "fault": {"kind": "route_error", "target": "*"}}]})
    assert all(star.applies_to_route(target.removeprefix("route:")) for target in locked)


def test_an_expired_fault_is_ignored_though_still_stored(client, inject):
    inject(fault(kind="route_error", target="*", magnitude=500, expires_in=-1))
    assert client.http.get("/api/users").status_code == 200


def test_a_dynamodb_fault_raises_botocore_errors_that_open_the_database_breaker(client, inject, wired, records):
    user = create(client).json_body
    assert client.http.get(f"/api/users/{user['id']}").status_code == 200
    inject(fault(kind="dynamodb_error", target="database", magnitude=0))
    responses = [client.http.get(f"/api/users/{user['id']}") for _ in range(8)]
    assert wired.breakers.get("database").current_state == "open"
    assert all(r.status_code == 200 and r.headers.get("X-Data-Stale") == "true" for r in responses[-2:])
    assert any(record.get("chaos_experiment") == "exp-0001" for record in records)


def test_a_dynamodb_timeout_hangs_then_fails_as_a_read_timeout(inject, wired, tables):
    inject(fault(kind="dynamodb_timeout", target="database", magnitude=0.2, operations=("GetItem",)))
    started = time.monotonic()
    with pytest.raises(Exception, match='Read timeout on endpoint URL: "injected://dynamodb"'):
        wired.user_repository.get("0123456789abcdef0123456789abcdef")
    assert time.monotonic() - started >= 0.2


def test_a_webhook_failure_fault_fails_the_delivery_with_the_experiment_named(inject, wired, tables):
    from chalicelib.webhooks.events import WebhookEvent
    from chalicelib.webhooks.sender import WebhookFailed, WebhookSender

    sender = WebhookSender("https://hooks.example.com/in", lambda: "key", faults=wired.chaos_faults)
    inject(fault(kind="webhook_failure", target="webhook", magnitude=503))
    event = WebhookEvent(event_id="evt-1", event_type="user.created", body="{}")
    with pytest.raises(WebhookFailed, match="503 .*exp-0001"):
        sender.send(event)


def test_a_webhook_timeout_fault_waits_at_most_the_sender_timeout(inject, wired, tables):
    from chalicelib.webhooks.events import WebhookEvent
    from chalicelib.webhooks.sender import WebhookFailed, WebhookSender

    slept = []
    sender = WebhookSender("https://hooks.example.com/in", lambda: "key", timeout_seconds=2,
                           faults=wired.chaos_faults, sleep=slept.append)
    inject(fault(kind="webhook_timeout", target="webhook", magnitude=30))
    with pytest.raises(WebhookFailed, match="ReadTimeoutError"):
        sender.send(WebhookEvent(event_id="evt-1", event_type="user.created", body="{}"))
    assert slept == [2]


def test_a_webhook_fault_names_its_experiment_in_the_request_it_touched(inject, wired, tables):
    """Requests a webhook failure touched carried no chaos_experiment, unlike route and DynamoDB faults."""
    from chalicelib.observability.request_context import begin_request, record_chaos_experiment
    from chalicelib.webhooks.events import WebhookEvent
    from chalicelib.webhooks.sender import WebhookFailed, WebhookSender

    sender = WebhookSender("https://hooks.example.com/in", lambda: "key", faults=wired.chaos_faults,
                           on_inject=lambda injected: record_chaos_experiment(injected.experiment_id))
    inject(fault(kind="webhook_failure", target="webhook", magnitude=503))
    facts = begin_request()
    with pytest.raises(WebhookFailed):
        sender.send(WebhookEvent(event_id="evt-1", event_type="user.created", body="{}"))
    assert facts.chaos_experiment == "exp-0001"
