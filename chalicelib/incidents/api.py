"""The HTTP face of incidents: request checking and responses; routes.py only wires these up."""
from __future__ import annotations

import html
import uuid
from datetime import timedelta
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlencode

from chalice import Response

from chalicelib.auth import UNAUTHENTICATED, OperatorAction, audited
from chalicelib.http.cursor import Position, page, read_cursor
from chalicelib.http.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.http.request import check_body_size, json_object, known_query, query_int
from chalicelib.http.strict import FREE_TEXT_RULE, has_control_characters, parse_bounded_int
from chalicelib.incidents.ack_links import AckLinkClaims, AckLinkSigner, LinkRejected
from chalicelib.incidents.model import (
    SEVERITIES, STATUSES, IncidentMissing, TransitionRejected, is_incident_id, iso, parse_iso)
from chalicelib.incidents.reports import (
    STAGES, IncidentReports, TemplateMissing, reliability_stats)
from chalicelib.incidents.service import IncidentService

CREATE_FIELDS = ("title", "severity", "summary", "fingerprint", "runbook", "details", "by")
ACTION_FIELDS = ("by", "note")
TITLE_MAX, SUMMARY_MAX, NOTE_MAX, BY_MAX, FINGERPRINT_MAX = 200, 2000, 1000, 100, 200
DETAILS_MAX_KEYS = 30
DETAILS_KEY_MAX, DETAILS_VALUE_MAX = 100, 500
WINDOW_DAYS_MAX = 366
# Incidents overlapping the one a postmortem is about (breakers that opened around it).
RELATED_LOOKBACK, RELATED_MAX = timedelta(days=1), 200
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 100, 1000
LIST_NAME = "incidents"  # what a cursor of this list says it belongs to
# The statuses an update speaks of as done, and what it is for.
STAGE_NEEDS = {"monitoring": (("mitigated", "resolved"), "a mitigated incident (POST .../mitigate first)"),
               "resolved": (("resolved",), "a resolved incident (POST .../resolve first)")}


def _load(service: IncidentService, incident_id: str) -> Any:
    if not is_incident_id(incident_id):
        raise NotFound(f"Incident {incident_id!r} not found")
    try:
        return service.get(incident_id)
    except IncidentMissing:
        raise NotFound(f"Incident {incident_id} not found") from None


def _text(body: Mapping[str, Any], name: str, limit: int, errors: dict, *,
          required: bool = False) -> Optional[str]:
    value = body.get(name)
    if value is None:
        if required:
            errors[name] = ["Missing data for required field."]
        return None
    if not isinstance(value, str):
        errors[name] = ["Not a valid string."]
        return None
    sent, value = value, value.strip()
    if required and not value:
        errors[name] = ["Must not be empty."]
    elif len(sent) > limit:  # what was sent, as the OpenAPI document's maxLength counts
        errors[name] = [f"Longer than maximum length {limit}."]
    elif has_control_characters(sent):
        errors[name] = [FREE_TEXT_RULE]
    return value


def list_incidents(service: IncidentService, request: Any) -> dict[str, Any]:
    params = known_query(request, ("status", "severity", "limit", "cursor"))
    errors: dict[str, list[str]] = {}
    if "status" in params and params["status"] not in STATUSES:
        errors["status"] = [f"Must be one of: {', '.join(STATUSES)}."]
    if "severity" in params and params["severity"] not in SEVERITIES:
        errors["severity"] = [f"Must be one of: {', '.join(SEVERITIES)}."]
    maximum = PAGE_SIZE_MAX
    limit = parse_bounded_int(params.get("limit", str(PAGE_SIZE_DEFAULT)), 1, maximum)
    if limit is None:
        errors["limit"] = [f"Must be a whole number from 1 to {maximum}."]
    filters = {"status": params.get("status"), "severity": params.get("severity")}
    # A cursor is checked against valid filters only (a wrong filter is the error to report).
    after = None if errors.keys() & filters.keys() else read_cursor(params.get("cursor"), LIST_NAME, filters,
                                                                     is_incident_id, errors)
    if errors:
        raise ValidationFailed(errors)
    found = service.list(status=filters["status"], severity=filters["severity"], limit=limit + 1, after=after)
    incidents, next_cursor = page(found, limit, lambda incident: Position(incident.opened_at, incident.id),
                                  LIST_NAME, filters)
    return {"incidents": [incident.to_json(with_timeline=False) for incident in incidents],
            "next_cursor": next_cursor}


def get_incident(service: IncidentService, incident_id: str) -> dict[str, Any]:
    return {"incident": _load(service, incident_id).to_json()}


def _acting(operator: str, by: Optional[str]) -> str:
    """The authenticated operator, and whom they say they act for when that is someone else."""
    return operator if not by or by == operator else f"{operator} (for {by})"


def create_incident(service: IncidentService, reports: IncidentReports, request: Any,
                    action: OperatorAction) -> Response:
    body = json_object(request, allowed=CREATE_FIELDS)
    errors: dict[str, list[str]] = {}
    title = _text(body, "title", TITLE_MAX, errors, required=True)
    severity = body.get("severity")
    if severity not in SEVERITIES:
        errors["severity"] = [f"Must be one of: {', '.join(SEVERITIES)}."]
    summary = _text(body, "summary", SUMMARY_MAX, errors)
    fingerprint = _text(body, "fingerprint", FINGERPRINT_MAX, errors)
    by = _text(body, "by", BY_MAX, errors)
    runbook = _text(body, "runbook", 200, errors)
    if runbook and "runbook" not in errors:
        name = runbook.removeprefix("runbooks/")
        if "/" in name or not name.endswith(".md") or not reports.has_runbook(name):
            errors["runbook"] = ["Must name an existing runbook, e.g. runbooks/incident-manual.md."]
        runbook = f"runbooks/{name}"
    details = body.get("details")
    if details is not None and (not isinstance(details, dict) or len(details) > DETAILS_MAX_KEYS or not all(
            isinstance(value, (str, int, float, bool)) for value in details.values())):
        errors["details"] = [f"Must be an object of at most {DETAILS_MAX_KEYS} string/number/boolean values."]
    elif details and any(len(key) > DETAILS_KEY_MAX or has_control_characters(key) or (
            isinstance(value, str) and (len(value) > DETAILS_VALUE_MAX or has_control_characters(value)))
            for key, value in details.items()):
        # As the title: the details are the page's "What triggered it" and the postmortem's list.
        errors["details"] = [f"Names of at most {DETAILS_KEY_MAX} and text values of at most {DETAILS_VALUE_MAX} "
                             f"characters. {FREE_TEXT_RULE}"]
    if errors:
        raise ValidationFailed(errors)
    incident, created = service.trigger(
        f"manual:{fingerprint}" if fingerprint else f"manual:{uuid.uuid4().hex}", severity, title, "manual",
        details or {}, summary=summary or "", runbook=runbook, actor=_acting(action.operator, by))
    action.target, action.outcome = incident.id, "opened" if created else "deduplicated"
    return Response(body={"incident": incident.to_json(), "deduplicated": not created},
                    status_code=201 if created else 200)


def act_on_incident(service: IncidentService, request: Any, incident_id: str, verb: str,
                    action: OperatorAction) -> dict[str, Any]:
    before = _load(service, incident_id)
    body = json_object(request, allowed=ACTION_FIELDS) if check_body_size(request).strip() else {}
    errors: dict[str, list[str]] = {}
    by = _text(body, "by", BY_MAX, errors)
    note = _text(body, "note", NOTE_MAX, errors) or ""
    if errors:
        raise ValidationFailed(errors)
    move = {"ack": service.acknowledge, "mitigate": service.mitigate, "resolve": service.resolve}[verb]
    try:
        incident, changed = move(incident_id, _acting(action.operator, by), note)
    except TransitionRejected as exc:
        raise Conflict(str(exc)) from None
    except IncidentMissing:
        raise NotFound(f"Incident {incident_id} not found") from None
    action.outcome = "changed" if changed else "unchanged"
    answer: dict[str, Any] = {"incident": incident.to_json(), "changed": changed}
    if verb == "resolve" and changed and before.source == "slo" and before.open_signals:
        # Allowed (the operator may know better), but said: the SLO loop reports what fires every run,
        # so a page tier still firing opens a new incident at the next evaluation.
        answer["warning"] = (f"{', '.join(before.open_signals)} still fires: its next report opens a new incident "
                             "and pages again; while it fires, mitigate instead (the incident resolves by "
                             "itself once the signal stops and the hold-down passes)")
    return answer


def postmortem(service: IncidentService, reports: IncidentReports, incident_id: str,
               now: Callable[[], Any]) -> Response:
    incident = _load(service, incident_id)
    start, end = incident.opened_at, incident.resolved_at or iso(now())
    since = iso(parse_iso(start) - RELATED_LOOKBACK)
    related = [other for other in service.list(since=since, limit=RELATED_MAX)
               if other.id != incident.id and other.opened_at <= end
               and (other.resolved_at is None or other.resolved_at >= start)]
    markdown = reports.postmortem(incident, now(), related)
    return Response(body=markdown, status_code=200, headers={"Content-Type": "text/markdown; charset=utf-8"})


def communication(service: IncidentService, reports: IncidentReports, request: Any, incident_id: str, stage: str,
                  now: Callable[[], Any]) -> dict[str, Any]:
    params = known_query(request, ("message",))
    if stage not in STAGES:
        raise NotFound(f"No communication template {stage!r}; one of: {', '.join(STAGES)}")
    message = params.get("message", "")
    if len(message) > NOTE_MAX:
        raise ValidationFailed({"message": [f"Longer than maximum length {NOTE_MAX}."]})
    if has_control_characters(message):  # the update is pasted into status pages and chat
        raise ValidationFailed({"message": [FREE_TEXT_RULE]})
    incident = _load(service, incident_id)
    reached = STAGE_NEEDS.get(stage)
    if reached is not None and incident.status not in reached[0]:
        # Rendered anyway, the update told customers "resolved as of open" or "mitigated at not mitigated".
        raise Conflict(f"Incident {incident.id} is {incident.status}: the {stage} update is for {reached[1]}")
    try:
        text = reports.update(incident, stage, now(), message)
    except TemplateMissing:
        raise NotFound(f"runbooks/communication-templates.md has no {stage!r} template") from None
    return {"incident_id": incident.id, "stage": stage, "text": text}


def stats(service: IncidentService, request: Any) -> dict[str, Any]:
    params = known_query(request, ("window_days",))
    days = query_int(params, "window_days", default=30, minimum=1, maximum=WINDOW_DAYS_MAX)
    incidents, start, end = service.opened_since(timedelta(days=days))
    return reliability_stats(incidents, start, end)


# -- acknowledge links ---------------------------------------------------------------------------

def _html(title: str, body: str, status: int) -> Response:
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return Response(body=page, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def _verified(signer: AckLinkSigner, incident_id: str, request: Any) -> Any:
    params = dict(request.query_params or {})
    try:
        return signer.verify(incident_id, params)
    except LinkRejected as exc:
        raise Forbidden(str(exc)) from None


def _responder(claims: AckLinkClaims) -> str:
    return f"level {claims.level} responder (page link)"


def confirm_ack_link(service: IncidentService, signer: AckLinkSigner, request: Any, incident_id: str) -> Response:
    """GET: check the link and show a button. Mail scanners prefetch links, so GET changes nothing."""
    with audited(OperatorAction(UNAUTHENTICATED, "incident.acknowledge.confirm", incident_id)) as acting:
        claims = _verified(signer, incident_id, request)
        acting.operator = _responder(claims)
        incident = _load(service, incident_id)
        if incident.status != "resolved" and service.ack_link_used(incident_id, claims.nonce):
            raise Forbidden("This acknowledge link has already been used")  # its button would be refused
        acting.outcome = "resolved: nothing to acknowledge" if incident.status == "resolved" else "confirmation shown"
    if incident.status == "resolved":  # its button led to a JSON 409: nothing is left to acknowledge
        return _html(f"{incident.id} is resolved", (
            f"<p>[{html.escape(incident.severity)}] {html.escape(incident.title)} was resolved at "
            f"{html.escape(incident.resolved_at or '')}: there is nothing to acknowledge.</p>"), 200)
    query = urlencode({name: request.query_params[name] for name in ("level", "exp", "nonce", "sig")})
    return _html(f"Acknowledge {incident.id}?", (
        f"<p>[{html.escape(incident.severity)}] {html.escape(incident.title)} is {html.escape(incident.status)}."
        f"</p><form method='post' action='/sre/incidents/{incident.id}/ack-link?{html.escape(query)}'>"
        f"<button type='submit'>Acknowledge as level {claims.level}</button></form>"), 200)


def use_ack_link(service: IncidentService, signer: AckLinkSigner, request: Any, incident_id: str) -> Response:
    with audited(OperatorAction(UNAUTHENTICATED, "incident.acknowledge", incident_id)) as acting:
        claims = _verified(signer, incident_id, request)
        acting.operator = _responder(claims)
        _load(service, incident_id)
        if not service.consume_ack_link(incident_id, claims.nonce):
            raise Forbidden("This acknowledge link has already been used")
        try:
            incident, changed = service.acknowledge(incident_id, acting.operator)
        except TransitionRejected as exc:
            raise Conflict(str(exc)) from None
        except Exception:
            # Not acknowledged (the store failed): the link works again. Burnt, it answered "already used"
            # to a responder holding nothing else while the escalation paged on.
            service.release_ack_link(incident_id, claims.nonce)
            raise
        acting.outcome = "changed" if changed else "unchanged"
    return _html(f"{incident.id} acknowledged", (
        f"<p>Acknowledged by {html.escape(incident.acknowledged_by or '')}. Escalation stopped.</p>"), 200)


# -- tickets -------------------------------------------------------------------------------------

TICKETS_DEFAULT, TICKETS_MAX = 50, 500


def list_tickets(tickets: Any, request: Any) -> dict[str, Any]:
    from chalicelib.incidents.tickets import TICKET_STATUSES

    params = known_query(request, ("status", "slo", "limit"))
    errors: dict[str, list[str]] = {}
    status = params.get("status")
    if status is not None and status not in TICKET_STATUSES:
        errors["status"] = [f"Must be one of: {', '.join(TICKET_STATUSES)}."]
    slo = params.get("slo")
    if slo is not None and not (slo.isascii() and 1 <= len(slo) <= 63 and slo.replace("-", "").isalnum()):
        errors["slo"] = ["Must be an SLO name (letters, digits and '-')."]
    limit = parse_bounded_int(params.get("limit", str(TICKETS_DEFAULT)), 1, TICKETS_MAX)
    if limit is None:
        errors["limit"] = [f"Must be a whole number from 1 to {TICKETS_MAX}."]
    if errors:
        raise ValidationFailed(errors)
    found = tickets.list(status=status, slo=slo, limit=limit)
    return {"tickets": [ticket.to_json() for ticket in found], "count": len(found)}


def get_ticket(tickets: Any, ticket_id: str) -> dict[str, Any]:
    from chalicelib.incidents.tickets import TicketMissing, is_ticket_id

    if not is_ticket_id(ticket_id):
        raise NotFound(f"Ticket {ticket_id!r} not found")
    try:
        return tickets.get(ticket_id).to_json()
    except TicketMissing:
        raise NotFound(f"Ticket {ticket_id} not found") from None
