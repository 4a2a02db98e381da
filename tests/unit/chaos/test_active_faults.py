"""The per-process cache of fault records."""
import time

from chalicelib.chaos.active import ActiveFaults, DynamoDBFaultSwitch
from chalicelib.chaos.store import MemoryFaultStore

from .conftest import fault


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class BrokenStore:
    def __init__(self, faults):
        self.faults = faults
        self.broken = False

    def active(self, now):
        if self.broken:
            raise ConnectionError("table unreachable")
        return [f for f in self.faults if f.is_live(now)]


def test_the_store_is_read_at_most_once_per_cache_period():
    store, clock = MemoryFaultStore(), Clock()
    active = ActiveFaults(store, cache_seconds=5, monotonic=clock)
    for _ in range(100):
        active.route_fault("/api/users")
    clock.now += 4.9
    active.current()
    assert store.reads == 1
    clock.now += 0.2
    active.current()
    assert store.reads == 2


def test_a_new_fault_is_seen_after_one_cache_period():
    store, clock = MemoryFaultStore(), Clock()
    active = ActiveFaults(store, cache_seconds=5, monotonic=clock)
    assert active.current() == ()
    store.put(fault())
    assert active.current() == ()
    clock.now += 5
    assert [f.experiment_id for f in active.current()] == ["exp-0001"]


def test_expiry_is_honoured_between_reads_and_without_removal():
    store, clock, wall = MemoryFaultStore(), Clock(), Clock()
    wall.now = time.time()
    store.put(fault(expires_in=10))
    active = ActiveFaults(store, cache_seconds=3600, monotonic=clock, wall=lambda: wall.now)
    assert active.route_fault("/api/users") is not None
    wall.now += 11
    assert active.route_fault("/api/users") is None


def test_an_unreadable_store_keeps_the_known_faults_until_they_expire():
    clock = Clock()
    store = BrokenStore([fault(expires_in=60)])
    active = ActiveFaults(store, cache_seconds=1, monotonic=clock)
    assert len(active.current()) == 1
    store.broken, clock.now = True, clock.now + 2
    assert len(active.current()) == 1


def test_blast_radius_touches_that_share_of_matching_calls():
    store = MemoryFaultStore()
    store.put(fault(blast=25))
    rolls = iter([0.10, 0.30, 0.24, 0.99])
    active = ActiveFaults(store, rand=lambda: next(rolls))
    assert [active.route_fault("/api/users") is not None for _ in range(4)] == [True, False, True, False]


def test_dynamodb_records_become_botocore_faults_of_their_kind():
    store = MemoryFaultStore()
    store.put(fault(kind="dynamodb_throttle", target="database", blast=50, operations=("GetItem",)))
    switch = DynamoDBFaultSwitch(ActiveFaults(store))
    injected = switch.match("dynamodb", "GetItem")
    assert (injected.error_code, injected.probability, injected.experiment_id) == (
        "ProvisionedThroughputExceededException", 0.5, "exp-0001")
    assert switch.match("dynamodb", "PutItem") is None
    assert switch.match("sns", "Publish") is None


def test_a_slowdown_delays_the_call_without_failing_it():
    store = MemoryFaultStore()
    store.put(fault(kind="dynamodb_slowdown", target="database", magnitude=250))
    injected = DynamoDBFaultSwitch(ActiveFaults(store)).match("dynamodb", "Query")
    assert (injected.error_code, injected.delay_seconds, injected.hang_seconds) == ("", 0.25, 0.0)
