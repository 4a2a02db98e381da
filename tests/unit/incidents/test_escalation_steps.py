"""The Step Functions task logic on its own (in-process moto)."""
from __future__ import annotations

import pytest

from chalicelib.incidents.escalation import EscalationSteps, PagePublishFailed

TOPIC = "arn:aws:sns:us-east-1:123456789012:pages"


class RecordingSfn:
    def __init__(self):
        self.successes = []

    def send_task_success(self, taskToken, output):
        self.successes.append((taskToken, output))


class FailingSns:
    def publish(self, **kwargs):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "NotFound", "Message": "Topic does not exist"}}, "Publish")


@pytest.fixture
def steps(incidents_table, signer, clock, wired):
    return make_steps(wired, incidents_table, signer, clock, sns=None, sfn=RecordingSfn())


def make_steps(wired, store, signer, clock, sns, sfn):
    from chalicelib import wiring

    # The policy is read per workflow, from whatever the environment says then.
    return EscalationSteps(store, load_policy=lambda: wiring.current().escalation_policy(),
                           sns=sns or wired.client("sns"),
                           sfn=sfn or wired.client("stepfunctions"), signer=signer, clock=clock,
                           runbooks_base_url="https://runbooks.example.test", api_base_url="https://api.example.test")


@pytest.fixture
def incident(service):
    return service.trigger("breaker:database", "P2", "Breaker open", "breaker")[0]


def _validate(steps, request):
    return steps.validate({"request": request, "pages_topic_arn": TOPIC})


def test_plan_carries_the_severity_timeout_and_levels(steps, incident):
    plan = _validate(steps, {"incident_id": incident.id})
    assert plan["valid"] is True
    assert plan["ack_timeout_seconds"] == 14400
    assert [level["level"] for level in plan["levels"]] == [1, 2, 3, 4]
    assert {level["topic_arn"] for level in plan["levels"]} == {TOPIC}
    assert plan["position"] == {"level": 1, "repeats": 0}


@pytest.mark.parametrize("request_doc, reason", [
    ("nope", "Input must be a JSON object"),
    ({}, "incident_id is required"),
    ({"incident_id": "inc-1"}, "incident_id is required"),
    ({"incident_id": "inc-0123456789abcdef", "level": 2}, "Unknown input field(s): level"),
    ({"incident_id": "inc-0123456789abcdef", "start_level": 0}, "start_level must be a positive integer"),
    ({"incident_id": "inc-0123456789abcdef", "start_level": True}, "start_level must be a positive integer"),
    ({"incident_id": "inc-0123456789abcdef"}, "Incident inc-0123456789abcdef does not exist"),
])
def test_invalid_input_is_answered_with_a_reason(steps, request_doc, reason):
    answer = _validate(steps, request_doc)
    assert answer["valid"] is False
    assert reason in answer["reason"]


def test_start_level_beyond_the_matrix_is_refused(steps, incident):
    assert "between 1 and 4" in _validate(steps, {"incident_id": incident.id, "start_level": 5})["reason"]


def test_acknowledged_incident_does_not_escalate(steps, service, incident):
    service.acknowledge(incident.id, "alice")
    assert "acknowledged" in _validate(steps, {"incident_id": incident.id})["reason"]


def test_misconfigured_policy_is_a_reason_not_a_crash(steps, incident, monkeypatch):
    from chalicelib import wiring

    monkeypatch.setenv("INCIDENT_RESPONSE_SECONDS", "P0=1")
    wiring.reset()
    assert "misconfigured" in _validate(steps, {"incident_id": incident.id})["reason"]


def test_page_skips_an_incident_that_is_no_longer_triggered(steps, service, incident):
    plan = _validate(steps, {"incident_id": incident.id})
    service.acknowledge(incident.id, "alice")
    assert steps.page(plan) == {"paged": False, "status": "acknowledged"}


def test_failed_publish_is_recorded_and_raised_by_name(incidents_table, signer, clock, incident, wired):
    steps = make_steps(wired, incidents_table, signer, clock, sns=FailingSns(), sfn=None)
    plan = _validate(steps, {"incident_id": incident.id})
    with pytest.raises(PagePublishFailed):
        steps.page(plan)
    assert incidents_table.get(incident.id).timeline[-1].kind == "page_failed"


def test_await_ack_stores_the_token(steps, incidents_table, incident):
    answer = steps.await_ack({"incident_id": incident.id, "level": 1, "timeout_seconds": 900,
                              "task_token": "token-1", "execution": "arn:exec"})
    stored = incidents_table.get(incident.id)
    assert answer == {"waiting": True}
    assert (stored.task_token, stored.escalation_status) == ("token-1", "awaiting_ack")


def test_await_ack_after_an_ack_returns_the_token_at_once(steps, service, incident):
    service.acknowledge(incident.id, "alice")
    answer = steps.await_ack({"incident_id": incident.id, "level": 1, "timeout_seconds": 900,
                              "task_token": "token-2"})
    assert answer == {"waiting": False, "status": "acknowledged"}
    assert steps._sfn.successes[0][0] == "token-2"


def test_record_failure_marks_the_escalation_failed(steps, incidents_table, incident):
    steps.record_failure({"incident_id": incident.id, "reason": "error",
                          "error": {"Error": "PagePublishFailed", "Cause": "topic gone"}})
    stored = incidents_table.get(incident.id)
    assert stored.escalation_status == "failed"
    assert stored.timeline[-1].message == "Escalation failed: PagePublishFailed: topic gone"


def test_record_exhausted(steps, incidents_table, incident):
    steps.record_failure({"incident_id": incident.id, "reason": "exhausted", "repeats": 3})
    assert incidents_table.get(incident.id).escalation_status == "exhausted"
