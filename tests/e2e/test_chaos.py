"""A chaos experiment on the local stack, driven over HTTP like an operator, with load running.

The DynamoDB-failure experiment (a short inline copy of the catalog entry) opens the database
breaker, stale reads are served, one incident and its page say an experiment is running, the
fault is rolled back, the breaker closes, and the journal records it all; the load generator's
integrity check finds every user written with a 2xx answer during the experiment.
"""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from chalicelib.chaos.definition import catalog_entry
from tools.loadgen import LoadProfile, load_scenario
from tools.loadgen.engine import Runner
from tools.loadgen.integrity import check_integrity

# Lambda variant only: DynamoDB faults act on the Lambda variant's DynamoDB store.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["lambda"], indirect=True)]

RUN_LIMIT_SECONDS = 150  # 8 s of fault, then the breaker's 30 s reset timeout and a probe


def experiment_definition() -> dict:
    definition = catalog_entry("dynamodb-failure")
    definition.update(duration_seconds=8, recovery_seconds=90)
    definition["stop-conditions"]["interval_seconds"] = 2
    return definition


def test_dynamodb_failure_experiment_runs_rolls_back_and_journals_what_happened(stack):
    headers = stack.operator_headers()
    seeded = [stack.http.post(stack.url("/api/users"),
                              json={"name": "Chaos", "email": f"chaos-seed-{n}-{time.time_ns()}@example.com"}).json()
              for n in range(3)]
    for user in seeded:
        assert stack.http.get(stack.url(f"/api/users/{user['id']}")).status_code == 200

    # Load through the fault and the open breaker; the integrity check runs once the breaker has closed.
    scenario = load_scenario("crud-mix")
    runner = Runner(stack.base_url, scenario, LoadProfile.concurrency(3, "25s", max_requests=1500), seed=11)
    load = threading.Thread(target=lambda: asyncio.run(runner.run()))
    load.start()
    stale_seen = []
    try:
        started = stack.http.post(stack.url("/sre/chaos/experiments"), headers=headers,
                                  json={"definition": experiment_definition()})
        assert started.status_code == 202, started.text
        experiment_id = started.json()["id"]
        busy = stack.http.post(stack.url("/sre/chaos/experiments"), headers=headers,
                               json={"experiment": "dynamodb-slowdown"})
        assert busy.status_code == 409

        deadline = time.monotonic() + RUN_LIMIT_SECONDS
        record = started.json()
        while time.monotonic() < deadline:
            for user in seeded:
                read = stack.http.get(stack.url(f"/api/users/{user['id']}"))
                if read.headers.get("X-Data-Stale") == "true":
                    stale_seen.append(read.status_code)
            stack.flush_metrics()  # the EMF sink sends per minute; the workflow reads stale reads from CloudWatch
            record = stack.http.get(stack.url(f"/sre/chaos/experiments/{experiment_id}"), headers=headers).json()
            if record["status"] != "running":
                break
            time.sleep(1)
        else:
            raise AssertionError(f"experiment still running after {RUN_LIMIT_SECONDS}s:\n{stack.log_tail()}")
    finally:
        load.join(timeout=60)

    assert record["status"] == "completed", (record["reason"], record["expected_responses"], stack.log_tail())
    assert stale_seen and set(stale_seen) == {200}
    met = {item["type"]: item for item in record["expected_responses"]}
    assert all(item["met"] for item in met.values()), met
    assert met["breaker_opens"]["seconds"] <= 30
    moves = [(move["breaker"], move["to"]) for move in record["breakers"]]
    assert ("database", "open") in moves and ("database", "closed") in moves
    database_incidents = [item for item in record["incidents"] if item["target"] == "database"]
    assert len(database_incidents) == 1 and database_incidents[0]["linked"] and database_incidents[0]["paged"]
    incident = stack.http.get(stack.url(f"/sre/incidents/{database_incidents[0]['id']}")).json()["incident"]
    assert incident["summary"].splitlines()[0] == (
        f"CHAOS EXPERIMENT IN PROGRESS: {experiment_id} is running on database.")
    events = [event["event"] for event in record["timeline"]]
    assert events.index("injected") < events.index("rolled_back") < events.index("journal")
    assert stack.http.get(stack.url("/sre/circuit-breakers")).json()  # the stack still answers
    integrity = check_integrity(stack.base_url, scenario.integrity, runner.ledger, timeout=30).summary()
    # What the load wrote before, during and after the fault; on a busy machine every user it created
    # may also have been deleted by it (crud-mix), so what was checked is present or gone, not present alone.
    assert integrity["ok"] and integrity["checked_present"] + integrity["checked_gone"] > 0, integrity
