"""One contract for every fault store: the in-memory fake and DynamoDB."""
import time

import pytest

from chalicelib.chaos.store import MemoryFaultStore

from .conftest import fault


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return MemoryFaultStore()
    request.getfixturevalue("tables")
    return request.getfixturevalue("wired").chaos_fault_store


def test_a_stored_fault_is_active_until_it_expires(store):
    written = fault(expires_in=60)
    store.put(written)
    assert store.active(time.time()) == [written]
    assert store.active(written.expires_at + 1) == []


def test_an_expired_fault_is_never_answered_even_if_nobody_removed_it(store):
    store.put(fault(expires_in=-1))
    assert store.active(time.time()) == []


def test_removing_an_experiment_removes_only_its_faults(store):
    mine = [fault(number=0), fault(kind="dynamodb_error", target="database", number=1)]
    other = fault(experiment_id="exp-0002")
    for each in (*mine, other):
        store.put(each)
    assert store.remove_experiment("exp-0001") == 2
    assert store.active(time.time()) == [other]


def test_operations_and_magnitudes_round_trip(store):
    written = fault(kind="dynamodb_slowdown", target="database", magnitude=250.5, blast=12.5,
                    operations=("GetItem", "Query"))
    store.put(written)
    assert store.active(time.time()) == [written]
