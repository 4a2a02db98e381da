"""Incident storage in DynamoDB through pynamodb.

One table holds two kinds of item: the incident (``pk`` = its id) and, while it
is open, a claim on its fingerprint (``FP#<fingerprint>``). Opening writes both
in one conditional transaction, resolving deletes the claim in the same
transaction as the status change, so "one open incident per fingerprint" holds
under concurrency. Incidents carry ``listing``/``opened_at`` so the
``by_opened`` index lists them newest first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Optional

from chalicelib.incidents.model import (
    ACKNOWLEDGED, IMPLIES, MITIGATED, OPEN_STATUSES, RESOLVED, STATUSES, TRIGGERED, Incident, IncidentMissing,
    TimelineEvent, TransitionRejected)
from chalicelib.dynamodb import (cancellation_codes, is_conditional_failure, sorted_index, table_meta,
                                 transaction_connection)

if TYPE_CHECKING:
    from chalicelib.http.cursor import Position

LISTING = "INCIDENT"
# A retriggering source (a flapping breaker) must not grow the item towards DynamoDB's 400 KB limit.
MAX_TIMELINE_EVENTS = 400
_STAMP_FIELDS = {ACKNOWLEDGED: "acknowledged_at", MITIGATED: "mitigated_at", RESOLVED: "resolved_at"}


def fingerprint_key(fingerprint: str) -> str:
    return f"FP#{fingerprint}"


def table_models(table_name: str, region: str) -> Any:
    """The pynamodb classes bound to ``table_name`` (``chalicelib.wiring`` builds them once per process)."""
    # pynamodb.models costs ~100 ms to import; only code that touches incidents pays it.
    from pynamodb.attributes import (JSONAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                     UnicodeAttribute, UnicodeSetAttribute)
    from pynamodb.models import Model

    TableMeta = table_meta(table_name, region)

    class TimelineEntry(MapAttribute):
        at = UnicodeAttribute()
        kind = UnicodeAttribute()
        message = UnicodeAttribute()
        actor = UnicodeAttribute(null=True)
        data = JSONAttribute(null=True)

    class IncidentItem(Model):
        Meta = TableMeta
        pk = UnicodeAttribute(hash_key=True)
        listing = UnicodeAttribute(default=LISTING)
        opened_at = UnicodeAttribute()
        fingerprint = UnicodeAttribute()
        severity = UnicodeAttribute()
        title = UnicodeAttribute()
        source = UnicodeAttribute()
        status = UnicodeAttribute()
        summary = UnicodeAttribute(default="")
        runbook = UnicodeAttribute()
        target = UnicodeAttribute(default="")
        details = JSONAttribute(default=dict)
        trigger_count = NumberAttribute(default=1)
        acknowledged_at = UnicodeAttribute(null=True)
        acknowledged_by = UnicodeAttribute(null=True)
        mitigated_at = UnicodeAttribute(null=True)
        resolved_at = UnicodeAttribute(null=True)
        resolved_by = UnicodeAttribute(null=True)
        escalation_level = NumberAttribute(default=0)
        escalation_status = UnicodeAttribute(default="not_started")
        escalation_execution = UnicodeAttribute(null=True)
        task_token = UnicodeAttribute(null=True)
        experiment_ids = UnicodeSetAttribute(null=True)
        used_ack_links = UnicodeSetAttribute(null=True)
        open_signals = UnicodeSetAttribute(null=True)
        previous_severity = UnicodeAttribute(null=True)
        quiet_since = UnicodeAttribute(null=True)
        linked_tickets = UnicodeSetAttribute(null=True)
        timeline = ListAttribute(of=TimelineEntry, default=list)
        by_opened = sorted_index("by_opened", "listing", "opened_at")

    class FingerprintClaim(Model):
        Meta = TableMeta
        pk = UnicodeAttribute(hash_key=True)
        incident_id = UnicodeAttribute()

    class Models:
        incident = IncidentItem
        claim = FingerprintClaim
        entry = TimelineEntry
        connection = transaction_connection(region)

    return Models


def _to_event(entry: Any) -> TimelineEvent:
    return TimelineEvent(at=entry.at, kind=entry.kind, message=entry.message, actor=entry.actor,
                         data=entry.data or {})


def _to_incident(item: Any) -> Incident:
    return Incident(
        id=item.pk, fingerprint=item.fingerprint, severity=item.severity, title=item.title, source=item.source,
        status=item.status, opened_at=item.opened_at, runbook=item.runbook, target=item.target or "",
        details=item.details or {},
        summary=item.summary or "", trigger_count=int(item.trigger_count or 1),
        acknowledged_at=item.acknowledged_at, acknowledged_by=item.acknowledged_by,
        mitigated_at=item.mitigated_at, resolved_at=item.resolved_at, resolved_by=item.resolved_by,
        escalation_level=int(item.escalation_level or 0), escalation_status=item.escalation_status,
        escalation_execution=item.escalation_execution, task_token=item.task_token,
        experiment_ids=tuple(sorted(item.experiment_ids or ())),
        open_signals=tuple(sorted(item.open_signals or ())),
        timeline=tuple(_to_event(entry) for entry in item.timeline or ()),
        previous_severity=item.previous_severity, quiet_since=item.quiet_since,
        linked_tickets=tuple(sorted(item.linked_tickets or ())))


class DynamoDBIncidentStore:
    def __init__(self, models: Any) -> None:
        """``models``: ``table_models(table_name, region)``."""
        self._models = models

    # -- reading ---------------------------------------------------------------------------------
    def _load(self, incident_id: str) -> Any:
        from pynamodb.exceptions import DoesNotExist

        try:
            item = self._models.incident.get(incident_id, consistent_read=True)
        except DoesNotExist:
            raise IncidentMissing(incident_id) from None
        return item

    def get(self, incident_id: str) -> Incident:
        return _to_incident(self._load(incident_id))

    def open_incident_for(self, fingerprint: str) -> Optional[Incident]:
        from pynamodb.exceptions import DoesNotExist

        try:
            claim = self._models.claim.get(fingerprint_key(fingerprint), consistent_read=True)
        except DoesNotExist:
            return None
        try:
            return self.get(claim.incident_id)
        except IncidentMissing:
            return None

    def list(self, *, since: Optional[str] = None, status: Optional[str] = None,
             severity: Optional[str] = None, limit: Optional[int] = None,
             after: Optional[Position] = None) -> list[Incident]:
        """Newest first (incidents opened in the same microsecond by id, highest first, as the
        ``by_opened`` index orders them), optionally opened at or after ``since`` (ISO time) and
        only those strictly after ``after`` in that order."""
        model = self._models.incident
        if after is not None and since is not None and after.at < since:
            return []  # DynamoDB refuses a start key outside the key condition
        condition = model.opened_at >= since if since else None
        filters = None
        if status:
            filters = model.status == status
        if severity:
            filters = (model.severity == severity) if filters is None else filters & (model.severity == severity)
        # The index's own LastEvaluatedKey for the entry at ``after``: its keys and the table's.
        start = None if after is None else {
            "listing": {"S": LISTING}, "opened_at": {"S": after.at}, "pk": {"S": after.id}}
        # Unfiltered, one request of ``limit`` items; filtered, DynamoDB's full pages (``Limit``
        # counts items before the filter, so a small one would take a request per few matches).
        page_size = limit if limit is not None and filters is None else None
        results: Iterator[Any] = model.by_opened.query(LISTING, condition, filter_condition=filters,
                                                        scan_index_forward=False, last_evaluated_key=start,
                                                        page_size=page_size)
        incidents = []
        for item in results:
            incidents.append(_to_incident(item))
            if limit is not None and len(incidents) >= limit:
                break
        return incidents

    def open_before(self, before: str) -> list[Incident]:
        """Incidents still open that were opened before ``before`` (ISO time), newest first: one query."""
        model = self._models.incident
        results: Iterator[Any] = model.by_opened.query(LISTING, model.opened_at < before,
                                                        filter_condition=model.status.is_in(*OPEN_STATUSES),
                                                        scan_index_forward=False)
        return [_to_incident(item) for item in results]

    # -- writing ---------------------------------------------------------------------------------
    def _entry(self, event: TimelineEvent) -> Any:
        return self._models.entry(at=event.at, kind=event.kind, message=event.message, actor=event.actor,
                                  data=dict(event.data) or None)

    def create(self, incident: Incident) -> tuple[Incident, bool]:
        """Store ``incident`` unless its fingerprint has an open incident; then return that one, unchanged."""
        from pynamodb.exceptions import TransactWriteError
        from pynamodb.transactions import TransactWrite

        models = self._models
        claim = models.claim(fingerprint_key(incident.fingerprint), incident_id=incident.id)
        item = models.incident(
            incident.id, opened_at=incident.opened_at, fingerprint=incident.fingerprint,
            severity=incident.severity, title=incident.title, source=incident.source, status=incident.status,
            summary=incident.summary, runbook=incident.runbook, target=incident.target,
            details=dict(incident.details),
            trigger_count=incident.trigger_count, escalation_status=incident.escalation_status,
            experiment_ids=set(incident.experiment_ids) or None,
            open_signals=set(incident.open_signals) or None,
            timeline=[self._entry(event) for event in incident.timeline])
        try:
            with TransactWrite(connection=models.connection) as transaction:
                transaction.save(claim, condition=models.claim.pk.does_not_exist())
                transaction.save(item, condition=models.incident.pk.does_not_exist())
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if codes and codes[0] == "ConditionalCheckFailed":
                existing = self.open_incident_for(incident.fingerprint)
                if existing is not None:
                    return existing, False
            raise
        return incident, True

    def _update(self, incident_id: str, actions: list[Any], condition: Any = None) -> Optional[Incident]:
        """Apply ``actions``; ``None`` when ``condition`` does not hold. Raises IncidentMissing."""
        from pynamodb.exceptions import UpdateError

        model = self._models.incident
        exists = model.pk.exists()
        try:
            item = model(incident_id)
            item.update(actions=actions, condition=exists if condition is None else exists & condition)
        except UpdateError as exc:
            if not is_conditional_failure(exc):
                raise
            self._load(incident_id)  # raises IncidentMissing when that was the failed condition
            return None
        return _to_incident(item)

    def append(self, incident_id: str, event: TimelineEvent, *, condition: Any = None,
               **fields: Any) -> Optional[Incident]:
        """Add ``event`` to the timeline and set ``fields``; None when ``condition`` fails."""
        model = self._models.incident
        actions = [model.timeline.set(model.timeline.append([self._entry(event)]))]
        for name, value in fields.items():
            attribute = getattr(model, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        return self._update(incident_id, actions, condition)

    def record_retrigger(self, incident_id: str, event: TimelineEvent, signal: str) -> Optional[Incident]:
        """Count a repeated trigger on an open incident; None when it is no longer open."""
        model = self._models.incident
        actions = [model.trigger_count.add(1), model.open_signals.add({signal})]
        current = self.get(incident_id)
        if len(current.timeline) < MAX_TIMELINE_EVENTS:
            actions.append(model.timeline.set(model.timeline.append([self._entry(event)])))
        return self._update(incident_id, actions, model.status.is_in(*OPEN_STATUSES))

    def clear_signal(self, incident_id: str, signal: str, event: TimelineEvent) -> Optional[Incident]:
        """Drop a recovered trigger and note it; None when the incident is no longer open."""
        model = self._models.incident
        return self._update(incident_id, [model.open_signals.delete({signal}),
                                          model.timeline.set(model.timeline.append([self._entry(event)]))],
                            model.status.is_in(*OPEN_STATUSES))

    def update_open(self, incident_id: str, event: TimelineEvent, **fields: Any) -> Optional[Incident]:
        """``append`` while the incident is open; None once it is resolved."""
        return self.append(incident_id, event, condition=self._models.incident.status.is_in(*OPEN_STATUSES),
                           **fields)

    def link_ticket(self, incident_id: str, ticket_id: str, event: TimelineEvent) -> Optional[Incident]:
        """Add ``ticket_id`` to the incident's linked tickets (once) and note it."""
        model = self._models.incident
        return self._update(incident_id, [model.linked_tickets.add({ticket_id}),
                                          model.timeline.set(model.timeline.append([self._entry(event)]))],
                            ~model.linked_tickets.contains(ticket_id))

    def transition(self, incident_id: str, target: str, event: TimelineEvent,
                   actor: Optional[str]) -> tuple[Incident, bool]:
        """Move to ``target``: (incident, True) when changed, (incident, False) when already there or past.

        Raises TransitionRejected for a move out of ``resolved`` and IncidentMissing.
        """
        from pynamodb.exceptions import TransactWriteError
        from pynamodb.transactions import TransactWrite

        model = self._models.incident
        for _ in range(5):  # optimistic: re-read when another writer moved the status meanwhile
            current = self.get(incident_id)
            if current.status == RESOLVED and target != RESOLVED:
                raise TransitionRejected(incident_id, current.status, target)
            if STATUSES.index(current.status) >= STATUSES.index(target):
                return current, False
            actions = [model.status.set(target), model.timeline.set(model.timeline.append([self._entry(event)]))]
            for reached in IMPLIES[target] + (target,):
                if getattr(current, _STAMP_FIELDS[reached]) is None:
                    actions.append(getattr(model, _STAMP_FIELDS[reached]).set(event.at))
            if target != RESOLVED and current.acknowledged_by is None and actor:
                actions.append(model.acknowledged_by.set(actor))
            if target == RESOLVED and actor:
                actions.append(model.resolved_by.set(actor))
            condition = model.status == current.status
            if target != RESOLVED:
                updated = self._update(incident_id, actions, condition)
                if updated is not None:
                    return updated, True
                continue
            claim_model = self._models.claim
            try:
                with TransactWrite(connection=self._models.connection) as transaction:
                    transaction.update(model(incident_id), actions=actions, condition=condition)
                    transaction.delete(claim_model(fingerprint_key(current.fingerprint)),
                                       condition=claim_model.incident_id == incident_id)
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    continue
                if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                    # The claim is gone or belongs to a newer incident: resolve without touching it.
                    updated = self._update(incident_id, actions, condition)
                    if updated is not None:
                        return updated, True
                    continue
                raise
            return self.get(incident_id), True
        raise RuntimeError(f"Incident {incident_id} kept changing status; transition to {target} not applied")

    def await_ack(self, incident_id: str, event: TimelineEvent, task_token: str,
                  execution: Optional[str]) -> Optional[Incident]:
        """Store the escalation's current task token while the incident is still triggered."""
        model = self._models.incident
        fields: dict[str, Any] = {"task_token": task_token, "escalation_status": "awaiting_ack"}
        if execution:
            fields["escalation_execution"] = execution
        return self.append(incident_id, event, condition=model.status == TRIGGERED, **fields)

    def take_over_escalation(self, incident_id: str, execution: str, event: TimelineEvent) -> Optional[Incident]:
        """Claim a lost escalation for a new one: None unless the incident is still triggered and still
        names ``execution`` (an ack, or another sweeper, got there first)."""
        model = self._models.incident
        return self.append(incident_id, event, condition=(model.status == TRIGGERED)
                           & (model.escalation_execution == execution),
                           escalation_status="resuming", task_token=None)

    def use_ack_link(self, incident_id: str, nonce: str) -> bool:
        """Mark the link ``nonce`` used; False when it already was."""
        model = self._models.incident
        updated = self._update(incident_id, [model.used_ack_links.add({nonce})],
                               ~model.used_ack_links.contains(nonce))
        return updated is not None

    def ack_link_used(self, incident_id: str, nonce: str) -> bool:
        return nonce in (self._load(incident_id).used_ack_links or ())

    def release_ack_link(self, incident_id: str, nonce: str) -> None:
        """The link ``nonce`` may be used again."""
        self._update(incident_id, [self._models.incident.used_ack_links.delete({nonce})])

