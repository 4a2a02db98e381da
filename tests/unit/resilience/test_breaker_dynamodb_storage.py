"""DynamoDB-specific storage behaviour: cache, atomic counters, conditional writes, storage outage."""
import pytest

from chalicelib.resilience import BreakerOpenError, FleetCircuitBreaker
from chalicelib.resilience.faults import Fault, FaultInjector, FaultSwitch
from chalicelib.resilience.storage import DynamoDBCircuitStorage
from .resilience_helpers import Boom, fail, succeed


@pytest.fixture
def make_storage(breakers_table, clock):
    def make(name="dep", **kwargs):
        kwargs.setdefault("cache_seconds", 2)
        kwargs.setdefault("retry_seconds", 5)
        return DynamoDBCircuitStorage(name, model=breakers_table, clock=clock, **kwargs)

    return make


@pytest.fixture
def table_fault(breakers_table):
    """Makes every call to the breakers table fail while active."""
    switch = FaultSwitch()
    FaultInjector(switch).attach_to_model(breakers_table)
    return switch


def breaker_on(storage, clock, fallback_events=None, **kwargs):
    kwargs.setdefault("fail_max", 2)
    return FleetCircuitBreaker("dep", state_storage=storage, clock=clock, reset_timeout=30,
                               announce=lambda *a: None, **kwargs)


def test_closed_breaker_reads_the_table_once_per_cache_period(make_storage, clock):
    storage = make_storage()
    breaker = breaker_on(storage, clock)
    for _ in range(100):
        breaker.call(succeed)
    clock.advance(2)
    for _ in range(100):
        breaker.call(succeed)
    assert storage.reads == 2


def test_failures_from_two_processes_add_up_atomically(make_storage):
    first, second = make_storage(cache_seconds=0), make_storage(cache_seconds=0)
    first.increment_counter()
    second.increment_counter()
    first.increment_counter()
    assert second.counter == 3


def test_trip_in_one_process_is_seen_by_another_after_its_cache_period(make_storage, clock):
    first, second = breaker_on(make_storage(), clock), breaker_on(make_storage(), clock)
    second.call(succeed)  # caches "closed"
    for _ in range(2):
        with pytest.raises(Boom):
            first.call(fail)
    clock.advance(2)
    with pytest.raises(BreakerOpenError):
        second.call(succeed)


def test_a_probe_that_closed_the_breaker_is_seen_by_another_process_well_within_its_cache_period(
        make_storage, clock):
    first, second = breaker_on(make_storage(), clock), breaker_on(make_storage(), clock, success_threshold=2)
    for _ in range(2):
        with pytest.raises(Boom):
            first.call(fail)
    clock.advance(30)
    assert second.call(succeed) == "ok"  # the probe's first success: still half-open, second's probe
    with pytest.raises(BreakerOpenError):
        first.call(succeed)  # keeps "half-open"
    assert second.call(succeed) == "ok"  # closed
    clock.advance(0.2)
    assert first.call(succeed) == "ok"


def test_a_closed_record_is_kept_for_the_whole_cache_period_and_a_half_open_one_briefly(make_storage, clock):
    storage = make_storage()
    storage.record()
    clock.advance(1.5)
    storage.record()
    assert storage.reads == 1
    assert storage.compare_and_set(storage.refresh().version, {"state": "half-open"})
    reads = storage.reads
    storage.record()
    clock.advance(0.2)
    storage.record()
    assert storage.reads == reads + 1


def test_transition_with_a_stale_version_is_refused(make_storage):
    first, second = make_storage(cache_seconds=0), make_storage(cache_seconds=0)
    seen = first.record()
    assert second.compare_and_set(seen.version, {"state": "open"})
    assert not first.compare_and_set(seen.version, {"state": "open", "opened_at": 1.0})


def test_only_one_of_two_processes_wins_the_probe_election(make_storage, clock):
    first, second = make_storage(), make_storage()
    breaker_a, breaker_b = breaker_on(first, clock), breaker_on(second, clock)
    for _ in range(2):
        with pytest.raises(Boom):
            breaker_a.call(fail)
    clock.advance(30)
    stale = second.record()
    assert stale.state == "open"
    assert breaker_a.call(succeed) == "ok"
    with pytest.raises(BreakerOpenError):
        breaker_b.call(succeed)


def test_unreachable_table_falls_back_to_in_process_state(make_storage, clock, table_fault):
    events = []
    storage = make_storage(on_fallback=lambda name, entered, exc: events.append(entered))
    breaker = breaker_on(storage, clock)
    table_fault.activate(Fault(service="dynamodb"))
    clock.advance(2)  # past the read cache
    assert breaker.call(succeed) == "ok"
    assert (storage.shared, events) == (False, [True])


def test_breaker_still_trips_on_in_process_state_while_the_table_is_down(make_storage, clock, table_fault):
    breaker = breaker_on(make_storage(), clock)
    table_fault.activate(Fault(service="dynamodb"))
    clock.advance(2)  # past the read cache
    for _ in range(2):
        with pytest.raises(Boom):
            breaker.call(fail)
    with pytest.raises(BreakerOpenError):
        breaker.call(succeed)


def test_table_is_not_retried_before_the_retry_period(make_storage, clock, table_fault):
    storage = make_storage()
    table_fault.activate(Fault(service="dynamodb"))
    clock.advance(2)  # past the read cache
    storage.record()
    attempts = storage.reads
    for _ in range(10):
        storage.record()
    clock.advance(4)
    storage.record()
    assert storage.reads == attempts


def test_shared_state_returns_when_the_table_answers_again(make_storage, clock, table_fault):
    events = []
    storage = make_storage(on_fallback=lambda name, entered, exc: events.append(entered))
    breaker = breaker_on(storage, clock)
    table_fault.activate(Fault(service="dynamodb"))
    clock.advance(2)  # past the read cache
    breaker.call(succeed)
    table_fault.clear()
    clock.advance(5)
    breaker.call(succeed)
    assert (storage.shared, events) == (True, [True, False])


def test_state_tripped_on_fallback_gives_way_to_shared_state_on_recovery(make_storage, clock, table_fault):
    storage = make_storage()
    breaker = breaker_on(storage, clock)
    table_fault.activate(Fault(service="dynamodb"))
    clock.advance(2)  # past the read cache
    for _ in range(2):
        with pytest.raises(Boom):
            breaker.call(fail)
    table_fault.clear()
    clock.advance(5)
    assert breaker.call(succeed) == "ok"
