"""Opening, acknowledging, mitigating and resolving incidents.

``IncidentService`` is what the API, the SLO sink and the breaker listener call.
It owns the rules (deduplication, severity, auto-resolve) and hands escalation to
Step Functions through ``StepFunctionsEscalations``.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Protocol

from chalicelib.aws import is_execution_gone
from chalicelib.incidents.experiments import ActiveExperiment, ExperimentLookup, NoExperiments
from chalicelib.incidents.model import (
    ACKNOWLEDGED, DEFAULT_RUNBOOK, MITIGATED, RESOLVED, SEVERITIES, SOURCES, TRIGGERED, Incident,
    TimelineEvent, iso, more_severe, new_incident_id, parse_iso, utc_now)
from chalicelib.incidents.policy import EscalationPolicy

if TYPE_CHECKING:
    from chalicelib.http.cursor import Position

# Errors SendTaskSuccess answers when the task already ended (timed out at that very moment,
# or the escalation was stopped): the next escalation step sees the status and stops by itself.
STALE_TOKEN_ERRORS = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
# Escalation states of a workflow that should still be running; "failed" and "exhausted" are
# recorded ends, "stopped_*" follow an acknowledgement or resolution.
ESCALATING = ("running", "paging", "awaiting_ack")


class EscalationUnavailable(Exception):
    pass


class IncidentTrigger(Protocol):
    """What alert sources call: open (deduplicated) and report recovery."""

    def trigger(self, fingerprint: str, severity: str, title: str, source: str,
                details: Optional[Mapping[str, Any]] = None, **extra: Any) -> tuple[Incident, bool]: ...

    def signal_recovered(self, fingerprint: str, reason: str,
                         signal: Optional[str] = None) -> Optional[Incident]: ...


class Escalations(Protocol):
    """Starts and stops an incident's escalation workflow."""

    def start(self, incident: Incident, start_level: int = 1) -> str: ...

    def stop(self, task_token: str, outcome: Mapping[str, Any]) -> bool: ...

    def status(self, execution_arn: str) -> str: ...


class IncidentStore(Protocol):
    """Where incidents live (``chalicelib.incidents.store``); the contract suite pins its behaviour."""

    def get(self, incident_id: str) -> Incident: ...

    def list(self, *, status: Optional[str] = None, severity: Optional[str] = None,
             since: Optional[str] = None, limit: Optional[int] = None,
             after: Optional[Position] = None) -> list[Incident]:
        """Newest first, ties on ``opened_at`` by id (highest first); only those after ``after``."""

    def open_before(self, before: str) -> list[Incident]: ...

    def create(self, incident: Incident) -> tuple[Incident, bool]: ...

    def open_incident_for(self, fingerprint: str) -> Optional[Incident]: ...

    def append(self, incident_id: str, event: TimelineEvent, **fields: Any) -> Optional[Incident]: ...

    def record_retrigger(self, incident_id: str, event: TimelineEvent, signal: str) -> Optional[Incident]: ...

    def clear_signal(self, incident_id: str, signal: str, event: TimelineEvent) -> Optional[Incident]: ...

    def transition(self, incident_id: str, target: str, event: TimelineEvent,
                   actor: str) -> tuple[Incident, bool]: ...

    def await_ack(self, incident_id: str, event: TimelineEvent, task_token: str,
                  execution: Optional[str]) -> Optional[Incident]: ...

    def use_ack_link(self, incident_id: str, nonce: str) -> bool: ...

    def ack_link_used(self, incident_id: str, nonce: str) -> bool: ...

    def release_ack_link(self, incident_id: str, nonce: str) -> None: ...

    def take_over_escalation(self, incident_id: str, execution: str, event: TimelineEvent) -> Optional[Incident]: ...


class StepFunctionsEscalations:
    def __init__(self, state_machine_arn: str, client: Any) -> None:
        self._arn = state_machine_arn
        self._client = client

    def start(self, incident: Incident, start_level: int = 1) -> str:
        if not self._arn:
            raise EscalationUnavailable("ESCALATION_STATE_MACHINE_ARN is not set")
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {"incident_id": incident.id}
        if start_level != 1:
            request["start_level"] = start_level
        try:
            response = self._client.start_execution(
                stateMachineArn=self._arn, name=f"{incident.id}-{uuid.uuid4().hex[:8]}",
                input=json.dumps(request))
        except (BotoCoreError, ClientError) as exc:
            raise EscalationUnavailable(f"StartExecution failed: {exc}") from exc
        return response["executionArn"]

    def abort(self, execution_arn: str, reason: str) -> bool:
        """Stop an escalation wherever it is (a restart at a new severity); False when it had ended."""
        from botocore.exceptions import ClientError

        try:
            self._client.stop_execution(executionArn=execution_arn, cause=reason[:32768])
        except ClientError as exc:
            if is_execution_gone(exc):
                return False
            raise
        return True

    def status(self, execution_arn: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or GONE when Step Functions no longer knows it."""
        from botocore.exceptions import ClientError

        try:
            return self._client.describe_execution(executionArn=execution_arn)["status"]
        except ClientError as exc:
            if is_execution_gone(exc):
                return "GONE"
            raise

    def stop(self, task_token: str, outcome: Mapping[str, Any]) -> bool:
        """Send the token back; False when the task had already ended."""
        from botocore.exceptions import ClientError

        try:
            self._client.send_task_success(taskToken=task_token, output=json.dumps(dict(outcome)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in STALE_TOKEN_ERRORS:
                return False
            raise
        return True


def _logger() -> Any:
    from chalicelib.observability.logging import get_logger

    return get_logger()


class IncidentService:
    def __init__(self, store: "IncidentStore", escalations: Escalations, policy: EscalationPolicy,
                 experiments: Optional[ExperimentLookup] = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._escalations = escalations
        self._policy = policy
        self._experiments = experiments or NoExperiments()
        self._clock = clock

    def _event(self, kind: str, message: str, actor: Optional[str] = None, **data: Any) -> TimelineEvent:
        return TimelineEvent(at=iso(self._clock()), kind=kind, message=message, actor=actor,
                             data={key: value for key, value in data.items() if value is not None})

    # -- reading ---------------------------------------------------------------------------------
    def get(self, incident_id: str) -> Incident:
        return self._store.get(incident_id)

    def open_incident_for(self, fingerprint: str) -> Optional[Incident]:
        return self._store.open_incident_for(fingerprint)

    def list(self, *, status: Optional[str] = None, severity: Optional[str] = None,
             since: Optional[str] = None, limit: Optional[int] = None,
             after: Optional[Position] = None) -> list[Incident]:
        return self._store.list(status=status, severity=severity, since=since, limit=limit, after=after)

    def opened_since(self, window: timedelta) -> tuple[list[Incident], datetime, datetime]:
        end = self._clock()
        start = end - window
        return self._store.list(since=iso(start)), start, end

    def open_before(self, moment: datetime) -> list[Incident]:
        """Incidents opened before ``moment`` and not yet resolved, newest first."""
        return self._store.open_before(iso(moment))

    # -- opening ---------------------------------------------------------------------------------
    def trigger(self, fingerprint: str, severity: str, title: str, source: str,
                details: Optional[Mapping[str, Any]] = None, *, summary: str = "",
                runbook: Optional[str] = None, target: Optional[str] = None, signal: Optional[str] = None,
                actor: Optional[str] = None) -> tuple[Incident, bool]:
        """Open an incident, or add a trigger event to the open one with this fingerprint (no new page).

        ``signal`` names this trigger (an alert id; default the fingerprint) so that recovery of one
        of several triggers behind one incident does not resolve it while others still fire.
        """
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        details = dict(details or {})
        signal = signal or fingerprint
        target = target or fingerprint
        experiment = self._experiments.active_for(target)
        opened = self._event("triggered", f"{severity} incident opened from {source}: {title}", actor,
                             experiment_id=experiment.id if experiment else None)
        candidate = Incident(
            id=new_incident_id(), fingerprint=fingerprint, severity=severity, title=title, source=source,
            status=TRIGGERED, opened_at=opened.at, runbook=runbook or DEFAULT_RUNBOOK, target=target,
            details=details,
            summary=_with_chaos_line(summary or title, experiment),
            experiment_ids=(experiment.id,) if experiment else (),
            open_signals=(signal,), timeline=(opened,))
        incident, created = self._store.create(candidate)
        if not created:
            retriggered = self._store.record_retrigger(incident.id, self._event(
                "retriggered", f"Triggered again by {source} (deduplicated, nobody paged again)", actor,
                severity=severity, signal=signal, details=details or None), signal)
            # An incident opened before the experiment started is not the experiment's doing: it stays
            # unlinked (and counted in MTBF) even when it fires again during the run.
            return retriggered or incident, False
        return self._start_escalation(incident), True

    def resume_lost_escalations(self) -> list[Incident]:
        """Start again the escalation of every triggered incident whose workflow ended without an
        acknowledgement and without recording why (its execution lost with the Step Functions state,
        or stopped from the console): otherwise nobody would be paged for it again, while the incident
        still says it awaits an acknowledgement. It resumes at the level last paged."""
        resumed = []
        for incident in self._store.open_before(iso(self._clock())):
            if (incident.status != TRIGGERED or incident.escalation_status not in ESCALATING
                    or not incident.escalation_execution):
                continue
            status = self._escalations.status(incident.escalation_execution)
            if status == "RUNNING":
                continue
            level = incident.escalation_level or 1
            claimed = self._store.take_over_escalation(incident.id, incident.escalation_execution, self._event(
                "escalation_lost", f"Escalation workflow ended ({status}) while nobody had acknowledged; "
                                   f"resuming at level {level}", execution=incident.escalation_execution,
                status=status, level=level))
            if claimed is not None:
                resumed.append(self._start_escalation(claimed, start_level=level))
        return resumed

    def _start_escalation(self, incident: Incident, start_level: int = 1) -> Incident:
        try:
            execution = self._escalations.start(incident, start_level=start_level)
        except EscalationUnavailable as exc:
            _logger().error("Escalation not started", extra={"incident_id": incident.id, "reason": str(exc)})
            return self._store.append(incident.id, self._event(
                "escalation_failed", f"Escalation could not start; nobody was paged: {exc}"),
                escalation_status="failed") or incident
        return self._store.append(incident.id, self._event(
            "escalation_started", "Escalation started", execution=execution),
            escalation_status="running", escalation_execution=execution) or incident

    def signal_recovered(self, fingerprint: str, reason: str, signal: Optional[str] = None) -> Optional[Incident]:
        """The alert resolved or the breaker closed: note it; resolve when the policy says so and
        no other trigger behind the incident is still firing."""
        incident = self._store.open_incident_for(fingerprint)
        if incident is None:
            return None
        signal = signal or fingerprint
        remaining = sorted(set(incident.open_signals) - {signal})
        auto = incident.source in self._policy.auto_resolve_sources
        if remaining:
            suffix = f" (still firing: {', '.join(remaining)})"
        else:
            suffix = "" if auto else " (auto-resolve is off for this source)"
        noted = self._store.clear_signal(incident.id, signal, self._event(
            "recovered", f"Recovered: {reason}{suffix}", signal=signal))
        # Decide on the state the update left (another trigger may have recovered meanwhile).
        if noted is None or noted.open_signals or not auto:
            return noted or incident
        return self.resolve(incident.id, actor=f"auto-resolve ({incident.source})", note=reason)[0]

    # -- sources that report their whole state every run (the SLO loop) -------------------------
    def hold_open(self, fingerprint: str, severity: str, title: str, source: str,
                  details: Optional[Mapping[str, Any]] = None, *, summary: str = "", runbook: Optional[str] = None,
                  target: Optional[str] = None, cause: str = "") -> tuple[Incident, str]:
        """Something fires at ``severity`` now: one open incident per fingerprint follows it.

        Answers the incident and what happened: ``opened`` (paged), ``raised`` (more severe: the
        escalation restarts at the new severity's deadline and its page says it was raised),
        ``lowered`` (noted, nobody paged), ``reopened`` (it fired again within the hold-down: the
        same incident carries on) or ``unchanged``.
        """
        current = self._store.open_incident_for(fingerprint)
        if current is None:
            incident, created = self.trigger(fingerprint, severity, title, source, details, summary=summary,
                                             runbook=runbook, target=target)
            return incident, "opened" if created else "unchanged"
        fields: dict[str, Any] = {}
        notes, action = [], "unchanged"
        if current.quiet_since:
            fields["quiet_since"] = None
            notes.append(f"Fired again within the hold-down (quiet since {current.quiet_since}): "
                         f"the same incident carries on")
            action = "reopened"
        if severity != current.severity:
            raised = more_severe(severity, current.severity)
            action = "raised" if raised else "lowered"
            fields.update(severity=severity, previous_severity=current.severity, details=dict(details or {}),
                          summary=summary or current.summary)
            if raised:
                notes.append(f"Severity raised from {current.severity} to {severity}: {cause or summary}")
            else:
                notes.append(f"Severity lowered from {current.severity} to {severity}: {cause or summary} "
                             f"(nobody paged)")
        if not fields:
            return current, "unchanged"
        kind = {"raised": "severity_raised", "lowered": "severity_lowered"}.get(action, "reopened")
        updated = self._store.update_open(current.id, self._event(kind, "; ".join(notes), severity=severity),
                                          **fields)
        if updated is None:  # resolved meanwhile: this is a new problem
            return self.hold_open(fingerprint, severity, title, source, details, summary=summary, runbook=runbook,
                                  target=target, cause=cause)
        if action == "raised" and updated.status == TRIGGERED:
            updated = self._restart_escalation(updated)
        return updated, action

    def hold_quiet(self, fingerprint: str, at: datetime, hold_down: timedelta,
                   reason: str = "nothing fires") -> tuple[Optional[Incident], str]:
        """Nothing fires now: start the hold-down, or resolve once it has lasted ``hold_down``.

        Answers ``none`` (no open incident), ``holding`` or ``resolved``.
        """
        current = self._store.open_incident_for(fingerprint)
        if current is None:
            return None, "none"
        minutes = f"{hold_down.total_seconds() / 60:g}"
        if not current.quiet_since:
            until = iso(at + hold_down)
            held = self._store.update_open(current.id, self._event(
                "hold_down", f"Quiet: {reason} since {iso(at)}; resolves at {until} unless it fires again "
                             f"(hold-down {minutes} min)"), quiet_since=iso(at))
            return held or current, "holding"
        quiet_since = parse_iso(current.quiet_since)
        if at - quiet_since < hold_down or current.source not in self._policy.auto_resolve_sources:
            return current, "holding"
        resolved, _ = self.resolve(current.id, actor=f"auto-resolve ({current.source})",
                                   note=f"{reason} for the {minutes}-minute hold-down since {current.quiet_since}")
        return resolved, "resolved"

    def link_ticket(self, incident_id: str, ticket_id: str, why: str) -> Optional[Incident]:
        return self._store.link_ticket(incident_id, ticket_id, self._event(
            "ticket_linked", f"Ticket {ticket_id} linked: {why}", ticket_id=ticket_id))

    def _restart_escalation(self, incident: Incident) -> Incident:
        if incident.escalation_execution:
            try:
                self._escalations.abort(incident.escalation_execution, f"severity raised to {incident.severity}")
            except Exception as exc:  # noqa: BLE001 - logged; the new escalation still starts
                # The error's message too: its type alone ("AttributeError") hid that no abort ever worked.
                _logger().warning("Escalation not aborted", extra={
                    "incident_id": incident.id, "execution": incident.escalation_execution,
                    "error": f"{type(exc).__name__}: {exc}"[:300]})
        cleared = self._store.append(incident.id, self._event(
            "escalation_restarted", f"Escalation restarts at {incident.severity}'s deadline"),
            task_token=None) or incident
        return self._start_escalation(cleared)

    # -- responding ------------------------------------------------------------------------------
    def acknowledge(self, incident_id: str, actor: str, note: str = "") -> tuple[Incident, bool]:
        return self._move(incident_id, ACKNOWLEDGED, actor, note)

    def mitigate(self, incident_id: str, actor: str, note: str = "") -> tuple[Incident, bool]:
        return self._move(incident_id, MITIGATED, actor, note)

    def resolve(self, incident_id: str, actor: str, note: str = "") -> tuple[Incident, bool]:
        return self._move(incident_id, RESOLVED, actor, note)

    def consume_ack_link(self, incident_id: str, nonce: str) -> bool:
        """Mark a page's acknowledge link used; False when it already was (links are single use)."""
        return self._store.use_ack_link(incident_id, nonce)

    def ack_link_used(self, incident_id: str, nonce: str) -> bool:
        return self._store.ack_link_used(incident_id, nonce)

    def release_ack_link(self, incident_id: str, nonce: str) -> None:
        """The link ``nonce`` works again: the acknowledgement it was used for could not be stored."""
        self._store.release_ack_link(incident_id, nonce)

    def _move(self, incident_id: str, target: str, actor: str, note: str) -> tuple[Incident, bool]:
        """Raises IncidentMissing / TransitionRejected; idempotent when already there."""
        current = self._store.get(incident_id)
        level = f" at level {current.escalation_level}" if target == ACKNOWLEDGED and current.escalation_level else ""
        message = f"{target.capitalize()} by {actor}{level}" + (f": {note}" if note else "")
        incident, changed = self._store.transition(incident_id, target, self._event(target, message, actor),
                                                    actor)
        if changed and current.status == TRIGGERED:
            incident = self._stop_escalation(incident, target, actor)
        return incident, changed

    def _stop_escalation(self, incident: Incident, outcome: str, actor: str) -> Incident:
        if not incident.task_token:
            return incident
        try:
            stopped = self._escalations.stop(incident.task_token, {"outcome": outcome, "by": actor})
        except Exception as exc:  # the ack is stored; the next escalation step reads it and stops
            _logger().warning("Escalation not signalled; it stops at its next step",
                              extra={"incident_id": incident.id, "error": type(exc).__name__})
            return incident
        if not stopped:
            return incident
        return self._store.append(incident.id, self._event(
            "escalation_stopped", f"Escalation stopped ({outcome})", actor),
            escalation_status=f"stopped_{outcome}") or incident


def _with_chaos_line(summary: str, experiment: Optional[ActiveExperiment]) -> str:
    """An incident opened while an experiment runs on its target says so in its first line."""
    if experiment is None:
        return summary
    return f"CHAOS EXPERIMENT IN PROGRESS: {experiment.id} is running on {experiment.target}.\n{summary}"
