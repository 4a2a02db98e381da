import pybreaker
import pytest

from chalicelib.resilience import FleetCircuitBreaker
from chalicelib.webhooks import delivery, sender
from chalicelib.webhooks.outbox import Backoff, Outbox
from tests.support.clocks import EpochClock
from tests.support.webhooks import SIGNING_KEY, FakeHttp


@pytest.fixture
def clock():
    return EpochClock()


@pytest.fixture
def outbox(tables, clock, wired):
    return Outbox(wired.outbox.model, clock=clock, backoff=Backoff(base_seconds=30, max_seconds=3600,
                                                                   rand=lambda: 1.0), max_attempts=4)


@pytest.fixture
def http():
    return FakeHttp()


@pytest.fixture
def webhook_breaker(clock):
    return FleetCircuitBreaker("webhook", fail_max=2, reset_timeout=60, clock=clock, announce=lambda *a: None,
                               state_storage=pybreaker.CircuitMemoryStorage("closed"))


@pytest.fixture
def make_delivery(outbox, http, webhook_breaker, clock, wired):
    def make(url="https://hooks.example.com/users", **options):
        return delivery.WebhookDelivery(
            outbox=outbox, breaker=webhook_breaker, clock=clock, counters=wired.counters, logger=wired.logger,
            sender=sender.WebhookSender(url=url, key_reader=lambda: SIGNING_KEY, timeout_seconds=1, http=http,
                                        clock=clock), **options)

    return make
