"""statemachines/escalation.asl.json executed for real by moto, pages read back from SQS."""
from __future__ import annotations

import json
import threading
import uuid

import pytest

from chalicelib.incidents.model import RESOLVED

pytestmark = pytest.mark.usefixtures("moto_stack")


def _finished(stack, execution_arn: str, within: float = 10) -> dict:
    done = threading.Event()
    sfn = stack.clients["stepfunctions"]
    while not done.wait(0.02):
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        within -= 0.02
        if within <= 0:
            raise AssertionError(f"execution still running: {execution_arn}")
    raise AssertionError("unreachable")


def _open(service, severity="P0", fingerprint=None):
    fingerprint = fingerprint or f"slo:availability:page:{uuid.uuid4().hex[:6]}"
    incident, created = service.trigger(fingerprint, severity, "Availability burning budget fast", "slo",
                                        {"burn_rate_1h": 14.6, "budget_remaining": 0.42},
                                        runbook="runbooks/incident-manual.md")
    assert created
    return incident


def test_no_ack_pages_all_four_levels_in_order_with_the_severity_timeout(moto_stack, sfn_service, ack_waits):
    incident = _open(sfn_service, "P0")
    for level in (1, 2, 3, 4):
        wait = ack_waits.next()
        assert wait.timeout == 900
        pages = moto_stack.inbox.take_all()
        assert [len(pages[n]) for n in (1, 2, 3, 4)] == [1 if n == level else 0 for n in (1, 2, 3, 4)]
        assert pages[level][0]["incident_id"] == incident.id
        assert pages[level][0]["level"] == level
        wait.expire()
    ack_waits.next()  # repeating level 4
    sfn_service.resolve(incident.id, actor="test")
    assert _finished(moto_stack, sfn_service.get(incident.id).escalation_execution)["status"] == "SUCCEEDED"


def test_timeouts_follow_the_incident_severity(moto_stack, sfn_service, ack_waits):
    incident = _open(sfn_service, "P2", fingerprint=f"breaker:database:{uuid.uuid4().hex[:6]}")
    wait = ack_waits.next()
    assert wait.timeout == 4 * 3600
    sfn_service.acknowledge(incident.id, actor="alice")


def test_ack_at_level_two_pages_nobody_at_level_three(moto_stack, sfn_service, ack_waits):
    incident = _open(sfn_service, "P1")
    ack_waits.next().expire()
    ack_waits.next()
    sfn_service.acknowledge(incident.id, actor="bob")
    execution = _finished(moto_stack, sfn_service.get(incident.id).escalation_execution)
    assert execution["status"] == "SUCCEEDED"
    assert moto_stack.inbox.counts() == [1, 1, 0, 0]
    ack_waits.assert_none_pending()
    stored = sfn_service.get(incident.id)
    assert (stored.status, stored.acknowledged_by, stored.escalation_level) == ("acknowledged", "bob", 2)


def test_last_level_repeats_at_the_same_interval_until_resolved(moto_stack, sfn_service, ack_waits):
    incident = _open(sfn_service, "P0")
    for _ in range(3):
        ack_waits.next().expire()
    repeats = [ack_waits.next()]
    for _ in range(2):
        repeats[-1].expire()
        repeats.append(ack_waits.next())
    assert [wait.timeout for wait in repeats] == [900, 900, 900]
    assert [page["repeat"] for page in moto_stack.inbox.take(4)] == [0, 1, 2]
    sfn_service.resolve(incident.id, actor="carol")
    assert _finished(moto_stack, sfn_service.get(incident.id).escalation_execution)["status"] == "SUCCEEDED"
    assert sfn_service.get(incident.id).status == RESOLVED


def test_page_carries_subject_runbook_and_signed_ack_link(moto_stack, sfn_service, ack_waits):
    incident = _open(sfn_service, "P1")
    ack_waits.next()
    page = moto_stack.inbox.take(1)[0]
    assert page["subject"] == "[P1] Availability burning budget fast"
    assert page["runbook_url"].endswith("/incident-manual.md")
    assert f"/sre/incidents/{incident.id}/ack-link?" in page["ack"]["url"]
    assert page["details"] == {"burn_rate_1h": 14.6, "budget_remaining": 0.42}
    sfn_service.acknowledge(incident.id, actor="dave")


def test_invalid_input_fails_at_the_first_state_with_the_reason(moto_stack, sfn_service):
    sfn = moto_stack.clients["stepfunctions"]
    execution = sfn.start_execution(stateMachineArn=moto_stack.machines["escalation"], name="bad-input",
                                    input=json.dumps({"incident": "nope"}))["executionArn"]
    result = _finished(moto_stack, execution)
    assert (result["status"], result["error"]) == ("FAILED", "InvalidEscalationInput")
    assert "Unknown input field(s): incident" in result["cause"]


def test_unknown_incident_fails_with_the_reason(moto_stack, sfn_service):
    sfn = moto_stack.clients["stepfunctions"]
    execution = sfn.start_execution(stateMachineArn=moto_stack.machines["escalation"], name="unknown-incident",
                                    input=json.dumps({"incident_id": "inc-0123456789abcdef"}))["executionArn"]
    result = _finished(moto_stack, execution)
    assert result["error"] == "InvalidEscalationInput"
    assert result["cause"] == "Incident inc-0123456789abcdef does not exist"


def test_publish_failures_are_retried_recorded_and_end_visibly(moto_stack, sfn_service, ack_waits,
                                                                retry_sleeps, monkeypatch):
    moto_stack.clients["sns"].delete_topic(TopicArn=moto_stack.topic)
    try:
        incident = _open(sfn_service, "P1", fingerprint=f"breaker:webhook:{uuid.uuid4().hex[:6]}")
        result = _finished(moto_stack, sfn_service.get(incident.id).escalation_execution)
    finally:
        moto_stack.clients["sns"].create_topic(Name=moto_stack.topic.rsplit(":", 1)[1])
    assert (result["status"], result["error"]) == ("FAILED", "EscalationFailed")
    stored = sfn_service.get(incident.id)
    kinds = [event.kind for event in stored.timeline]
    assert kinds.count("page_failed") == 5
    assert kinds[-1] == "escalation_error"
    assert stored.escalation_status == "failed"
    assert stored.status == "triggered"
    assert retry_sleeps == [2, 4, 8, 16]


def test_provisioning_answers_state_machine_arns_and_is_repeatable(moto_stack):
    from devstack.statemachines import provision_statemachines

    assert moto_stack.machines["escalation"].endswith(":stateMachine:serverless-sre-escalation")
    again = provision_statemachines(moto_stack.endpoint, "us-east-1", moto_stack.resources)
    assert again == moto_stack.machines


def test_escalation_that_runs_out_of_repeats_ends_visibly(moto_stack, sfn_service, ack_waits, monkeypatch):
    from chalicelib import wiring

    monkeypatch.setenv("ESCALATION_MAX_REPEATS", "1")
    wiring.reset()
    incident = _open(sfn_service, "P3")
    for _ in range(5):  # four levels and one repeat of the last
        ack_waits.next().expire()
    result = _finished(moto_stack, sfn_service.get(incident.id).escalation_execution)
    assert (result["status"], result["error"]) == ("FAILED", "EscalationExhausted")
    stored = sfn_service.get(incident.id)
    assert (stored.status, stored.escalation_status) == ("triggered", "exhausted")
    assert stored.timeline[-1].kind == "escalation_exhausted"


def test_an_await_ack_task_that_fails_ends_the_escalation_visibly(moto_stack, sfn_service, ack_waits, monkeypatch):
    import functions.escalation_await_ack as await_ack

    def broken(event, context):
        raise RuntimeError("the incidents table refused the task token")

    monkeypatch.setattr(await_ack, "handler", broken)
    incident = _open(sfn_service, "P2")
    result = _finished(moto_stack, sfn_service.get(incident.id).escalation_execution)
    assert (result["status"], result["error"]) == ("FAILED", "EscalationFailed")
    stored = sfn_service.get(incident.id)
    assert stored.escalation_status == "failed" and stored.status == "triggered"
    assert [event.kind for event in stored.timeline][-1] == "escalation_error"


def _paged_levels(incident) -> list[int]:
    return [event.data["level"] for event in incident.timeline if event.kind == "paged"]


def test_an_escalation_whose_workflow_was_lost_is_resumed_at_the_level_it_had_reached(
        moto_stack, sfn_service, ack_waits):
    """The workflow gone while nobody acknowledged (the local embedded AWS restarted, or stopped from the
    console): the sweeper starts it again at the level last paged, once, and the timeline says why."""
    from datetime import datetime, timezone

    from functions import escalation_sweeper

    for leftover in sfn_service.open_before(datetime.now(timezone.utc)):  # the sweeper would take them too
        sfn_service.resolve(leftover.id, actor="test")
    incident = _open(sfn_service, "P1")
    ack_waits.next().expire()
    waiting = ack_waits.next()  # at level 2
    assert _paged_levels(sfn_service.get(incident.id)) == [1, 2]
    lost = sfn_service.get(incident.id).escalation_execution
    moto_stack.clients["stepfunctions"].stop_execution(executionArn=lost, cause="lost")
    waiting.expire()  # moto's stop does not end a pending wait by itself (it then reports FAILED)
    ended = _finished(moto_stack, lost)["status"]
    assert escalation_sweeper.handler({}, None) == {"resumed": [incident.id]}
    ack_waits.next()
    resumed = sfn_service.get(incident.id)
    assert _paged_levels(resumed) == [1, 2, 2]
    assert resumed.escalation_execution != lost
    assert [event.kind for event in resumed.timeline][-4:] == [
        "escalation_lost", "escalation_started", "paged", "awaiting_ack"]
    assert resumed.timeline[-4].message == (
        f"Escalation workflow ended ({ended}) while nobody had acknowledged; resuming at level 2")
    assert escalation_sweeper.handler({}, None) == {"resumed": []}  # the new one runs
    sfn_service.acknowledge(incident.id, actor="alice")
    assert _finished(moto_stack, resumed.escalation_execution)["status"] == "SUCCEEDED"
    assert escalation_sweeper.handler({}, None) == {"resumed": []}  # acknowledged: nothing to resume
