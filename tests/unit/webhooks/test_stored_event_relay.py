"""The relay of the webhook events a users store kept with their users, against fakes."""
import threading

from chalicelib.webhooks.relay import RelayLoop, StoredEventRelay
from tests.support.webhooks import InMemoryOutbox, user_created


class KeptEvents:
    """A store's kept events, handed on ``limit`` at a time as ``relay_events`` does."""

    def __init__(self, events):
        self.events = list(events)
        self.calls = 0

    def relay_events(self, hand_on, *, settled_seconds, lease_seconds, limit):
        self.calls += 1
        batch, self.events = self.events[:limit], self.events[limit:]
        for event in batch:
            hand_on(event.event_id, event.event_type, event.body)
        return len(batch)


class Log:
    def __init__(self):
        self.warnings = []

    def warning(self, message, extra=None):
        self.warnings.append((message, extra))


def test_a_relay_round_hands_on_batches_until_none_is_left(clock):
    events = [user_created(f"u-{number}") for number in range(5)]
    store, outbox = KeptEvents(events), InMemoryOutbox(clock=clock)
    assert StoredEventRelay(store, outbox, Log(), batch_size=2).relay_once() == 5
    assert store.calls == 3
    assert [outbox.get(event.event_id).event for event in events] == events


def test_an_event_handed_on_twice_is_one_outbox_entry(clock):
    store, outbox = KeptEvents([user_created("u-1")]), InMemoryOutbox(clock=clock)
    relay = StoredEventRelay(store, outbox, Log())
    relay.relay_once()
    store.events = [user_created("u-1")]  # kept again: its deletion failed after the hand-on
    relay.relay_once()
    assert len(outbox.due(10, all_pending=True)) == 1


def test_a_failing_round_is_logged_and_the_next_round_runs():
    log, rounds = Log(), []
    second_round = threading.Event()

    def relay():
        rounds.append(1)
        if len(rounds) == 1:
            raise ConnectionError("database unreachable")
        second_round.set()
        return StoredEventRelay(KeptEvents([]), None, log)

    loop = RelayLoop(relay, log, interval_seconds=0.01)
    loop.start()
    assert second_round.wait(5)
    loop.stop()
    assert log.warnings[0] == ("Webhook event relay failed; retrying next round",
                               {"error": "ConnectionError", "retry_in_seconds": 0.01})


def test_a_stopped_loop_runs_no_more_rounds():
    rounds = []
    loop = RelayLoop(lambda: rounds.append(1) or StoredEventRelay(KeptEvents([]), None, Log()), Log(),
                     interval_seconds=0.01)
    loop.start()
    loop.stop()
    after_stop = len(rounds)
    threading.Event().wait(0.05)
    assert len(rounds) == after_stop
