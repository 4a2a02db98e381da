"""Opening, deduplicating, responding to and auto-resolving incidents (DynamoDB in moto)."""
from __future__ import annotations

import time

import pytest

from chalicelib.incidents.model import IncidentMissing, TransitionRejected


def _trigger(service, fingerprint="breaker:database", **extra):
    return service.trigger(fingerprint, extra.pop("severity", "P2"), "Circuit breaker database is open",
                           extra.pop("source", "breaker"), {"failures": 5}, **extra)


def test_trigger_opens_a_triggered_incident_and_starts_escalation(service, escalations):
    incident, created = _trigger(service)
    stored = service.get(incident.id)
    assert created
    assert (stored.status, stored.severity, stored.escalation_status) == ("triggered", "P2", "running")
    assert escalations.started == [incident.id]
    assert [event.kind for event in stored.timeline] == ["triggered", "escalation_started"]


def test_second_trigger_with_same_fingerprint_adds_timeline_event_and_pages_nobody(service, escalations):
    first, _ = _trigger(service)
    second, created = _trigger(service)
    assert not created
    assert second.id == first.id
    assert second.trigger_count == 2
    assert second.timeline[-1].kind == "retriggered"
    assert escalations.started == [first.id]


def test_resolved_fingerprint_opens_a_new_incident(service):
    first, _ = _trigger(service)
    service.resolve(first.id, "alice")
    second, created = _trigger(service)
    assert created and second.id != first.id


def test_ack_stamps_who_and_when_and_sends_the_task_token(service, escalations, incidents_table, clock):
    incident, _ = _trigger(service)
    incidents_table.await_ack(incident.id, _event(clock), "token-1", None)
    clock.advance(minutes=3)
    acked, changed = service.acknowledge(incident.id, "alice")
    assert changed
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", "alice")
    assert acked.acknowledged_at == "2026-01-05T09:03:00.000000Z"
    assert escalations.stopped == [("token-1", {"outcome": "acknowledged", "by": "alice"})]
    assert service.get(incident.id).escalation_status == "stopped_acknowledged"


def _event(clock):
    from chalicelib.incidents.model import TimelineEvent, iso

    return TimelineEvent(at=iso(clock()), kind="awaiting_ack", message="waiting")


def test_double_ack_is_idempotent(service, escalations, incidents_table, clock):
    incident, _ = _trigger(service)
    incidents_table.await_ack(incident.id, _event(clock), "token-1", None)
    service.acknowledge(incident.id, "alice")
    again, changed = service.acknowledge(incident.id, "bob")
    assert not changed
    assert again.acknowledged_by == "alice"
    assert len(escalations.stopped) == 1


def test_ack_of_resolved_incident_is_rejected(service):
    incident, _ = _trigger(service)
    service.resolve(incident.id, "alice")
    with pytest.raises(TransitionRejected):
        service.acknowledge(incident.id, "bob")


def test_ack_of_unknown_incident_raises_missing(service):
    with pytest.raises(IncidentMissing):
        service.acknowledge("inc-0123456789abcdef", "bob")


def test_mitigate_implies_acknowledged(service, clock):
    incident, _ = _trigger(service)
    clock.advance(minutes=10)
    mitigated, _ = service.mitigate(incident.id, "alice", "rolled back")
    assert mitigated.status == "mitigated"
    assert mitigated.acknowledged_at == mitigated.mitigated_at == "2026-01-05T09:10:00.000000Z"
    assert mitigated.acknowledged_by == "alice"


def test_resolve_without_ack_leaves_acknowledged_at_empty(service):
    incident, _ = _trigger(service)
    resolved, _ = service.resolve(incident.id, "auto")
    assert resolved.status == "resolved"
    assert resolved.acknowledged_at is None
    assert resolved.mitigated_at == resolved.resolved_at


def test_recovery_auto_resolves_per_configuration(service):
    incident, _ = _trigger(service)
    service.signal_recovered("breaker:database", "breaker database closed")
    stored = service.get(incident.id)
    assert stored.status == "resolved"
    assert stored.resolved_by == "auto-resolve (breaker)"
    assert [event.kind for event in stored.timeline][-2:] == ["recovered", "resolved"]


def test_recovery_only_notes_when_auto_resolve_is_off(monkeypatch, incidents_table, escalations, clock):
    from chalicelib.incidents.policy import EscalationPolicy
    from chalicelib.incidents.service import IncidentService

    from chalicelib.settings import Settings

    monkeypatch.setenv("INCIDENT_AUTO_RESOLVE_SOURCES", "slo")
    service = IncidentService(incidents_table, escalations,
                              EscalationPolicy.from_settings(Settings.from_env().incidents), clock=clock)
    incident, _ = _trigger(service)
    service.signal_recovered("breaker:database", "breaker database closed")
    stored = service.get(incident.id)
    assert stored.status == "triggered"
    assert "auto-resolve is off" in stored.timeline[-1].message


def test_incident_stays_open_while_another_trigger_still_fires(service):
    incident, _ = service.trigger("slo:availability:page", "P1", "Availability burn", "slo", signal="page-fast/1")
    service.trigger("slo:availability:page", "P1", "Availability burn", "slo", signal="page-slow/1")
    service.signal_recovered("slo:availability:page", "page-fast resolved", signal="page-fast/1")
    assert service.get(incident.id).status == "triggered"
    service.signal_recovered("slo:availability:page", "page-slow resolved", signal="page-slow/1")
    assert service.get(incident.id).status == "resolved"


def test_escalation_that_cannot_start_is_recorded_not_lost(incidents_table, clock):
    from chalicelib.incidents.policy import EscalationPolicy
    from chalicelib.incidents.service import IncidentService, StepFunctionsEscalations

    from chalicelib.settings import IncidentSettings

    service = IncidentService(incidents_table, StepFunctionsEscalations("", client=None),
                              EscalationPolicy.from_settings(IncidentSettings()), clock=clock)
    incident, created = _trigger(service)
    stored = service.get(incident.id)
    assert created and stored.escalation_status == "failed"
    assert "ESCALATION_STATE_MACHINE_ARN is not set" in stored.timeline[-1].message


def test_stale_task_token_leaves_escalation_status_alone(service, escalations, incidents_table, clock):
    incident, _ = _trigger(service)
    incidents_table.await_ack(incident.id, _event(clock), "token-1", None)
    escalations.stale = True
    acked, _ = service.acknowledge(incident.id, "alice")
    assert acked.status == "acknowledged"
    assert service.get(incident.id).escalation_status == "awaiting_ack"


def test_list_filters_by_status_and_severity_newest_first(service, clock):
    first, _ = _trigger(service, "a", severity="P1")
    clock.advance(minutes=1)
    second, _ = _trigger(service, "b", severity="P2")
    clock.advance(minutes=1)
    third, _ = _trigger(service, "c", severity="P1")
    service.resolve(third.id, "alice")
    assert [item.id for item in service.list()] == [third.id, second.id, first.id]
    assert [item.id for item in service.list(severity="P1", status="triggered")] == [first.id]


def test_unknown_severity_is_refused(service):
    with pytest.raises(ValueError):
        _trigger(service, severity="P9")


def test_running_experiment_on_the_target_is_recorded_on_the_incident(incidents_table, escalations, clock):
    from chalicelib.incidents.experiments import ActiveExperiment
    from chalicelib.incidents.policy import EscalationPolicy
    from chalicelib.incidents.service import IncidentService

    class OneExperiment:
        def active_for(self, target):
            return ActiveExperiment("exp-9", target, "latency") if target == "database" else None

    from chalicelib.settings import IncidentSettings

    service = IncidentService(incidents_table, escalations, EscalationPolicy.from_settings(IncidentSettings()),
                              experiments=OneExperiment(), clock=clock)
    incident, _ = _trigger(service, target="database")
    stored = service.get(incident.id)
    assert stored.experiment_ids == ("exp-9",)
    assert stored.timeline[0].data == {"experiment_id": "exp-9"}


def test_a_raised_severity_aborts_the_running_escalation_in_step_functions(incidents_table, clock, wired,
                                                                         boto_session):
    """abort() called a client method the class does not have: every severity raise logged 'Escalation not
    aborted' (AttributeError) and left the old escalation paging on its own deadline beside the new one.
    Driven as the SLO evaluator drives it, so its policy is proven to allow the call."""
    import json

    from chalicelib.incidents.service import IncidentService, StepFunctionsEscalations
    from devstack.aws_calls import attributed

    sfn = boto_session.client("stepfunctions")
    role = boto_session.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = sfn.create_state_machine(name="serverless-sre-escalation", roleArn=role, definition=json.dumps(
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}))["stateMachineArn"]
    service = IncidentService(incidents_table, StepFunctionsEscalations(machine, client=sfn),
                              wired.escalation_policy(), clock=clock)
    with attributed("slo-evaluator"):
        first, action = service.hold_open("slo:latency:page", "P1", "Latency burns", "slo")
        raised, action = service.hold_open("slo:latency:page", "P0", "Latency burns", "slo", cause="faster tier")
    assert action == "raised" and raised.escalation_execution != first.escalation_execution
    # moto's execution thread takes the stop when it next runs: on a busy machine, a moment later.
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=first.escalation_execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the first escalation was not stopped"
        time.sleep(0.05)
    statuses = {arn: sfn.describe_execution(executionArn=arn)["status"]
                for arn in (first.escalation_execution, raised.escalation_execution)}
    assert statuses == {first.escalation_execution: "ABORTED", raised.escalation_execution: "RUNNING"}
    assert StepFunctionsEscalations(machine, client=sfn).abort(
        first.escalation_execution.replace(first.id, "inc-gone"), "gone") is False
