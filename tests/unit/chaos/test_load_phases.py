"""A load action runs one burst of the load generator per watch interval; its scenario's seed data
(setup) is stored by the first burst only."""
import time

import pytest

from chalicelib.chaos.definition import catalog_entry


@pytest.fixture
def bursts(monkeypatch):
    import tools.loadgen

    sent = []

    def run_load(base_url, scenario, profile, **_):
        sent.append(scenario)
        return {"requests": {"completed": 0}, "latency_ms": {}}

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


def test_only_the_first_burst_of_a_load_action_stores_the_scenarios_seed_data(tables, wired, bursts):
    watch_twice(wired)
    assert [len(scenario.setup) > 0 for scenario in bursts] == [True, False]
    assert [scenario.requests for scenario in bursts[1:]] == [bursts[0].requests]
