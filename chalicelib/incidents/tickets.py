"""Tickets: what a ticket-tier burn alert creates instead of a page.

A ticket never escalates and never pages. It is stored next to the incidents (same table, its
own ``TICKET`` listing on the ``by_opened`` index), listed by ``GET /sre/tickets``, and
published once to the ticket topic (``INCIDENT_TICKETS_TOPIC_ARN``) in its own format
(``type: slo.ticket``). One ticket per alert: its id derives from the alert id, so handing
the same alert over twice stores and publishes it once. A ticket records its alert's
resolution (including "suppressed by" a faster tier) and, when its SLO then pages, the
incident it is linked to.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping, Optional

from chalicelib.dynamodb import CONDITIONAL_CHECK_FAILED, sorted_index, table_meta
from chalicelib.incidents.model import iso, utc_now
from chalicelib.incidents.pages import runbook_url

LISTING = "TICKET"
OPEN, RESOLVED = "open", "resolved"
TICKET_STATUSES = (OPEN, RESOLVED)
SUBJECT_MAX = 100


class TicketMissing(LookupError):
    pass


def ticket_id_for(alert_id: str) -> str:
    return "tkt-" + hashlib.sha256(alert_id.encode("utf-8")).hexdigest()[:16]


def is_ticket_id(value: str) -> bool:
    return (isinstance(value, str) and len(value) == 20 and value.startswith("tkt-")
            and all(char in "0123456789abcdef" for char in value[4:]))


@dataclass(frozen=True)
class Ticket:
    id: str
    alert_id: str
    slo: str
    tier: str
    title: str
    summary: str
    runbook: str
    opened_at: str
    status: str = OPEN
    details: Mapping[str, Any] = field(default_factory=dict)
    resolved_at: Optional[str] = None
    resolution: Optional[str] = None
    incident_id: Optional[str] = None
    published: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "alert_id": self.alert_id, "slo": self.slo, "tier": self.tier, "title": self.title,
                "summary": self.summary, "runbook": self.runbook, "opened_at": self.opened_at,
                "status": self.status, "details": dict(self.details), "resolved_at": self.resolved_at,
                "resolution": self.resolution, "incident_id": self.incident_id, "published": self.published}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Ticket":
        return cls(id=body["id"], alert_id=body["alert_id"], slo=body["slo"], tier=body["tier"],
                   title=body["title"], summary=body["summary"], runbook=body["runbook"],
                   opened_at=body["opened_at"], status=body["status"], details=dict(body.get("details") or {}),
                   resolved_at=body.get("resolved_at"), resolution=body.get("resolution"),
                   incident_id=body.get("incident_id"), published=bool(body.get("published")))


TICKET_FIGURES = ("long_window", "short_window", "long_burn_rate", "short_burn_rate", "burn_rate_threshold",
                  "budget_remaining_ratio")


def ticket_from_alert(alert: Mapping[str, Any], incident_id: Optional[str] = None) -> Ticket:
    name = alert.get("slo_display_name") or alert["slo"]
    return Ticket(id=ticket_id_for(alert["id"]), alert_id=alert["id"], slo=alert["slo"], tier=alert["tier"],
                  title=f"{name}: slow error budget burn ({alert['tier']})", summary=alert.get("summary") or "",
                  runbook=alert.get("runbook") or "runbooks/incident-manual.md", opened_at=alert["opened_at"],
                  details={key: alert[key] for key in TICKET_FIGURES if alert.get(key) is not None},
                  incident_id=incident_id)


@dataclass(frozen=True)
class TicketMessage:
    subject: str
    text: str
    document: dict[str, Any]
    attributes: dict[str, dict[str, str]]

    def publish_arguments(self, topic_arn: str) -> dict[str, Any]:
        as_json = json.dumps(self.document, sort_keys=True)
        bodies = {"default": self.text, "email": self.text, "sms": self.subject,
                  **{protocol: as_json for protocol in ("http", "https", "sqs", "lambda", "email-json")}}
        return {"TopicArn": topic_arn, "Subject": self.subject, "Message": json.dumps(bodies),
                "MessageStructure": "json", "MessageAttributes": self.attributes}


def render_ticket(ticket: Ticket, runbooks_base_url: str, api_base_url: str) -> TicketMessage:
    """Not a page: no acknowledgement, no deadline; what burns, how fast, where the runbook is."""
    subject = f"[TICKET] {ticket.title}"
    subject = "".join(char if 32 <= ord(char) < 127 else "?" for char in subject)
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX - 3] + "..."
    link = runbook_url(ticket.runbook, runbooks_base_url)
    lines = [f"Ticket {ticket.id} (no page; handle in working hours)", "", ticket.summary or ticket.title, "",
             f"SLO:        {ticket.slo}", f"Tier:       {ticket.tier}", f"Opened at:  {ticket.opened_at}"]
    lines += [f"{key}: {value}" for key, value in sorted(ticket.details.items())]
    lines += ["", f"Runbook: {link}",
              f"Ticket:  GET {api_base_url.rstrip('/')}/sre/tickets/{ticket.id}"]
    document = {"type": "slo.ticket", "ticket_id": ticket.id, "alert_id": ticket.alert_id, "slo": ticket.slo,
                "tier": ticket.tier, "title": ticket.title, "summary": ticket.summary,
                "opened_at": ticket.opened_at, "details": dict(ticket.details), "runbook_url": link}
    attributes = {"type": {"DataType": "String", "StringValue": "slo.ticket"},
                  "slo": {"DataType": "String", "StringValue": ticket.slo},
                  "tier": {"DataType": "String", "StringValue": ticket.tier}}
    return TicketMessage(subject=subject, text="\n".join(lines), document=document, attributes=attributes)


class SnsTicketPublisher:
    def __init__(self, sns_client: Any, topic_arn: str, runbooks_base_url: str = "",
                 api_base_url: str = "http://localhost:8000") -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn
        self._runbooks_base_url = runbooks_base_url
        self._api_base_url = api_base_url

    def publish(self, ticket: Ticket) -> str:
        if not self._topic_arn:
            raise RuntimeError("INCIDENT_TICKETS_TOPIC_ARN is not set: the ticket cannot be published")
        message = render_ticket(ticket, self._runbooks_base_url, self._api_base_url)
        return self._sns.publish(**message.publish_arguments(self._topic_arn))["MessageId"]


def ticket_model(table_name: str, region: str) -> Any:
    """The pynamodb class of tickets in the incidents table (``chalicelib.wiring`` builds it once)."""
    # pynamodb.models costs ~100 ms to import; only code that touches tickets pays it.
    from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class TicketItem(Model):
        Meta = table_meta(table_name, region)
        pk = UnicodeAttribute(hash_key=True)
        listing = UnicodeAttribute(default=LISTING)
        opened_at = UnicodeAttribute()
        status = UnicodeAttribute()
        slo = UnicodeAttribute()
        published = BooleanAttribute(default=False)
        incident_id = UnicodeAttribute(null=True)
        data = JSONAttribute()
        by_opened = sorted_index("by_opened", "listing", "opened_at")

    return TicketItem


class DynamoDBTicketStore:
    def __init__(self, model: Any) -> None:
        """``model``: ``ticket_model(table_name, region)``."""
        self._model = model

    def _ticket(self, item: Any) -> Ticket:
        return replace(Ticket.from_json(item.data), status=item.status, published=bool(item.published),
                       incident_id=item.incident_id)

    def get(self, ticket_id: str) -> Ticket:
        from pynamodb.exceptions import DoesNotExist

        try:
            return self._ticket(self._model.get(ticket_id, consistent_read=True))
        except DoesNotExist:
            raise TicketMissing(ticket_id) from None

    def create(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """Store ``ticket`` unless one with its id exists; then return that one."""
        from pynamodb.exceptions import PutError

        item = self._model(ticket.id, opened_at=ticket.opened_at, status=ticket.status, slo=ticket.slo,
                           published=ticket.published, incident_id=ticket.incident_id, data=ticket.to_json())
        try:
            item.save(condition=self._model.pk.does_not_exist())
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) == CONDITIONAL_CHECK_FAILED:
                return self.get(ticket.id), False
            raise
        return ticket, True

    def update(self, ticket: Ticket) -> Ticket:
        self._model(ticket.id, opened_at=ticket.opened_at, status=ticket.status, slo=ticket.slo,
                    published=ticket.published, incident_id=ticket.incident_id, data=ticket.to_json()).save()
        return ticket

    def list(self, *, status: Optional[str] = None, slo: Optional[str] = None, since: Optional[str] = None,
             limit: Optional[int] = None) -> list[Ticket]:
        """Newest first."""
        model = self._model
        condition = model.opened_at >= since if since else None
        filters = None
        for attribute, value in ((model.status, status), (model.slo, slo)):
            if value:
                filters = (attribute == value) if filters is None else filters & (attribute == value)
        results: Iterator[Any] = model.by_opened.query(LISTING, condition, filter_condition=filters,
                                                        scan_index_forward=False)
        tickets = []
        for item in results:
            tickets.append(self._ticket(item))
            if limit is not None and len(tickets) >= limit:
                break
        return tickets


class TicketService:
    def __init__(self, store: Any, publisher: Any, clock: Any = utc_now) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock

    def get(self, ticket_id: str) -> Ticket:
        return self._store.get(ticket_id)

    def list(self, *, status: Optional[str] = None, slo: Optional[str] = None, since: Optional[str] = None,
             limit: Optional[int] = None) -> list[Ticket]:
        """Newest first; ``since``: opened at or after that ISO time."""
        return self._store.list(status=status, slo=slo, since=since, limit=limit)

    def open_for_alert(self, alert: Mapping[str, Any], incident_id: Optional[str] = None) -> Ticket:
        """The alert's ticket, stored and published once (a failed publish is retried on the next call)."""
        ticket, _ = self._store.create(ticket_from_alert(alert, incident_id))
        if not ticket.published:
            self._publisher.publish(ticket)
            ticket = self._store.update(replace(ticket, published=True))
        return ticket

    def resolve_for_alert(self, alert: Mapping[str, Any]) -> Optional[Ticket]:
        try:
            ticket = self._store.get(ticket_id_for(alert["id"]))
        except TicketMissing:
            return None
        if ticket.status == RESOLVED:
            return ticket
        return self._store.update(replace(ticket, status=RESOLVED, resolved_at=alert.get("resolved_at") or iso(
            self._clock()), resolution=alert.get("resolution") or "alert resolved"))

    def link_recent(self, slo: str, incident_id: str, since: str) -> list[Ticket]:
        """Link the SLO's tickets opened since ``since`` and not yet linked to ``incident_id``."""
        linked = []
        for ticket in self._store.list(slo=slo, since=since):
            if ticket.incident_id is None:
                linked.append(self._store.update(replace(ticket, incident_id=incident_id)))
        return linked
