"""functions/chaos_verify_recovery.py: what the watch had not yet seen when the experiment was rolled
back (an incident opened late, stale reads in the service's own metrics) is observed by the recovery checks."""
import time
from datetime import datetime, timezone

import boto3

from chalicelib.chaos.definition import catalog_entry
from functions.chaos_verify_recovery import handler

STALE_READS = {"name": "stale reads are served", "type": "stale_reads_served", "within_seconds": 60}
INCIDENT = {"name": "an incident is opened on the database", "type": "incident_opened", "target": "database",
            "within_seconds": 60}


def test_responses_first_seen_after_rollback_are_observed_by_the_recovery_check(tables, wired):
    definition = {**catalog_entry("dynamodb-failure"), "expected-responses": [STALE_READS, INCIDENT]}
    record = wired.chaos_steps.new_record("inline", definition, "alice")
    wired.chaos_journal.create(record, time.time())
    now = time.time()
    wired.incident_service.trigger("breaker:database", "P2", "Trouble on database", "breaker", {"failures": 5},
                                   target="database")
    service = wired.settings.service
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_data(Namespace=service.metrics_namespace, MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "service", "Value": service.service_name}], "Value": value,
         "Timestamp": datetime.fromtimestamp(now, tz=timezone.utc), "Unit": "Count"}
        for name, value in (("data_queries", 5.0), ("fresh_data_queries", 2.0))])
    state = {"experiment_id": record.id, "plan": {}, "injected": {"at": now - 120},
             "watch": {"checks": 12, "done": True, "fired": None, "observations": {}},
             "rolled_back": {"at": now - 5}, "recovery": {"checks": 0, "settled": False, "until": now + 60}}
    observations = handler(state, None)["watch"]["observations"]
    assert set(observations) == {STALE_READS["name"], INCIDENT["name"]}
    assert all(100 <= seconds <= 130 for seconds in observations.values())


CLOSES = {"name": "the database breaker closes within 2 minutes of rollback", "type": "breaker_closes",
          "breaker": "database", "within_seconds": 120}


def _journal_after_recovery(wired, definition):
    from functions.chaos_journal import handler as write_journal

    record = wired.chaos_steps.new_record("inline", definition, "alice")
    wired.chaos_journal.create(record, time.time())
    now = time.time()
    state = {"experiment_id": record.id, "plan": {}, "injected": {"at": now - 120},
             "watch": {"checks": 12, "done": True, "fired": None, "observations": {}},
             "rolled_back": {"at": now - 5}, "recovery": {"checks": 3, "settled": True, "until": now},
             "after": {"met": True, "probes": []}}
    return write_journal(state, None)


def _trip(breaker):
    for _ in range(breaker.fail_max):
        try:
            breaker.call(lambda: 1 / 0)
        except Exception:  # the failures that open it, then the refusal
            pass


def test_a_breaker_left_open_for_want_of_traffic_is_named_in_the_verdict(tables, monkeypatch):
    import json

    from chalicelib import wiring

    monkeypatch.setenv("CIRCUIT_BREAKERS", json.dumps({"database": {"reset_timeout_seconds": 0.05}}))
    wired = wiring.current()
    _trip(wired.breakers.get("database"))
    time.sleep(0.1)  # past its reset timeout, and no call since
    verdict = _journal_after_recovery(wired, {**catalog_entry("dynamodb-failure"), "expected-responses": [CLOSES]})
    assert verdict["status"] == "failed_hypothesis"
    assert "no request has tried it since" in verdict["reason"]


def test_a_breaker_still_within_its_reset_timeout_gets_no_such_note(tables, wired):
    _trip(wired.breakers.get("database"))
    verdict = _journal_after_recovery(wired, {**catalog_entry("dynamodb-failure"), "expected-responses": [CLOSES]})
    assert verdict["status"] == "failed_hypothesis"
    assert verdict["reason"] == f"expected responses not met: {CLOSES['name']}"
