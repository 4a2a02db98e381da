"""With users in DynamoDB, a new user's user.created entry is written in the user's own transaction."""
import boto3
import pytest

from chalicelib.http.errors import ServiceUnavailable
from chalicelib.webhooks.events import new_user_event
from tests.support.webhooks import SIGNING_KEY


@pytest.fixture
def webhooks_on(tables, monkeypatch, http):
    """The wiring with users in DynamoDB and webhooks sent to ``http``."""
    from chalicelib import wiring
    from chalicelib.webhooks.sender import WebhookSender

    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/users")
    monkeypatch.setenv("BREAKER_STORAGE", "memory")
    wired = wiring.current()
    wired.webhook_sender = WebhookSender("https://hooks.example.com/users", key_reader=lambda: SIGNING_KEY, http=http)
    return wired


def _outbox_items(tables):
    return boto3.client("dynamodb", region_name="us-east-1").scan(TableName=tables["webhook-outbox"])["Items"]


def test_the_dynamodb_store_writes_the_event_in_the_users_transaction(webhooks_on):
    assert webhooks_on.user_created_staging is not None
    assert webhooks_on.webhook_delivery._staged_by_store


def test_a_created_user_is_delivered_from_the_entry_its_transaction_stored(webhooks_on, http):
    user = webhooks_on.user_service.create({"name": "Ada", "email": "ada@example.com"})
    event = new_user_event(user)
    entry = webhooks_on.outbox.get(event.event_id)
    assert (entry.status, entry.attempts) == ("delivered", 1)
    assert [request["body"] for request in http.requests] == [event.body.encode()]


def test_a_failed_first_attempt_leaves_the_stored_entry_to_the_drainer(webhooks_on, http):
    http.down()
    user = webhooks_on.user_service.create({"name": "Ada", "email": "ada@example.com"})
    entry = webhooks_on.outbox.get(new_user_event(user).event_id)
    assert (entry.status, entry.attempts) == ("pending", 1)
    assert entry.event == new_user_event(user)


def test_a_create_refused_for_its_email_stores_no_event(webhooks_on, tables):
    webhooks_on.user_service.create({"name": "Ada", "email": "ada@example.com"})
    with pytest.raises(Exception, match="Email already exists"):
        webhooks_on.user_service.create({"name": "Ada again", "email": "ADA@example.com"})
    assert len(_outbox_items(tables)) == 1


def test_no_user_is_stored_when_its_event_cannot_be(webhooks_on, tables):
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=tables["webhook-outbox"])
    with pytest.raises(ServiceUnavailable):
        webhooks_on.user_service.create({"name": "Ada", "email": "ada@example.com"})
    assert webhooks_on.user_repository.list_page(10, None).users == []


def test_other_stores_write_the_event_after_the_user(tables, monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/users")
    monkeypatch.setenv("USERS_STORE", "memory")
    from chalicelib import wiring

    wired = wiring.current()
    assert wired.user_created_staging is None
    assert not wired.webhook_delivery._staged_by_store


def test_disabled_webhooks_stage_nothing(tables, wired):
    assert wired.user_created_staging is None
