"""What a page says: a subject and one body per SNS protocol.

SMS gets one short line, email the full text, HTTPS/SQS/Lambda subscribers a JSON
document. Every body carries the incident id, severity, summary, the figures that
triggered it, the runbook link and how to acknowledge; while a chaos experiment
runs on the affected target the first line says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from chalicelib.incidents.experiments import ActiveExperiment
from chalicelib.incidents.model import Incident, more_severe

SUBJECT_MAX = 100  # SNS limit for email subjects
JSON_PROTOCOLS = ("http", "https", "sqs", "lambda", "email-json", "application", "firehose")


def runbook_url(runbook: str, runbooks_base_url: str) -> str:
    base = runbooks_base_url.rstrip("/")
    name = runbook[len("runbooks/"):] if runbook.startswith("runbooks/") else runbook
    return f"{base}/{name}"


@dataclass(frozen=True)
class PageContext:
    level: int
    role: str
    repeat: int
    ack_url: str
    ack_expires_at: int
    ack_deadline_seconds: int
    # Where runbook links point, and the API's base URL for the operator's ack call.
    runbooks_base_url: str
    api_base_url: str
    experiment: Optional[ActiveExperiment] = None


@dataclass(frozen=True)
class Page:
    subject: str
    sms: str
    email: str
    document: dict[str, Any]
    attributes: dict[str, dict[str, str]]

    def sns_message(self) -> str:
        """The ``Message`` for ``MessageStructure="json"``."""
        as_json = json.dumps(self.document, sort_keys=True)
        bodies = {"default": self.email, "email": self.email, "sms": self.sms}
        bodies.update({protocol: as_json for protocol in JSON_PROTOCOLS})
        return json.dumps(bodies)


def _chaos_line(experiment: Optional[ActiveExperiment]) -> str:
    if experiment is None:
        return ""
    return (f"CHAOS EXPERIMENT IN PROGRESS: {experiment.id} is running on {experiment.target}; "
            f"this may be the experiment's effect.")


def _figures(details: Any) -> list[str]:
    lines = []
    for key in sorted(details):
        value = details[key]
        rendered = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
        lines.append(f"  {key}: {rendered}")
    return lines


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _ascii_line(text: str) -> str:
    return "".join(char if 32 <= ord(char) < 127 else "?" for char in text)


def raised_from(incident: Incident) -> Optional[str]:
    """The severity this incident was raised from, when its last change was a raise."""
    previous = incident.previous_severity
    return previous if previous and more_severe(incident.severity, previous) else None


def render_page(incident: Incident, context: PageContext) -> Page:
    chaos = _chaos_line(context.experiment)
    repeat = f" (repeat {context.repeat})" if context.repeat else ""
    raised = raised_from(incident)
    raised_note = f" (raised from {raised})" if raised else ""
    subject = _ascii_line(f"{'[CHAOS] ' if chaos else ''}[{incident.severity}]{raised_note} {incident.title}")
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX - 3] + "..."
    link = runbook_url(incident.runbook, context.runbooks_base_url)
    minutes = max(1, context.ack_deadline_seconds // 60)
    api_ack = f"POST {context.api_base_url.rstrip('/')}/sre/incidents/{incident.id}/ack"
    sms = (f"{chaos + ' ' if chaos else ''}[{incident.severity}]{raised_note} {incident.title[:80]} ({incident.id}), "
           f"level {context.level}{repeat}. Ack: {context.ack_url}")
    email_lines = [
        f"[{incident.severity}] {incident.title}",
        "",
        f"Incident:   {incident.id}",
        f"Severity:   {incident.severity}" + (f" (raised from {raised}; the escalation restarted)" if raised else ""),
        f"Source:     {incident.source}",
        f"Status:     {incident.status}",
        f"Opened at:  {incident.opened_at}",
        f"Paging:     level {context.level} ({context.role}){repeat}",
        "",
        f"Summary: {incident.summary or incident.title}",
    ]
    if chaos:
        email_lines.insert(0, chaos)
        email_lines.append(f"Experiment: {context.experiment.id} ({context.experiment.kind or 'chaos'})")
    if incident.details:
        email_lines += ["", "What triggered it:"] + _figures(incident.details)
    email_lines += [
        "", f"Runbook: {link}", "",
        "Acknowledge (stops escalation):",
        f"  {context.ack_url}",
        f"  (single use, expires {_when(context.ack_expires_at)})",
        f"  or {api_ack} with the operator token.",
        f"Without an acknowledgement within {minutes} min the next level is paged.",
    ]
    document = {
        "type": "incident.page",
        "incident_id": incident.id,
        "severity": incident.severity,
        "raised_from": raised,
        "title": incident.title,
        "summary": incident.summary or incident.title,
        "source": incident.source,
        "status": incident.status,
        "opened_at": incident.opened_at,
        "level": context.level,
        "role": context.role,
        "repeat": context.repeat,
        "details": dict(incident.details),
        "runbook_url": link,
        "ack": {"url": context.ack_url, "expires_at": context.ack_expires_at, "api": api_ack,
                "deadline_seconds": context.ack_deadline_seconds},
        "chaos_experiment": ({"id": context.experiment.id, "target": context.experiment.target,
                              "kind": context.experiment.kind} if context.experiment else None),
    }
    attributes = {
        "level": {"DataType": "Number", "StringValue": str(context.level)},
        "severity": {"DataType": "String", "StringValue": incident.severity},
        "source": {"DataType": "String", "StringValue": incident.source},
        "incident_id": {"DataType": "String", "StringValue": incident.id},
    }
    return Page(subject=subject, sms=sms, email="\n".join(email_lines), document=document, attributes=attributes)
