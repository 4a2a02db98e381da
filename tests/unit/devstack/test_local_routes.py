"""The local stack's own routes: the webhook receiver and the DynamoDB fault switch."""
import json
import time

import boto3
import pytest
from chalice.test import Client

from chalicelib.webhooks.signing import signed_headers
from tests.support.webhooks import FakeHttp, user_created


@pytest.fixture
def provisioned(aws_mock):
    from devstack.provision import provision_secrets, provision_tables

    provision_tables(boto3.client("dynamodb", region_name="us-east-1"))
    return provision_secrets(boto3.client("secretsmanager", region_name="us-east-1"))


@pytest.fixture
def signing_key(provisioned):
    return provisioned["webhook-signing-key"]


@pytest.fixture
def operator(provisioned):
    return {"Authorization": f"Bearer {provisioned['operator-token']}", "Content-Type": "application/json"}


@pytest.fixture
def local_app():
    """An app with the local routes, like the one the local stack serves."""
    from chalice import Chalice

    from chalicelib import wiring
    from chalicelib.observability.middleware import http_middleware
    from devstack.local_routes import register_local_routes

    app = Chalice(app_name="local-routes-test")
    app.register_middleware(http_middleware, "http")
    register_local_routes(app, wiring.current)
    return app


@pytest.fixture
def client(local_app, provisioned):
    with Client(local_app) as test_client:
        yield test_client


@pytest.fixture
def emitted():
    from chalicelib.observability import metrics

    records = []
    metrics.add_record_listener(records.append)
    yield records
    metrics.remove_record_listener(records.append)


def post_event(client, key, user_id="u-1", timestamp=None):
    import time

    event = user_created(user_id)
    headers = {"Content-Type": "application/json", "Idempotency-Key": event.event_id,
               **signed_headers(key, int(timestamp or time.time()), event.body.encode())}
    return client.http.post("/_local/webhook-receiver", headers=headers, body=event.body)


def test_signed_event_is_stored_and_listed(client, signing_key, operator):
    assert post_event(client, signing_key).status_code == 200
    listing = client.http.get("/_local/webhook-receiver", headers=operator).json_body
    assert (listing["deliveries"], listing["events"][0]["type"]) == (1, "user.created")


def test_listing_what_arrived_needs_the_operator_token(client, signing_key):
    post_event(client, signing_key)
    assert client.http.get("/_local/webhook-receiver").status_code == 401
    assert client.http.delete("/_local/webhook-receiver").status_code == 401


def test_badly_signed_event_is_refused_with_401(client):
    response = post_event(client, "not-the-key")
    assert response.status_code == 401 and "Signature" in response.json_body["error"]


def test_redelivery_is_flagged_as_duplicate(client, signing_key):
    post_event(client, signing_key)
    assert post_event(client, signing_key).json_body["duplicate"] is True


def test_outage_switch_makes_the_receiver_answer_503(client, signing_key, operator):
    client.http.put("/_local/webhook-receiver/outage", headers=operator, body=json.dumps({"enabled": True}))
    assert post_event(client, signing_key).status_code == 503


def test_the_simulated_outage_is_not_counted_against_the_api_slo(client, signing_key, operator, emitted):
    client.http.put("/_local/webhook-receiver/outage", headers=operator, body=json.dumps({"enabled": True}))
    emitted.clear()
    assert post_event(client, signing_key).status_code == 503
    record = emitted[-1]
    assert (record["requests"], record["valid_requests"], record["server_errors"]) == ([1.0], [0.0], [0.0])


def test_switching_the_outage_needs_the_operator_token(client):
    response = client.http.put("/_local/webhook-receiver/outage", headers={"Content-Type": "application/json"},
                               body=json.dumps({"enabled": True}))
    assert response.status_code == 401


def test_outage_switch_rejects_a_non_boolean(client, operator):
    response = client.http.put("/_local/webhook-receiver/outage", headers=operator,
                               body=json.dumps({"enabled": "yes"}))
    assert response.status_code == 400


def test_the_dynamodb_fault_switch_needs_the_operator_token(client, operator):
    assert client.http.get("/_local/faults/dynamodb").status_code == 401
    assert client.http.get("/_local/faults/dynamodb", headers=operator).json_body == {"faults": []}


def test_a_dynamodb_fault_makes_the_users_store_fail_below_the_breaker(client, operator, wired):
    from chalicelib.users.repository import StorageUnavailable

    response = client.http.put("/_local/faults/dynamodb", headers=operator,
                               body=json.dumps({"operations": ["GetItem"], "error_code": "InternalServerError"}))
    assert response.status_code == 200 and response.json_body["faults"][0]["operations"] == ["GetItem"]
    with pytest.raises(StorageUnavailable):
        wired.user_repository.get("0" * 26)
    client.http.delete("/_local/faults/dynamodb", headers=operator)
    assert wired.user_repository.get("0" * 26) is None


def test_a_delay_alone_makes_the_users_store_slow_but_answering(client, operator, wired):
    response = client.http.put("/_local/faults/dynamodb", headers=operator,
                               body=json.dumps({"operations": ["GetItem"], "delay_seconds": 0.2}))
    assert response.status_code == 200, response.body
    assert response.json_body["faults"][0]["error_code"] == ""
    started = time.monotonic()
    assert wired.user_repository.get("0" * 26) is None
    assert time.monotonic() - started >= 0.2
    client.http.delete("/_local/faults/dynamodb", headers=operator)


def test_switching_a_local_fault_is_audited_under_the_operators_name(client, operator, capsys):
    capsys.readouterr()
    client.http.put("/_local/webhook-receiver/outage", headers=operator, body=json.dumps({"enabled": True}))
    client.http.put("/_local/faults/dynamodb", headers=operator,
                    body=json.dumps({"operations": ["GetItem"], "error_code": "InternalServerError"}))
    client.http.delete("/_local/faults/dynamodb", headers={"Authorization": "Bearer wrong"})
    audits = [json.loads(line)["audit"] for line in capsys.readouterr().out.splitlines()
              if line.startswith("{") and '"message":"audit"' in line]
    assert audits == [
        {"who": "local-operator", "action": "local-webhook-receiver.outage", "target": "webhook-receiver",
         "outcome": "done"},
        {"who": "local-operator", "action": "local-fault.activate", "target": "dynamodb", "outcome": "done"},
        {"who": "unauthenticated", "action": "local-fault.clear", "target": "dynamodb",
         "outcome": "refused 403: Operator token is not valid"},
    ]


def test_signed_webhook_from_the_real_sender_verifies(signing_key):
    from chalicelib.webhooks.sender import WebhookSender
    from devstack.webhook_receiver import WebhookReceiver

    http = FakeHttp()
    sender = WebhookSender(url="https://hooks.example.com", key_reader=lambda: signing_key, http=http)
    sender.send(user_created("u-9"))
    sent = http.requests[0]
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert WebhookReceiver(lambda: signing_key).receive(headers, sent["body"])["duplicate"] is False


def test_the_app_the_lambda_runs_has_no_local_route():
    from app import app

    assert not [path for path in app.routes if path.startswith("/_local")]


@pytest.fixture
def receiver_client(provisioned):
    """The receiver as the ECS variant's local stack serves it: an app of its own."""
    from chalicelib import wiring
    from devstack.local_routes import receiver_app

    with Client(receiver_app(wiring.current)) as test_client:
        yield test_client


def test_the_receiver_app_of_the_ecs_variant_verifies_and_lists_what_arrived(receiver_client, signing_key, operator):
    assert post_event(receiver_client, signing_key).status_code == 200
    assert post_event(receiver_client, "not-the-key").status_code == 401
    assert receiver_client.http.get("/_local/webhook-receiver", headers=operator).json_body["deliveries"] == 1


def test_the_receiver_app_serves_the_receiver_alone(aws_mock):
    from chalicelib import wiring
    from devstack.local_routes import receiver_app

    assert set(receiver_app(wiring.current).routes) == {"/_local/webhook-receiver", "/_local/webhook-receiver/outage"}


def _signed_delivery(signing_key, user_id):
    from chalicelib.webhooks.sender import WebhookSender

    http = FakeHttp()
    WebhookSender(url="https://hooks.example.com", key_reader=lambda: signing_key, http=http).send(user_created(user_id))
    sent = http.requests[0]
    return {k.lower(): v for k, v in sent["headers"].items()}, sent["body"]


def test_an_event_redelivered_after_it_left_the_kept_deliveries_is_not_flagged_duplicate(signing_key, monkeypatch):
    from devstack import webhook_receiver

    monkeypatch.setattr(webhook_receiver, "MAX_KEPT", 2)
    receiver = webhook_receiver.WebhookReceiver(lambda: signing_key)
    first, second, third = (_signed_delivery(signing_key, f"u-{n}") for n in range(3))
    assert [receiver.receive(*d)["duplicate"] for d in (first, first, second)] == [False, True, False]
    assert receiver.receive(*third)["duplicate"] is False  # both deliveries of u-0 are gone now
    assert receiver.receive(*first)["duplicate"] is False
    assert receiver.receive(*third)["duplicate"] is True


def test_a_cleared_receiver_flags_no_earlier_event_duplicate(signing_key):
    from devstack.webhook_receiver import WebhookReceiver

    receiver, delivery = WebhookReceiver(lambda: signing_key), _signed_delivery(signing_key, "u-1")
    receiver.receive(*delivery)
    receiver.clear()
    assert receiver.receive(*delivery)["duplicate"] is False


@pytest.mark.parametrize("field, raw", [
    ("error_code", "[]"), ("error_code", "{}"), ("error_code", "5"), ("error_code", "true"), ("error_code", "null"),
    ("operations", '"GetItem"'), ("operations", '[["GetItem"]]'), ("operations", "[{}]"), ("operations", '{"GetItem": 1}'),
    ("delay_seconds", "true"), ("delay_seconds", '"1"'), ("delay_seconds", "[]"), ("delay_seconds", "1e308"),
    ("hang_seconds", "false"), ("hang_seconds", "{}"), ("hang_seconds", "-1"), ("hang_seconds", "31"),
    ("expires_in_seconds", "true"), ("expires_in_seconds", "[]"), ("expires_in_seconds", "0"),
    ("expires_in_seconds", "1e20"), ("expires_in_seconds", "99999999999999999999"),
])
def test_a_dynamodb_fault_field_of_the_wrong_type_or_range_is_a_400_naming_it(client, operator, field, raw):
    response = client.http.put("/_local/faults/dynamodb", headers=operator, body=f'{{"{field}": {raw}}}')
    assert response.status_code == 400, response.body
    assert list(response.json_body["details"]) == [field] and response.json_body["details"][field][0]
    assert client.http.get("/_local/faults/dynamodb", headers=operator).json_body == {"faults": []}


@pytest.mark.parametrize("raw", ["NaN", "-Infinity", "1" + "0" * 400])
def test_a_dynamodb_fault_number_json_cannot_hold_is_a_400(client, operator, raw):
    response = client.http.put("/_local/faults/dynamodb", headers=operator, body=f'{{"delay_seconds": {raw}}}')
    assert response.status_code == 400 and "JSON number" in response.json_body["error"]
    assert client.http.get("/_local/faults/dynamodb", headers=operator).json_body == {"faults": []}
