import pytest

from chalicelib.http.errors import ServiceUnavailable
from chalicelib.resilience import DatabaseGuard, FleetCircuitBreaker, LastKnownGood
from chalicelib.users.repository import EmailTaken, StorageUnavailable


@pytest.fixture
def breaker(clock):
    return FleetCircuitBreaker("database", fail_max=2, reset_timeout=30, clock=clock, exclude=[EmailTaken],
                               announce=lambda *a: None)


@pytest.fixture
def guard(breaker, clock):
    return DatabaseGuard(breaker=breaker, cache=LastKnownGood(clock=clock))


def down():
    raise StorageUnavailable("timeout")


def test_fresh_read_is_returned_and_remembered(guard):
    assert guard.read("user:1", lambda: "ada") == ("ada", True)
    assert guard.cache.recall("user:1")[1] == "ada"


def test_read_while_open_serves_the_last_good_value_as_stale(guard, breaker):
    guard.read("user:1", lambda: "ada")
    breaker.open()
    assert guard.read("user:1", lambda: "never called") == ("ada", False)


def test_failed_read_serves_stale_when_remembered(guard):
    guard.read("user:1", lambda: "ada")
    assert guard.read("user:1", down) == ("ada", False)


def test_failed_read_of_something_never_read_raises_the_store_error(guard):
    with pytest.raises(StorageUnavailable):
        guard.read("user:2", down)


def test_read_while_open_of_something_never_read_is_503_with_retry_after(guard, breaker, clock):
    breaker.open()
    with pytest.raises(ServiceUnavailable) as refused:
        guard.read("user:2", lambda: "x")
    assert refused.value.headers["Retry-After"] == "30"


def test_write_while_open_is_503_and_never_calls_the_store(guard, breaker):
    breaker.open()
    calls = []
    with pytest.raises(ServiceUnavailable):
        guard.write(lambda: calls.append(1))
    assert calls == []


def test_client_errors_pass_through_and_do_not_count(guard, breaker):
    def taken():
        raise EmailTaken("a@example.com")

    for _ in range(3):
        with pytest.raises(EmailTaken):
            guard.write(taken)
    assert breaker.current_state == "closed"


def test_store_failures_trip_the_breaker(guard, breaker):
    for _ in range(2):
        with pytest.raises(StorageUnavailable):
            guard.write(down)
    assert breaker.current_state == "open"


def test_last_known_good_evicts_the_least_recently_used(clock):
    cache = LastKnownGood(max_entries=2, clock=clock)
    cache.remember("a", 1)
    cache.remember("b", 2)
    cache.recall("a")
    cache.remember("c", 3)
    assert (cache.recall("b"), cache.recall("a")[1]) == (None, 1)


def test_a_write_forgets_the_keys_and_pages_it_may_have_changed(guard, clock):
    guard.read("user:1", lambda: "ada")
    guard.read("list:100:", lambda: ["ada"])
    guard.read("user:2", lambda: "grace")
    guard.write(lambda: None, keys=["user:1"], prefixes=["list:"])
    assert guard.cache.recall("user:1") is None
    assert guard.cache.recall("list:100:") is None
    assert guard.cache.recall("user:2")[1] == "grace"


def test_a_failed_write_also_forgets_what_it_may_have_changed(guard):
    guard.read("user:1", lambda: "ada")
    with pytest.raises(StorageUnavailable):
        guard.write(down, keys=["user:1"])
    assert guard.cache.recall("user:1") is None


def test_a_read_in_flight_while_a_write_finishes_is_not_remembered(guard, clock):
    def read_that_overlaps_a_write():
        guard.write(lambda: None, keys=["user:9"])  # another request's write finishes meanwhile
        clock.advance(60)
        return "ada as she was"

    assert guard.read("user:1", read_that_overlaps_a_write) == ("ada as she was", True)
    assert guard.cache.recall("user:1") is None


def test_reads_just_after_a_write_are_not_remembered_until_it_settles(guard, clock):
    from chalicelib.resilience.fallback import WRITE_SETTLE_SECONDS

    guard.write(lambda: None, keys=["user:1"], prefixes=["list:"])
    guard.read("user:1", lambda: "maybe the old ada")
    guard.read("list:100:", lambda: ["maybe the old ada"])
    guard.read("user:2", lambda: "grace")
    assert (guard.cache.recall("user:1"), guard.cache.recall("list:100:")) == (None, None)
    assert guard.cache.recall("user:2")[1] == "grace"
    clock.advance(WRITE_SETTLE_SECONDS + 0.1)
    guard.read("user:1", lambda: "new ada")
    assert guard.cache.recall("user:1")[1] == "new ada"


def test_a_value_older_than_the_stale_limit_is_not_served(breaker):
    from tests.support.clocks import EpochClock

    cache_clock = EpochClock()  # the breaker's own clock stays put: it stays open
    guard = DatabaseGuard(breaker=breaker, cache=LastKnownGood(clock=cache_clock), max_stale_seconds=300)
    guard.read("user:1", lambda: "ada")
    breaker.open()
    cache_clock.advance(299)
    assert guard.read("user:1", lambda: "never called") == ("ada", False)
    cache_clock.advance(2)
    with pytest.raises(ServiceUnavailable):
        guard.read("user:1", lambda: "never called")
