"""The PostgreSQL store keeps a new user's event with it (``event_outbox``) until it is handed on."""
import threading

import psycopg
import pytest

from chalicelib.users.postgres import PostgresUserRepository
from chalicelib.users.repository import EmailTaken
from chalicelib.users.validation import UserInput
from chalicelib.webhooks.events import new_user_event


@pytest.fixture
def store(postgres_dsn):
    store = PostgresUserRepository(lambda: psycopg.connect(postgres_dsn, autocommit=True),
                                   created_event=new_user_event)
    store.ensure_schema()
    with psycopg.connect(postgres_dsn) as connection:
        connection.execute("TRUNCATE users, event_outbox")
    return store


def _stored_events(dsn) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as connection:
        return connection.execute("SELECT event_id::text, body FROM event_outbox ORDER BY stored_at").fetchall()


def _ada(email="ada@example.com") -> UserInput:
    return UserInput(name="Ada", email=email)


def test_a_new_user_and_its_event_are_stored_together(store, postgres_dsn):
    user = store.create(_ada())
    event = new_user_event(user)
    assert _stored_events(postgres_dsn) == [(event.event_id, event.body)]


def test_a_create_refused_for_its_email_stores_no_event(store, postgres_dsn):
    store.create(_ada())
    with pytest.raises(EmailTaken):
        store.create(_ada("ADA@example.com"))
    assert len(_stored_events(postgres_dsn)) == 1


def test_forgetting_an_event_deletes_its_stored_copy(store, postgres_dsn):
    user = store.create(_ada())
    store.forget_event(new_user_event(user).event_id)
    assert _stored_events(postgres_dsn) == []


def test_the_relay_hands_on_each_settled_event_once_and_deletes_it(store, postgres_dsn):
    users = [store.create(_ada(f"ada{number}@example.com")) for number in range(3)]
    handed = []
    relay = lambda: store.relay_events(lambda *event: handed.append(event), settled_seconds=0,  # noqa: E731
                                       lease_seconds=60, limit=10)
    assert relay() == 3
    assert relay() == 0
    assert [event_id for event_id, _, _ in handed] == [new_user_event(user).event_id for user in users]
    assert {event_type for _, event_type, _ in handed} == {"user.created"}
    assert _stored_events(postgres_dsn) == []


def test_the_relay_leaves_events_younger_than_settled(store, postgres_dsn):
    store.create(_ada())
    assert store.relay_events(lambda *event: None, settled_seconds=60, lease_seconds=60, limit=10) == 0
    assert len(_stored_events(postgres_dsn)) == 1


def test_an_event_the_relay_fails_to_hand_on_stays_for_a_later_relay(store, postgres_dsn):
    store.create(_ada("a@example.com"))
    second = store.create(_ada("b@example.com"))

    def fail_second(event_id, event_type, body):
        if event_id == new_user_event(second).event_id:
            raise ConnectionError("outbox unreachable")

    with pytest.raises(ConnectionError):
        store.relay_events(fail_second, settled_seconds=0, lease_seconds=0, limit=10)
    assert [event_id for event_id, _ in _stored_events(postgres_dsn)] == [new_user_event(second).event_id]
    assert store.relay_events(lambda *event: None, settled_seconds=0, lease_seconds=60, limit=10) == 1


def test_an_event_claimed_by_one_relay_is_skipped_by_another_until_its_lease_ends(store, postgres_dsn):
    store.create(_ada())
    seen_by_other = []

    def hand_on_while_another_relays(*event):
        other = threading.Thread(target=lambda: seen_by_other.append(store.relay_events(
            lambda *other_event: None, settled_seconds=0, lease_seconds=60, limit=10)))
        other.start()
        other.join()

    assert store.relay_events(hand_on_while_another_relays, settled_seconds=0, lease_seconds=60, limit=10) == 1
    assert seen_by_other == [0]
