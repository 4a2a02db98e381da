import json

import pytest

from chalicelib.webhooks.events import user_created_event
from chalicelib.webhooks.sender import WebhookNotConfigured, WebhookSender
from chalicelib.webhooks.signing import verify

from tests.support.webhooks import SIGNING_KEY

USER = {"id": "5b0c1a8e-0000-4000-8000-000000000001", "name": "Ada", "email": "ada@example.com",
        "created_at": "2027-01-01T00:00:00.000000Z"}


def test_a_user_always_makes_the_same_event_bytes():
    assert user_created_event(USER) == user_created_event(dict(USER))


def test_the_event_occurred_when_the_user_was_created():
    assert json.loads(user_created_event(USER).body)["occurred_at"] == USER["created_at"]


def test_successful_direct_send_marks_the_event_delivered(make_delivery, outbox):
    event_id = make_delivery().notify_user_created(USER)
    assert outbox.get(event_id).status == "delivered"


def test_sent_request_is_signed_and_carries_the_idempotency_key(make_delivery, http, clock):
    event_id = make_delivery().notify_user_created(USER)
    sent = http.requests[0]
    assert sent["headers"]["Idempotency-Key"] == event_id
    assert verify(SIGNING_KEY, sent["headers"], sent["body"], clock()) is None
    assert json.loads(sent["body"])["data"] == USER


def test_failed_direct_send_leaves_the_event_pending_and_never_raises(make_delivery, outbox, http):
    http.down()
    event_id = make_delivery().notify_user_created(USER)
    entry = outbox.get(event_id)
    assert (entry.status, entry.attempts) == ("pending", 1)


def test_disabled_webhook_sends_and_stores_nothing(make_delivery, http):
    assert make_delivery(url="").notify_user_created(USER) is None
    assert http.requests == []


def test_non_https_url_is_refused_outside_local_mode():
    with pytest.raises(WebhookNotConfigured):
        WebhookSender(url="http://hooks.example.com", key_reader=lambda: "k")


def test_unreachable_outbox_still_tries_the_direct_send(make_delivery, http, tables):
    import boto3

    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=tables["webhook-outbox"])
    assert make_delivery().notify_user_created(USER) is not None
    assert len(http.requests) == 1


def test_drainer_delivers_pending_events_after_their_backoff(make_delivery, outbox, http, clock):
    service = make_delivery()
    http.down()
    event_id = service.notify_user_created(USER)
    http.up()
    assert service.drain()["due"] == 0
    clock.advance(30)
    assert service.drain()["delivered"] == 1
    assert outbox.get(event_id).status == "delivered"


def test_each_failed_attempt_doubles_the_backoff(make_delivery, outbox, http, clock):
    service = make_delivery()
    http.down()
    event_id = service.notify_user_created(USER)
    service.breaker.reset_timeout = 0.001  # keep the breaker out of this test
    clock.advance(30)
    service.breaker.close()
    service.drain()
    assert outbox.get(event_id).next_attempt_at == clock() + 60


def test_event_is_dead_after_max_attempts(make_delivery, outbox, http, clock):
    service = make_delivery()
    service.breaker.fail_max = 100
    http.down()
    event_id = service.notify_user_created(USER)
    for _ in range(3):
        clock.advance(3600)
        service.drain()
    assert outbox.get(event_id).status == "dead"


def test_open_breaker_sends_nothing_and_keeps_the_attempt_count(make_delivery, outbox, http, clock):
    service = make_delivery()
    service.breaker.open()
    event_id = service.notify_user_created(USER)
    assert http.requests == []
    assert outbox.get(event_id).attempts == 0


def test_drainer_stops_at_an_open_breaker(make_delivery, outbox, http, clock):
    service = make_delivery()
    http.down()
    for n in range(4):
        service.notify_user_created({**USER, "id": f"user-{n}"})  # two failures trip the breaker
    http.up()
    clock.advance(30)
    counts = service.drain()
    assert (counts["refused"], counts["delivered"]) == (1, 0)


def test_all_events_are_delivered_once_the_endpoint_and_breaker_recover(make_delivery, outbox, http, clock):
    service = make_delivery()
    http.down()
    ids = [service.notify_user_created({**USER, "id": f"user-{n}"}) for n in range(5)]
    http.up()
    clock.advance(60)
    service.drain(all_pending=True)
    service.drain(all_pending=True)
    assert {outbox.get(event_id).status for event_id in ids} == {"delivered"}


def test_notifying_twice_for_one_user_queues_one_event(make_delivery, http, outbox):
    service = make_delivery()
    http.down()
    first = service.notify_user_created(USER)
    second = service.notify_user_created(USER)
    assert first == second and len(http.requests) == 1


# Kept: the users store (PostgreSQL) keeps each event with its user until ``forget_kept`` deletes it.
@pytest.fixture
def kept():
    return set()


@pytest.fixture
def kept_delivery(make_delivery, kept):
    kept.add(user_created_event(USER).event_id)
    return make_delivery(forget_kept=kept.remove)


def test_a_kept_event_delivered_directly_is_forgotten_and_never_queued(kept_delivery, kept, outbox, http):
    event_id = kept_delivery.notify_user_created(USER)
    assert len(http.requests) == 1
    assert (outbox.get(event_id), kept) == (None, set())


def test_a_kept_event_not_delivered_is_queued_as_attempt_one_then_forgotten(kept_delivery, kept, outbox, http):
    http.down()
    event_id = kept_delivery.notify_user_created(USER)
    entry = outbox.get(event_id)
    assert (entry.status, entry.attempts, kept) == ("pending", 1, set())
    assert entry.last_error


def test_a_kept_event_refused_by_the_open_breaker_is_queued_unattempted_then_forgotten(kept_delivery, kept, outbox,
                                                                                        http):
    kept_delivery.breaker.open()
    event_id = kept_delivery.notify_user_created(USER)
    assert (http.requests, outbox.get(event_id).attempts, kept) == ([], 0, set())


def test_a_kept_event_neither_delivered_nor_queued_stays_kept(kept_delivery, kept, http, tables):
    import boto3

    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=tables["webhook-outbox"])
    http.down()
    event_id = kept_delivery.notify_user_created(USER)
    assert kept == {event_id}
