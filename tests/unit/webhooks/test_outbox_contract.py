"""One contract for the webhook outbox port, run against the DynamoDB outbox and the in-memory one."""
import pytest

from chalicelib.webhooks.outbox import DEAD, DELIVERED, PENDING, Backoff, Outbox
from tests.support.webhooks import InMemoryOutbox, user_created


@pytest.fixture(params=["memory", "dynamodb"])
def outbox(request, clock):
    backoff = Backoff(base_seconds=30, max_seconds=3600, rand=lambda: 1.0)
    if request.param == "memory":
        return InMemoryOutbox(backoff=backoff, clock=clock, max_attempts=3)
    request.getfixturevalue("tables")
    wired = request.getfixturevalue("wired")
    return Outbox(wired.outbox.model, backoff=backoff, clock=clock, max_attempts=3)


def event(user_id="u-1"):
    return user_created(user_id)


def test_an_event_is_stored_once_per_idempotency_key(outbox):
    assert outbox.enqueue(event()).status == PENDING
    assert outbox.enqueue(event()) is None


def test_a_claimed_enqueue_is_attempt_one_and_not_due_until_its_backoff(outbox, clock):
    entry = outbox.enqueue(event(), claimed=True)
    assert entry.attempts == 1 and outbox.due(10) == []
    clock.advance(30)
    assert [due.event.event_id for due in outbox.due(10)] == [entry.event.event_id]


def test_all_pending_ignores_the_backoff(outbox):
    outbox.enqueue(event(), claimed=True)
    assert len(outbox.due(10, all_pending=True)) == 1


def test_one_claim_wins(outbox):
    entry = outbox.enqueue(event())
    claimed = outbox.claim(entry)
    assert claimed.attempts == 1
    assert outbox.claim(entry) is None


def test_release_gives_the_attempt_back(outbox, clock):
    claimed = outbox.claim(outbox.enqueue(event()))
    outbox.release(claimed, 60)
    entry = outbox.get(claimed.event.event_id)
    assert entry.attempts == 0 and entry.next_attempt_at == clock() + 60


def test_delivered_entries_are_not_due(outbox):
    entry = outbox.enqueue(event())
    outbox.mark_delivered(entry.event.event_id)
    assert outbox.get(entry.event.event_id).status == DELIVERED and outbox.due(10, all_pending=True) == []


def test_failures_are_noted_and_give_up_after_max_attempts(outbox, clock):
    entry = outbox.enqueue(event())
    for attempt in range(1, 4):
        clock.advance(3600)
        entry = outbox.claim(outbox.get(entry.event.event_id))
        status = outbox.record_failure(entry, f"attempt {attempt} failed")
    stored = outbox.get(entry.event.event_id)
    assert (status, stored.status, stored.last_error) == (DEAD, DEAD, "attempt 3 failed")
    assert outbox.due(10, all_pending=True) == []


def test_due_is_oldest_first_and_limited(outbox, clock):
    for index in range(3):
        outbox.enqueue(event(f"u-{index}"))
        clock.advance(1)
    due = outbox.due(2)
    assert [entry.event.event_id for entry in due] == [event("u-0").event_id, event("u-1").event_id]


def test_finished_entries_expire_after_the_kept_time(tables, wired, clock):
    outbox = Outbox(wired.outbox.model, clock=clock, keep_finished_seconds=600)
    entry = outbox.enqueue(event())
    outbox.mark_delivered(entry.event.event_id)
    assert wired.outbox.model.get(entry.event.event_id).expires_at == int(clock()) + 600
