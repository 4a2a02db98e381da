"""The last resort when an incident cannot be recorded: page the on-call level directly.

A breaker on the database opens because DynamoDB is failing, and the incidents
table lives in DynamoDB too. Rather than lose that incident, its page goes
straight to the pages topic, saying that it is not recorded and cannot be
acknowledged in the API.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from chalicelib.incidents.pages import runbook_url


def unrecorded_page(severity: str, title: str, summary: str, runbook: str, figures: Mapping[str, Any],
                    reason: str, runbooks_base_url: str) -> dict[str, str]:
    link = runbook_url(runbook, runbooks_base_url)
    subject = f"[{severity}] NOT RECORDED: {title}"[:100]
    email = "\n".join([
        f"{title}",
        "",
        "This incident could NOT be recorded, so it will not escalate and cannot be acknowledged in the API.",
        f"Recording failed with: {reason}",
        "",
        summary,
        "",
        *(f"{key}: {value}" for key, value in figures.items()),
        "",
        f"Runbook: {link}",
    ])
    sms = f"[{severity}] NOT RECORDED: {title}. Runbook: {link}"[:140]
    body = {"incident": None, "recorded": False, "severity": severity, "title": title, "summary": summary,
            "figures": dict(figures), "runbook": link, "reason": reason}
    return {"Subject": subject, "MessageStructure": "json",
            "Message": json.dumps({"default": email, "email": email, "sms": sms,
                                   "https": json.dumps(body, default=str)}, default=str)}


class UnrecordedIncidentPager:
    def __init__(self, sns_client: Any, topic_arn: str, runbooks_base_url: str) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn
        self._runbooks_base_url = runbooks_base_url

    def page(self, *, severity: str, title: str, summary: str, runbook: str, figures: Mapping[str, Any],
             reason: str) -> None:
        topic_arn = self._topic_arn
        if not topic_arn:
            raise RuntimeError("INCIDENT_PAGES_TOPIC_ARN is not set: the unrecorded incident cannot be paged")
        message = unrecorded_page(severity, title, summary, runbook, figures, reason, self._runbooks_base_url)
        # Level 1 is the on-call engineer; the attributes match the topic's subscription filters.
        self._sns.publish(TopicArn=topic_arn, MessageAttributes={
            "level": {"DataType": "Number", "StringValue": "1"},
            "severity": {"DataType": "String", "StringValue": severity}}, **message)
