"""The same behaviours against pybreaker's CircuitMemoryStorage and the DynamoDB storage."""
import pybreaker
import pytest

from chalicelib.resilience import BreakerOpenError

from .resilience_helpers import Boom, ClientMistake, fail, succeed


def trip(breaker, times=None):
    for _ in range(times or breaker.fail_max):
        with pytest.raises(Boom):
            breaker.call(fail)


def test_new_storage_reports_closed_with_zero_counters(storage_factory):
    storage = storage_factory()
    assert (storage.state, storage.counter, storage.success_counter, storage.opened_at) == ("closed", 0, 0, None)


def test_storage_counters_increment_and_reset(storage_factory):
    storage = storage_factory()
    storage.increment_counter()
    storage.increment_counter()
    storage.increment_success_counter()
    assert (storage.counter, storage.success_counter) == (2, 1)
    storage.reset_counter()
    storage.reset_success_counter()
    assert (storage.counter, storage.success_counter) == (0, 0)


def test_storage_keeps_state_and_opened_at(storage_factory):
    from datetime import datetime, timezone

    storage = storage_factory()
    opened = datetime(2027, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    storage.state = "open"
    storage.opened_at = opened
    assert (storage.state, storage.opened_at) == ("open", opened)


def test_stock_pybreaker_trips_on_the_storage(storage_factory):
    breaker = pybreaker.CircuitBreaker(fail_max=2, state_storage=storage_factory())
    with pytest.raises(Boom):
        breaker.call(fail)
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(fail)
    assert breaker.current_state == "open"


def test_breaker_trips_after_fail_max_failures(make_breaker):
    breaker = make_breaker()
    trip(breaker)
    assert breaker.current_state == "open"


def test_failures_below_fail_max_keep_it_closed(make_breaker):
    breaker = make_breaker()
    trip(breaker, 2)
    assert (breaker.current_state, breaker.fail_counter) == ("closed", 2)


def test_success_resets_the_failure_count(make_breaker):
    breaker = make_breaker()
    trip(breaker, 2)
    breaker.call(succeed)
    assert breaker.fail_counter == 0


def test_excluded_errors_do_not_count(make_breaker):
    breaker = make_breaker()
    for _ in range(5):
        with pytest.raises(ClientMistake):
            breaker.call(lambda: (_ for _ in ()).throw(ClientMistake()))
    assert (breaker.current_state, breaker.fail_counter) == ("closed", 0)


def test_open_breaker_fails_fast_without_calling(make_breaker):
    breaker = make_breaker()
    trip(breaker)
    calls = []
    with pytest.raises(BreakerOpenError) as refused:
        breaker.call(lambda: calls.append(1))
    assert calls == [] and refused.value.retry_after_seconds == 30


def test_open_breaker_still_fails_fast_just_before_reset_timeout(make_breaker, clock):
    breaker = make_breaker()
    trip(breaker)
    clock.advance(29.5)
    with pytest.raises(BreakerOpenError):
        breaker.call(succeed)


def test_after_reset_timeout_one_caller_probes_and_the_others_fail_fast(make_breaker, storage_factory, clock):
    first, second = make_breaker(), make_breaker(storage=storage_factory())  # two processes, one state
    trip(first)
    clock.advance(30)
    probe_started = []

    def probe():
        probe_started.append(1)
        with pytest.raises(BreakerOpenError):
            second.call(succeed)  # while the elected prober is still in its call
        return "ok"

    assert first.call(probe) == "ok"
    assert probe_started == [1] and first.current_state == "half-open"


def test_half_open_breaker_refuses_non_owners(make_breaker, storage_factory, clock):
    first, second = make_breaker(), make_breaker(storage=storage_factory())
    trip(first)
    clock.advance(30)
    first.call(succeed)
    with pytest.raises(BreakerOpenError):
        second.call(succeed)


def test_breaker_closes_after_success_threshold_probes(make_breaker, clock):
    breaker = make_breaker()
    trip(breaker)
    clock.advance(30)
    breaker.call(succeed)
    breaker.call(succeed)
    assert (breaker.current_state, breaker.fail_counter) == ("closed", 0)


def test_failed_probe_reopens_with_a_new_timer(make_breaker, clock):
    breaker = make_breaker()
    trip(breaker)
    clock.advance(30)
    with pytest.raises(Boom):
        breaker.call(fail)
    assert breaker.current_state == "open"
    clock.advance(29)
    with pytest.raises(BreakerOpenError):
        breaker.call(succeed)


def test_expired_probe_lease_lets_another_caller_take_over(make_breaker, storage_factory, clock):
    first, second = make_breaker(), make_breaker(storage=storage_factory())
    trip(first)
    clock.advance(30)
    first.call(succeed)  # first holds the lease and then goes away
    clock.advance(31)
    assert second.call(succeed) == "ok"


def test_trip_is_announced_once_with_details(make_breaker, transitions):
    breaker = make_breaker()
    trip(breaker)
    assert [(t[1], t[2], t[3]["reason"]) for t in transitions.seen] == [("closed", "open", "failures")]


def test_full_cycle_announces_every_transition(make_breaker, clock, transitions):
    breaker = make_breaker()
    trip(breaker)
    clock.advance(30)
    breaker.call(succeed)
    breaker.call(succeed)
    assert [(t[1], t[2]) for t in transitions.seen] == [
        ("closed", "open"), ("open", "half-open"), ("half-open", "closed")]


def test_forced_open_does_not_probe_after_timeout(make_breaker, clock):
    breaker = make_breaker()
    breaker.open(actor="operator")
    clock.advance(3600)
    with pytest.raises(BreakerOpenError):
        breaker.call(succeed)


def test_close_lets_calls_through_again(make_breaker):
    breaker = make_breaker()
    trip(breaker)
    breaker.close()
    assert breaker.call(succeed) == "ok"


def test_reset_clears_counters_and_history_but_its_own_entry(make_breaker):
    breaker = make_breaker()
    trip(breaker)
    breaker.reset(actor="op")
    record = breaker.record()
    assert (record.state, record.failures) == ("closed", 0)
    assert [(e["from"], e["to"], e["reason"], e["actor"]) for e in record.transitions] == [
        ("open", "closed", "reset", "op")]


def test_recent_transitions_are_kept_on_the_record(make_breaker):
    breaker = make_breaker()
    trip(breaker)
    breaker.close(actor="op")
    assert [(e["from"], e["to"], e["reason"]) for e in breaker.record().transitions] == [
        ("closed", "open", "failures"), ("open", "closed", "operator")]


def test_pybreaker_listeners_hear_failures_and_state_changes(make_breaker):
    events = []

    class Listener(pybreaker.CircuitBreakerListener):
        def failure(self, cb, exc):
            events.append("failure")

        def state_change(self, cb, old_state, new_state):
            events.append(f"{old_state.name}->{new_state.name}")

    breaker = make_breaker(listeners=[Listener()])
    trip(breaker)
    assert events == ["failure", "failure", "failure", "closed->open"]
