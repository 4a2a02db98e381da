import gc
import time
import weakref

import pytest

from chalicelib.heap import HeapFreezer, freeze_survivors


class Cycle:
    def __init__(self):
        self.me = self


@pytest.fixture
def unfrozen_after():
    yield
    gc.unfreeze()


def test_a_round_freezes_what_survives_a_full_collection(unfrozen_after):
    kept = Cycle()
    assert freeze_survivors() > 0
    assert not any(tracked is kept for tracked in gc.get_objects())  # in no generation a collection scans


def test_a_frozen_cycle_that_became_garbage_outlives_a_growth_round(unfrozen_after):
    cycle = Cycle()
    alive = weakref.ref(cycle)
    freeze_survivors()
    del cycle
    freeze_survivors()
    assert alive() is not None


def test_a_full_round_collects_a_frozen_cycle_that_became_garbage(unfrozen_after):
    cycle = Cycle()
    alive = weakref.ref(cycle)
    freeze_survivors()
    del cycle
    freeze_survivors(unfreeze_first=True)
    assert alive() is None


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def freezer(long_lived=0, clock=None, rounds=None):
    return HeapFreezer(growth_objects=100, full_round_seconds=600, long_lived=lambda: long_lived,
                       freeze=lambda unfreeze_first: (rounds if rounds is not None else []).append(unfreeze_first) or 1,
                       clock=clock or Clock())


def test_no_round_is_due_while_the_long_lived_objects_not_yet_frozen_are_few():
    assert freezer(long_lived=99).run_round_if_due() is None


def test_a_growth_round_is_due_once_they_reach_the_bound():
    rounds = []
    assert freezer(long_lived=100, rounds=rounds).run_round_if_due() == "growth"
    assert rounds == [False]


def test_a_full_round_unfreezes_first_once_its_period_has_passed():
    clock, rounds = Clock(), []
    heap = freezer(clock=clock, rounds=rounds)
    clock.now += 600
    assert heap.run_round_if_due() == "full"
    assert heap.run_round_if_due() is None  # the period starts again
    assert rounds == [True]


def test_stopping_leaves_nothing_frozen():
    heap = HeapFreezer(check_seconds=0.01, growth_objects=0)
    heap.start()
    try:
        deadline = time.monotonic() + 5
        while heap.rounds == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        heap.stop()
    assert heap.rounds > 0
    assert gc.get_freeze_count() == 0
