"""An in-memory incident store: the ``IncidentStore`` port of chalicelib/incidents/service.py,
held to the same contract as the DynamoDB store (tests/unit/incidents/test_incident_store_contract.py)."""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Optional

from chalicelib.http.cursor import Position
from chalicelib.incidents.model import (
    ACKNOWLEDGED, IMPLIES, MITIGATED, OPEN_STATUSES, RESOLVED, STATUSES, TRIGGERED, Incident, IncidentMissing,
    TimelineEvent, TransitionRejected)
from chalicelib.incidents.store import MAX_TIMELINE_EVENTS


def _index_order(incident: Incident) -> tuple[str, str]:
    return incident.opened_at, incident.id


_STAMP_FIELDS = {ACKNOWLEDGED: "acknowledged_at", MITIGATED: "mitigated_at", RESOLVED: "resolved_at"}


class InMemoryIncidentStore:
    def __init__(self) -> None:
        self._incidents: dict[str, Incident] = {}
        self._claims: dict[str, str] = {}
        self._used_links: dict[str, set[str]] = {}
        self._lock = threading.RLock()

    def get(self, incident_id: str) -> Incident:
        with self._lock:
            if incident_id not in self._incidents:
                raise IncidentMissing(incident_id)
            return self._incidents[incident_id]

    def open_incident_for(self, fingerprint: str) -> Optional[Incident]:
        with self._lock:
            incident_id = self._claims.get(fingerprint)
            return self._incidents.get(incident_id) if incident_id else None

    def list(self, *, since: Optional[str] = None, status: Optional[str] = None, severity: Optional[str] = None,
             limit: Optional[int] = None, after: Optional[Position] = None) -> list[Incident]:
        """As the ``by_opened`` index reads: newest first, ties on ``opened_at`` by id, highest first."""
        with self._lock:
            chosen = [incident for incident in sorted(self._incidents.values(), key=_index_order, reverse=True)
                      if (since is None or incident.opened_at >= since) and (status is None or incident.status == status)
                      and (severity is None or incident.severity == severity)
                      and (after is None or _index_order(incident) < after)]
        return chosen if limit is None else chosen[:limit]

    def open_before(self, before: str) -> list[Incident]:
        with self._lock:
            return sorted((incident for incident in self._incidents.values()
                           if incident.opened_at < before and incident.status in OPEN_STATUSES),
                          key=_index_order, reverse=True)

    def create(self, incident: Incident) -> tuple[Incident, bool]:
        with self._lock:
            existing = self._claims.get(incident.fingerprint)
            if existing is not None:
                return self._incidents[existing], False
            self._claims[incident.fingerprint] = incident.id
            self._incidents[incident.id] = incident
            return incident, True

    def _change(self, incident_id: str, change: Any, condition: Any = None) -> Optional[Incident]:
        with self._lock:
            current = self.get(incident_id)
            if condition is not None and not condition(current):
                return None
            self._incidents[incident_id] = change(current)
            return self._incidents[incident_id]

    def append(self, incident_id: str, event: TimelineEvent, *, condition: Any = None,
               **fields: Any) -> Optional[Incident]:
        return self._change(incident_id, lambda current: replace(current.with_timeline(event), **fields), condition)

    def record_retrigger(self, incident_id: str, event: TimelineEvent, signal: str) -> Optional[Incident]:
        def change(current: Incident) -> Incident:
            updated = replace(current, trigger_count=current.trigger_count + 1,
                              open_signals=tuple(sorted(set(current.open_signals) | {signal})))
            return updated.with_timeline(event) if len(current.timeline) < MAX_TIMELINE_EVENTS else updated
        return self._change(incident_id, change, lambda current: current.status in OPEN_STATUSES)

    def clear_signal(self, incident_id: str, signal: str, event: TimelineEvent) -> Optional[Incident]:
        return self._change(incident_id, lambda current: replace(
            current, open_signals=tuple(s for s in current.open_signals if s != signal)).with_timeline(event),
            lambda current: current.status in OPEN_STATUSES)

    def update_open(self, incident_id: str, event: TimelineEvent, **fields: Any) -> Optional[Incident]:
        return self.append(incident_id, event, condition=lambda current: current.status in OPEN_STATUSES, **fields)

    def link_ticket(self, incident_id: str, ticket_id: str, event: TimelineEvent) -> Optional[Incident]:
        return self._change(incident_id, lambda current: replace(
            current, linked_tickets=tuple(sorted(set(current.linked_tickets) | {ticket_id}))).with_timeline(event),
            lambda current: ticket_id not in current.linked_tickets)

    def transition(self, incident_id: str, target: str, event: TimelineEvent,
                   actor: Optional[str]) -> tuple[Incident, bool]:
        with self._lock:
            current = self.get(incident_id)
            if current.status == RESOLVED and target != RESOLVED:
                raise TransitionRejected(incident_id, current.status, target)
            if STATUSES.index(current.status) >= STATUSES.index(target):
                return current, False
            fields: dict[str, Any] = {"status": target}
            for reached in IMPLIES[target] + (target,):
                if getattr(current, _STAMP_FIELDS[reached]) is None:
                    fields[_STAMP_FIELDS[reached]] = event.at
            if target != RESOLVED and current.acknowledged_by is None and actor:
                fields["acknowledged_by"] = actor
            if target == RESOLVED:
                if actor:
                    fields["resolved_by"] = actor
                if self._claims.get(current.fingerprint) == incident_id:
                    del self._claims[current.fingerprint]
            self._incidents[incident_id] = replace(current, **fields).with_timeline(event)
            return self._incidents[incident_id], True

    def await_ack(self, incident_id: str, event: TimelineEvent, task_token: str,
                  execution: Optional[str]) -> Optional[Incident]:
        fields: dict[str, Any] = {"task_token": task_token, "escalation_status": "awaiting_ack"}
        if execution:
            fields["escalation_execution"] = execution
        return self.append(incident_id, event, condition=lambda current: current.status == TRIGGERED, **fields)

    def take_over_escalation(self, incident_id: str, execution: str, event: TimelineEvent) -> Optional[Incident]:
        return self.append(incident_id, event, condition=lambda current: current.status == TRIGGERED
                           and current.escalation_execution == execution,
                           escalation_status="resuming", task_token=None)

    def ack_link_used(self, incident_id: str, nonce: str) -> bool:
        with self._lock:
            self.get(incident_id)
            return nonce in self._used_links.get(incident_id, set())

    def use_ack_link(self, incident_id: str, nonce: str) -> bool:
        with self._lock:
            self.get(incident_id)
            used = self._used_links.setdefault(incident_id, set())
            if nonce in used:
                return False
            used.add(nonce)
            return True

    def release_ack_link(self, incident_id: str, nonce: str) -> None:
        with self._lock:
            self.get(incident_id)
            self._used_links.get(incident_id, set()).discard(nonce)


class InMemoryTicketStore:
    """The ticket store port of chalicelib/incidents/tickets.py, in memory."""

    def __init__(self) -> None:
        self._tickets: dict[str, Any] = {}

    def get(self, ticket_id: str) -> Any:
        from chalicelib.incidents.tickets import TicketMissing

        if ticket_id not in self._tickets:
            raise TicketMissing(ticket_id)
        return self._tickets[ticket_id]

    def create(self, ticket: Any) -> tuple[Any, bool]:
        if ticket.id in self._tickets:
            return self._tickets[ticket.id], False
        self._tickets[ticket.id] = ticket
        return ticket, True

    def update(self, ticket: Any) -> Any:
        self._tickets[ticket.id] = ticket
        return ticket

    def list(self, *, status: Optional[str] = None, slo: Optional[str] = None, since: Optional[str] = None,
             limit: Optional[int] = None) -> list[Any]:
        chosen = [ticket for ticket in sorted(self._tickets.values(), key=lambda t: t.opened_at, reverse=True)
                  if (status is None or ticket.status == status) and (slo is None or ticket.slo == slo)
                  and (since is None or ticket.opened_at >= since)]
        return chosen[:limit] if limit is not None else chosen


class RecordingTicketPublisher:
    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, ticket: Any) -> str:
        self.published.append(ticket)
        return f"message-{len(self.published)}"
