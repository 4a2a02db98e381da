import pytest

from chalicelib.http.errors import ServiceUnavailable
from chalicelib.resilience import DatabaseGuard, FleetCircuitBreaker, LastKnownGood
from chalicelib.users.repository import EmailTaken, StorageUnavailable
from chalicelib.resilience.write_ledger import WriteLedgerUnavailable


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


def test_a_key_written_again_settles_from_its_last_write_not_its_first(guard, clock):
    from chalicelib.resilience.fallback import WRITE_SETTLE_SECONDS

    guard.write(lambda: None, keys=["user:1"])
    clock.advance(WRITE_SETTLE_SECONDS * 0.6)
    guard.write(lambda: None, keys=["user:1"])
    clock.advance(WRITE_SETTLE_SECONDS * 0.6)  # the first write has settled, the second not yet
    guard.read("user:1", lambda: "maybe the ada of the first write")
    assert guard.cache.recall("user:1") is None
    clock.advance(WRITE_SETTLE_SECONDS * 0.6)
    guard.read("user:1", lambda: "ada of the second write")
    assert guard.cache.recall("user:1")[1] == "ada of the second write"


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


# -- the write ledger: what another process's acknowledged write changed -----------------------

WRITE_WITHIN = 5.0


@pytest.fixture
def ledger():
    from chalicelib.resilience.write_ledger import MemoryWriteLedger

    return MemoryWriteLedger()


def ledger_guard(breaker, clock, ledger):
    return DatabaseGuard(breaker=breaker, cache=LastKnownGood(clock=clock), ledger=ledger,
                         cache_prefixes=["list:"], write_within_seconds=WRITE_WITHIN)


@pytest.fixture
def fleet_guard(breaker, clock, ledger):
    return ledger_guard(breaker, clock, ledger)


def test_a_value_read_before_another_process_announced_a_write_is_not_served(fleet_guard, breaker, clock, ledger):
    fleet_guard.read("user:1", lambda: "old ada")
    clock.advance(30)
    ledger.announce(["user:1", "list:"], clock())  # another process's write
    breaker.open()
    with pytest.raises(ServiceUnavailable):
        fleet_guard.read("user:1", lambda: "never called")


def test_a_list_page_is_not_served_after_a_write_announced_under_its_prefix(fleet_guard, breaker, clock, ledger):
    fleet_guard.read("list:100:", lambda: ["old ada"])
    clock.advance(30)
    ledger.announce(["list:"], clock())
    breaker.open()
    with pytest.raises(ServiceUnavailable):
        fleet_guard.read("list:100:", lambda: "never called")


def test_a_value_read_within_the_margin_after_an_announcement_is_not_served(fleet_guard, breaker, clock, ledger):
    ledger.announce(["user:1"], clock())  # the write may still be applied, or not yet visible
    clock.advance(fleet_guard.announcement_margin_seconds - 0.5)
    fleet_guard.read("user:1", lambda: "maybe old ada")
    breaker.open()
    with pytest.raises(ServiceUnavailable):
        fleet_guard.read("user:1", lambda: "never called")


def test_a_value_read_well_after_an_announced_write_is_served(fleet_guard, breaker, clock, ledger):
    ledger.announce(["user:1", "list:"], clock())
    clock.advance(fleet_guard.announcement_margin_seconds + 0.5)
    fleet_guard.read("user:1", lambda: "new ada")
    breaker.open()
    assert fleet_guard.read("user:1", lambda: "never called") == ("new ada", False)


def test_a_write_to_another_user_leaves_a_value_servable(fleet_guard, breaker, clock, ledger):
    fleet_guard.read("user:1", lambda: "ada")
    ledger.announce(["user:2", "list:"], clock())
    breaker.open()
    assert fleet_guard.read("user:1", lambda: "never called") == ("ada", False)


def test_an_unreadable_ledger_serves_nothing_stale(fleet_guard, breaker, ledger):
    fleet_guard.read("user:1", lambda: "ada")
    breaker.open()
    ledger.available = False
    with pytest.raises(ServiceUnavailable) as refused:
        fleet_guard.read("user:1", lambda: "never called")
    assert refused.value.headers["Retry-After"] == "30"
    assert fleet_guard.ledger_refusals == 1


def test_an_answer_withheld_for_an_unreadable_ledger_says_so_and_keeps_its_cause(fleet_guard, breaker, ledger):
    fleet_guard.read("user:1", lambda: "ada")
    breaker.open()
    ledger.available = False
    with pytest.raises(ServiceUnavailable, match="write ledger cannot be read") as refused:
        fleet_guard.read("user:1", lambda: "never called")
    assert isinstance(refused.value.__cause__, WriteLedgerUnavailable)


def test_an_unreadable_ledger_after_a_failed_read_raises_the_store_error(fleet_guard, ledger):
    fleet_guard.read("user:1", lambda: "ada")
    ledger.available = False
    with pytest.raises(StorageUnavailable):
        fleet_guard.read("user:1", down)


def test_a_write_is_announced_before_the_store_is_called(fleet_guard, clock, ledger):
    seen = []
    fleet_guard.write(lambda: seen.append(ledger.latest(["user:1"])), keys=["user:1"], prefixes=["list:"])
    assert seen == [clock() + fleet_guard.announce_ahead_seconds]
    assert ledger.latest(["list:"]) == clock() + fleet_guard.announce_ahead_seconds


class CountingLedger:
    def __init__(self, ledger):
        self.ledger, self.announced = ledger, []

    def announce(self, names, at):
        self.announced.append(tuple(names))
        self.ledger.announce(names, at)

    def latest(self, names):
        return self.ledger.latest(names)


def test_writes_within_an_announcement_ahead_announce_only_names_not_yet_covered(breaker, clock, ledger):
    counting = CountingLedger(ledger)
    guard = ledger_guard(breaker, clock, counting)
    guard.write(lambda: None, keys=["user:1"], prefixes=["list:"])
    clock.advance(guard.announce_ahead_seconds / 2)
    guard.write(lambda: None, keys=["user:2"], prefixes=["list:"])
    guard.write(lambda: None, keys=["user:1"], prefixes=["list:"])
    clock.advance(guard.announce_ahead_seconds)
    guard.write(lambda: None, prefixes=["list:"])
    assert counting.announced == [("user:1", "list:"), ("user:2",), ("list:",)]


def test_a_value_read_before_a_covered_write_is_not_served_by_another_process(breaker, clock, ledger):
    writer, reader = ledger_guard(breaker, clock, ledger), ledger_guard(breaker, clock, ledger)
    writer.write(lambda: None, keys=["user:9"], prefixes=["list:"])  # announces list: ahead
    clock.advance(writer.announce_ahead_seconds)
    reader.read("list:100:", lambda: ["before the next write"])
    writer.write(lambda: None, keys=["user:1"], prefixes=["list:"])  # covered: no new announcement of list:
    breaker.open()
    with pytest.raises(ServiceUnavailable):
        reader.read("list:100:", lambda: "never called")


def test_an_unreachable_ledger_refuses_the_write_without_calling_the_store(fleet_guard, ledger):
    ledger.available = False
    calls = []
    with pytest.raises(ServiceUnavailable) as refused:
        fleet_guard.write(lambda: calls.append(1), keys=["user:1"], prefixes=["list:"])
    assert calls == []
    assert "nothing was written" in refused.value.message


def test_a_write_that_outlasts_its_announcement_is_announced_again_before_it_is_acknowledged(
        fleet_guard, clock, ledger):
    started = clock()

    def slow_write():
        clock.advance(WRITE_WITHIN + 3)
        return "done"

    assert fleet_guard.write(slow_write, keys=["user:1"], prefixes=["list:"]) == "done"
    assert ledger.latest(["user:1"]) == started + WRITE_WITHIN + 3 + fleet_guard.announce_ahead_seconds


def test_a_write_naming_a_prefix_the_guard_does_not_check_is_a_programming_error(fleet_guard):
    with pytest.raises(ValueError):
        fleet_guard.write(lambda: None, prefixes=["pages:"])


def test_a_write_refused_by_the_open_breaker_announces_nothing(fleet_guard, breaker, ledger):
    breaker.open()
    with pytest.raises(ServiceUnavailable):
        fleet_guard.write(lambda: None, keys=["user:1"], prefixes=["list:"])
    assert ledger.latest(["user:1", "list:"]) is None


def test_a_write_refused_by_the_open_breaker_keeps_what_is_remembered_servable(guard, breaker):
    """It forgot the user and every list page: each stale read became a 503 for the rest of the outage."""
    guard.read("user:1", lambda: "ada")
    guard.read("list:page-1", lambda: ["ada"])
    breaker.open()
    with pytest.raises(ServiceUnavailable):
        guard.write(lambda: "never called", keys=["user:1"], prefixes=["list:"])
    assert guard.read("user:1", lambda: "never called") == ("ada", False)
    assert guard.read("list:page-1", lambda: "never called") == (["ada"], False)


def test_a_write_the_ledger_refused_keeps_what_is_remembered_servable(fleet_guard, breaker, clock, ledger):
    fleet_guard.read("user:1", lambda: "ada")
    clock.advance(60)
    ledger.available = False
    with pytest.raises(ServiceUnavailable):
        fleet_guard.write(lambda: "never called", keys=["user:1"])
    assert fleet_guard.cache.recall("user:1")[1] == "ada"
