"""The local stack under concurrent load, driven over HTTP like clients (bounded, 127.0.0.1 only)."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tools.loadgen import LoadProfile, load_scenario, run_load

pytestmark = pytest.mark.e2e


def test_concurrent_creates_of_one_email_give_one_201_and_the_rest_409(stack):
    for attempt in range(5):  # a race shows only sometimes in one round
        def create(index, email=f"race-{attempt}@example.com"):
            return requests.post(stack.url("/api/users"), json={"name": f"Racer {index}", "email": email},
                                 timeout=30).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = sorted(pool.map(create, range(20)))
        assert statuses == [201] + [409] * 19, f"round {attempt}: {statuses}"


def test_a_short_crud_run_stores_what_was_acknowledged(stack):
    report = run_load(stack.base_url, load_scenario("crud-mix"), LoadProfile.concurrency(4, "3s", max_requests=400),
                      check=True, seed=7)
    assert report["requests"]["completed"] > 0
    assert report["statuses"].keys() <= {"200", "201", "204"}, report["error_samples"]
    assert report["integrity"]["ok"], report["integrity"]
    assert report["integrity"]["checked_present"] >= 100


def _stored_users(stack):
    count, cursor = 0, None
    while True:
        answer = requests.get(stack.url("/api/users"), params={"limit": 100, **({"cursor": cursor} if cursor else {})},
                              timeout=30)
        assert answer.status_code == 200
        count += len(answer.json())
        cursor = answer.headers.get("X-Next-Cursor")
        if not cursor:
            return count


def test_a_run_with_cleanup_leaves_as_many_users_as_it_found(stack):
    before = _stored_users(stack)
    report = run_load(stack.base_url, load_scenario("crud-mix"), LoadProfile.concurrency(4, "3s", max_requests=200),
                      check=True, cleanup=True, seed=11)
    assert report["integrity"]["ok"], report["integrity"]
    cleanup = report["cleanup"]
    assert cleanup["left"] >= 100 and cleanup["deleted"] == cleanup["left"], cleanup
    assert _stored_users(stack) == before
