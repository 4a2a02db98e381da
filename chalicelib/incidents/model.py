"""The incident as the domain sees it, independent of storage."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Mapping, Optional

SEVERITIES = ("P0", "P1", "P2", "P3")  # most severe first
SOURCES = ("slo", "breaker", "chaos", "manual")

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
MITIGATED = "mitigated"
RESOLVED = "resolved"
STATUSES = (TRIGGERED, ACKNOWLEDGED, MITIGATED, RESOLVED)
OPEN_STATUSES = (TRIGGERED, ACKNOWLEDGED, MITIGATED)

# Mitigating implies someone acknowledged; resolving implies mitigation. A resolve without an
# ack (a breaker that closed by itself) leaves acknowledged_at empty, so it does not skew MTTA.
IMPLIES = {ACKNOWLEDGED: (), MITIGATED: (ACKNOWLEDGED,), RESOLVED: (MITIGATED,)}

DEFAULT_RUNBOOK = "runbooks/incident-manual.md"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_incident_id() -> str:
    return f"inc-{uuid.uuid4().hex[:16]}"


def is_incident_id(value: str) -> bool:
    return (isinstance(value, str) and len(value) == 20 and value.startswith("inc-")
            and all(char in "0123456789abcdef" for char in value[4:]))


class IncidentMissing(Exception):
    pass


class TransitionRejected(Exception):
    """The incident's status does not allow the action (e.g. ack of a resolved incident)."""

    def __init__(self, incident_id: str, status: str, action: str) -> None:
        super().__init__(f"Incident {incident_id} is {status}; it cannot be {action}")
        self.status = status
        self.action = action


@dataclass(frozen=True)
class TimelineEvent:
    at: str
    kind: str
    message: str
    actor: Optional[str] = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"at": self.at, "kind": self.kind, "message": self.message}
        if self.actor:
            body["actor"] = self.actor
        if self.data:
            body["data"] = dict(self.data)
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "TimelineEvent":
        return cls(at=body["at"], kind=body["kind"], message=body["message"], actor=body.get("actor"),
                   data=dict(body.get("data") or {}))


@dataclass(frozen=True)
class Incident:
    id: str
    fingerprint: str
    severity: str
    title: str
    source: str
    status: str
    opened_at: str
    runbook: str = DEFAULT_RUNBOOK
    # What the incident is about (an SLO or breaker name): where a chaos experiment would run.
    target: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    trigger_count: int = 1
    acknowledged_at: Optional[str] = None
    acknowledged_by: Optional[str] = None
    mitigated_at: Optional[str] = None
    resolved_at: Optional[str] = None
    resolved_by: Optional[str] = None
    escalation_level: int = 0
    escalation_status: str = "not_started"
    escalation_execution: Optional[str] = None
    task_token: Optional[str] = None
    experiment_ids: tuple[str, ...] = ()
    # Triggers not yet recovered (alert ids, breaker names); auto-resolve waits for all of them.
    open_signals: tuple[str, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    # The severity before the last raise (a page then says it was raised).
    previous_severity: Optional[str] = None
    # Since when nothing has fired; the incident resolves once this is a hold-down period ago.
    quiet_since: Optional[str] = None
    linked_tickets: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def with_timeline(self, *events: TimelineEvent) -> "Incident":
        return replace(self, timeline=self.timeline + tuple(events))

    def to_json(self, *, with_timeline: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "fingerprint": self.fingerprint, "severity": self.severity, "title": self.title,
            "source": self.source, "target": self.target, "status": self.status, "summary": self.summary, "runbook": self.runbook,
            "details": dict(self.details), "opened_at": self.opened_at, "trigger_count": self.trigger_count,
            "acknowledged_at": self.acknowledged_at, "acknowledged_by": self.acknowledged_by,
            "mitigated_at": self.mitigated_at, "resolved_at": self.resolved_at, "resolved_by": self.resolved_by,
            "escalation": {"level": self.escalation_level, "status": self.escalation_status,
                           "execution": self.escalation_execution},
            "experiment_ids": list(self.experiment_ids), "open_signals": list(self.open_signals),
            "previous_severity": self.previous_severity, "quiet_since": self.quiet_since,
            "linked_tickets": list(self.linked_tickets),
        }
        if with_timeline:
            body["timeline"] = [event.to_json() for event in self.timeline]
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Incident":
        """The incident as ``to_json`` shows it (the escalation's task token is never shown, so it is None)."""
        escalation = body.get("escalation") or {}
        return cls(
            id=body["id"], fingerprint=body["fingerprint"], severity=body["severity"], title=body["title"],
            source=body["source"], status=body["status"], opened_at=body["opened_at"],
            runbook=body.get("runbook", DEFAULT_RUNBOOK), target=body.get("target", ""),
            details=dict(body.get("details") or {}), summary=body.get("summary", ""),
            trigger_count=int(body.get("trigger_count", 1)), acknowledged_at=body.get("acknowledged_at"),
            acknowledged_by=body.get("acknowledged_by"), mitigated_at=body.get("mitigated_at"),
            resolved_at=body.get("resolved_at"), resolved_by=body.get("resolved_by"),
            escalation_level=int(escalation.get("level", 0)), escalation_status=escalation.get("status", "not_started"),
            escalation_execution=escalation.get("execution"),
            experiment_ids=tuple(body.get("experiment_ids") or ()), open_signals=tuple(body.get("open_signals") or ()),
            timeline=tuple(TimelineEvent.from_json(event) for event in body.get("timeline") or ()),
            previous_severity=body.get("previous_severity"), quiet_since=body.get("quiet_since"),
            linked_tickets=tuple(body.get("linked_tickets") or ()))

def more_severe(first: str, second: str) -> bool:
    return SEVERITIES.index(first) < SEVERITIES.index(second)
