"""A load action runs one burst of the load generator per watch interval, which leaves the users
table as it found it: no seed data (setup), and what a burst created and did not delete is deleted."""
import time

import pytest

from chalicelib.chaos.definition import catalog_entry


@pytest.fixture
def bursts(monkeypatch):
    import tools.loadgen

    sent = []

    def run_load(base_url, scenario, profile, **options):
        sent.append((scenario, options))
        return {"requests": {"completed": 0}, "latency_ms": {}, "cleanup": {"deleted": 0}}

    monkeypatch.setattr(tools.loadgen, "run_load", run_load)
    return sent


def watch_twice(wired):
    record = wired.chaos_steps.new_record("catalog", catalog_entry("load-test"), "alice")
    wired.chaos_journal.create(record, time.time())
    now = time.time()
    state = {"experiment_id": record.id, "plan": {"interval_seconds": 10},
             "injected": {"at": now, "until": now + 120},
             "watch": {"checks": 0, "done": False, "fired": None, "observations": {}}}
    for _ in range(2):
        state = wired.chaos_steps.watch(state)
    return state


def test_every_burst_runs_the_scenarios_requests_without_its_seed_data(tables, wired, bursts):
    watch_twice(wired)
    assert [scenario.setup for scenario, _ in bursts] == [(), ()]
    assert bursts[0][0].requests and bursts[1][0].requests == bursts[0][0].requests


def test_every_burst_deletes_what_it_created_and_says_so(tables, wired, bursts):
    state = watch_twice(wired)
    assert [options.get("cleanup") for _, options in bursts] == [True, True]
    assert [burst["cleanup"] for burst in state["watch"]["load"]] == [{"deleted": 0}, {"deleted": 0}]
