"""The SLO loop on the local stack: real requests -> EMF -> CloudWatch -> evaluator -> /sre/slos."""
from datetime import datetime, timedelta, timezone

import pytest

# The SRE plane is the same in both variants: run once, against the Lambda variant.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["lambda"], indirect=True)]


def evaluate(stack):
    # Include the current minute: requests just sent are in it.
    now = datetime.now(timezone.utc) + timedelta(minutes=1)
    return stack.fire("slo-evaluator", {"now": now.isoformat()})


def period_counts(stack):
    """{slo: (good, valid)} over each SLO's period (this read of the SRE plane is no SLI event)."""
    body = stack.http.get(stack.url("/sre/slos")).json()
    return {slo["name"]: (slo["windows"][slo["definition"]["period"]]["good"],
                          slo["windows"][slo["definition"]["period"]]["valid"]) for slo in body["slos"]}


def test_slos_count_exactly_the_requests_sent(stack):
    assert evaluate(stack)["errors"] == []
    before = period_counts(stack)
    for _ in range(15):
        assert stack.http.get(stack.url("/api/users")).status_code == 200
    for _ in range(3):  # client errors are not valid events
        assert stack.http.get(stack.url("/api/users/not-a-user-id")).status_code in (400, 404)
    assert evaluate(stack)["errors"] == []
    after = period_counts(stack)
    sent_valid = 15  # the listings; the GET /sre/slos that read ``before`` is no SLI event
    assert (after["success"][0] - before["success"][0], after["success"][1] - before["success"][1]) == (
        sent_valid, sent_valid)
    assert after["latency"][1] - before["latency"][1] == sent_valid


def test_probe_minutes_feed_the_availability_slo(stack):
    result = stack.fire("health-probe")
    assert result["success"] is True
    evaluate(stack)
    good, valid = period_counts(stack)["availability"]
    assert valid >= 1 and good >= 1


def test_sre_plane_reports_its_own_health(stack):
    evaluate(stack)
    body = stack.http.get(stack.url("/sre/health")).json()
    assert body["status"] in ("ok", "degraded") and body["last_run"]["errors"] == []


def test_budget_endpoint_answers_the_deploy_pipeline(stack):
    evaluate(stack)
    body = stack.http.get(stack.url("/sre/budget")).json()
    assert body["releases_frozen"] == bool(body["frozen_by"])
    assert {slo["slo"] for slo in body["slos"]} == {"availability", "freshness", "latency", "success"}
    assert stack.http.get(stack.url("/sre/slos/no-such-slo")).status_code == 404
