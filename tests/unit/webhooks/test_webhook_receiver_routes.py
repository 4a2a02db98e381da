import json

import boto3
import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.webhooks.events import user_created_event
from chalicelib.webhooks.signing import signed_headers


@pytest.fixture
def signing_key(tables):
    from devstack.provision import provision_secrets

    return provision_secrets(boto3.client("secretsmanager", region_name="us-east-1"))["webhook-signing-key"]


@pytest.fixture(scope="module")
def app():
    """Built once: a Chalice blueprint is bound to the last app it was registered on."""
    from chalicelib.observability.middleware import http_middleware
    from chalicelib.webhooks.routes import blueprint

    app = Chalice(app_name="receiver-test")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(blueprint)
    return app


@pytest.fixture
def client(app, signing_key):
    with Client(app) as test_client:
        yield test_client


def post_event(client, key, user_id="u-1", timestamp=None):
    import time

    event = user_created_event({"id": user_id}, 1_800_000_000)
    headers = {"Content-Type": "application/json", "Idempotency-Key": event.event_id,
               **signed_headers(key, int(timestamp or time.time()), event.body.encode())}
    return client.http.post("/_local/webhook-receiver", headers=headers, body=event.body)


def test_signed_event_is_stored_and_listed(client, signing_key):
    assert post_event(client, signing_key).status_code == 200
    listing = client.http.get("/_local/webhook-receiver").json_body
    assert (listing["deliveries"], listing["events"][0]["type"]) == (1, "user.created")


def test_badly_signed_event_is_refused_with_401(client):
    response = post_event(client, "not-the-key")
    assert response.status_code == 401 and "Signature" in response.json_body["error"]


def test_redelivery_is_flagged_as_duplicate(client, signing_key):
    post_event(client, signing_key)
    assert post_event(client, signing_key).json_body["duplicate"] is True


def test_outage_switch_makes_the_receiver_answer_503(client, signing_key):
    client.http.put("/_local/webhook-receiver/outage", headers={"Content-Type": "application/json"},
                    body=json.dumps({"enabled": True}))
    assert post_event(client, signing_key).status_code == 503


def test_outage_switch_rejects_a_non_boolean(client):
    response = client.http.put("/_local/webhook-receiver/outage", headers={"Content-Type": "application/json"},
                               body=json.dumps({"enabled": "yes"}))
    assert response.status_code == 400


def test_signed_webhook_from_the_real_sender_verifies(signing_key, monkeypatch):
    from chalicelib.webhooks.receiver import WebhookReceiver
    from chalicelib.webhooks.sender import WebhookSender
    from .webhook_helpers import FakeHttp

    http = FakeHttp()
    sender = WebhookSender(url="https://hooks.example.com", http=http)
    sender.send(user_created_event({"id": "u-9"}, 1_800_000_000))
    sent = http.requests[0]
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert WebhookReceiver().receive(headers, sent["body"])["duplicate"] is False
