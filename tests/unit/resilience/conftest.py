import pybreaker
import pytest

from chalicelib import resilience
from tests.support.clocks import EpochClock

from .resilience_helpers import ClientMistake, create_breakers_table


@pytest.fixture
def clock():
    return EpochClock()


@pytest.fixture
def transitions():
    """Transitions announced by breakers built with ``announce=transitions.append``."""
    seen = []

    def record(name, old, new, details):
        seen.append((name, old, new, details))

    record.seen = seen
    return record


@pytest.fixture
def breakers_table(aws_mock):
    from chalicelib.resilience.storage import breaker_model

    create_breakers_table()
    return breaker_model("serverless-sre-breakers", "us-east-1", 1)


@pytest.fixture(params=["memory", "dynamodb"])
def storage_factory(request, clock):
    """Builds storages of one kind that share state per breaker name (DynamoDB: one moto table)."""
    if request.param == "memory":
        shared = {}

        def make(name="dep", **kwargs):
            return shared.setdefault(name, pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED))

        make.kind = "memory"
        yield make
        return
    breakers_table = request.getfixturevalue("breakers_table")
    from chalicelib.resilience.storage import DynamoDBCircuitStorage

    def make(name="dep", **kwargs):
        kwargs.setdefault("cache_seconds", 0)
        return DynamoDBCircuitStorage(name, model=breakers_table, clock=clock, **kwargs)

    make.kind = "dynamodb"
    yield make


@pytest.fixture
def make_breaker(storage_factory, clock, transitions):
    def make(name="dep", storage=None, **kwargs):
        kwargs.setdefault("fail_max", 3)
        kwargs.setdefault("reset_timeout", 30)
        kwargs.setdefault("success_threshold", 2)
        kwargs.setdefault("exclude", [ClientMistake])
        return resilience.FleetCircuitBreaker(name, state_storage=storage or storage_factory(name), clock=clock,
                                              announce=transitions, **kwargs)

    return make
