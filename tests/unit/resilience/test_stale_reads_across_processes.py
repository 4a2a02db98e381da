"""Two API processes (their own breaker object, their own last-known-good cache) over one users
store, one fleet-wide breaker state and one write ledger (DynamoDB, moto): after process A
acknowledged a rename and the store stopped, process B never serves the name from before it."""
import pybreaker
import pytest

from chalicelib.http.errors import ServiceUnavailable
from chalicelib.resilience import DatabaseGuard, FleetCircuitBreaker, LastKnownGood
from chalicelib.resilience.write_ledger import DynamoDBWriteLedger
from chalicelib.users.memory import InMemoryUserRepository
from chalicelib.users.repository import StorageUnavailable
from chalicelib.users.service import LIST_KEY_PREFIX, UserService

from .resilience_helpers import create_breakers_table


class StoppableStore:
    """The shared users store, which can be stopped (PostgreSQL shut down)."""

    def __init__(self) -> None:
        self.repository = InMemoryUserRepository()
        self.stopped = False

    def __getattr__(self, name):
        call = getattr(self.repository, name)

        def through(*args, **kwargs):
            if self.stopped:
                raise StorageUnavailable("connection refused")
            return call(*args, **kwargs)

        return through


@pytest.fixture
def ledger(aws_mock):
    import boto3

    create_breakers_table()
    return DynamoDBWriteLedger("serverless-sre-breakers", keep_seconds=420,
                               boto3_client=boto3.client("dynamodb", region_name="us-east-1"))


def api_process(store, breaker_state, clock, ledger):
    breaker = FleetCircuitBreaker("database", fail_max=2, reset_timeout=30, clock=clock,
                                  state_storage=breaker_state, announce=lambda *a: None)
    guard = DatabaseGuard(breaker, LastKnownGood(clock=clock), ledger=ledger, cache_prefixes=[LIST_KEY_PREFIX],
                          write_within_seconds=5.0)
    return UserService(store, guard=guard)


def test_a_rename_acknowledged_by_one_process_is_never_served_stale_by_another(clock, ledger):
    store, breaker_state = StoppableStore(), pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    worker_a = api_process(store, breaker_state, clock, ledger)
    worker_b = api_process(store, breaker_state, clock, ledger)
    user = worker_a.create({"name": "Ada", "email": "ada@example.com"})
    clock.advance(60)
    assert worker_b.get(user.id).name == "Ada"  # B remembers Ada
    assert [u.name for u in worker_b.list_page().users] == ["Ada"]
    clock.advance(60)
    assert worker_a.update(user.id, {"name": "Ada Lovelace", "email": "ada@example.com"}).name == "Ada Lovelace"
    store.stopped = True

    answers = []
    for _ in range(60):
        for read in (lambda: worker_b.get(user.id).name, lambda: [u.name for u in worker_b.list_page().users]):
            try:
                answers.append(read())
            except ServiceUnavailable:
                answers.append(503)
    assert set(map(str, answers)) == {"503"}


def test_another_users_value_is_still_served_stale_by_the_other_process(clock, ledger):
    store, breaker_state = StoppableStore(), pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    worker_a = api_process(store, breaker_state, clock, ledger)
    worker_b = api_process(store, breaker_state, clock, ledger)
    ada = worker_a.create({"name": "Ada", "email": "ada@example.com"})
    grace = worker_a.create({"name": "Grace", "email": "grace@example.com"})
    clock.advance(60)
    assert worker_b.get(grace.id).name == "Grace"
    worker_a.update(ada.id, {"name": "Ada Lovelace", "email": "ada@example.com"})
    store.stopped = True
    assert worker_b.get(grace.id).name == "Grace"
