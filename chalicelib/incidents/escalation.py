"""The steps of the escalation workflow (statemachines/escalation.asl.json).

Each method is one Task state; ``functions/escalation_*.py`` are their entry points.
The workflow's own input is the small document operators may also start it with
by hand (statemachines/escalation.example-input.json)::

    {"incident_id": "inc-0123456789abcdef", "start_level": 1}

``validate`` answers it with the plan the rest of the workflow follows, or with
``{"valid": false, "reason": ...}`` that the workflow turns into a clear failure.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from chalicelib.incidents.ack_links import AckLinkSigner
from chalicelib.incidents.experiments import ExperimentLookup, NoExperiments
from chalicelib.incidents.model import (
    OPEN_STATUSES, TRIGGERED, IncidentMissing, TimelineEvent, is_incident_id, iso, utc_now)
from chalicelib.incidents.pages import PageContext, render_page
from chalicelib.incidents.policy import EscalationPolicy, PolicyInvalid

INPUT_FIELDS = {"incident_id", "start_level"}


class PagePublishFailed(Exception):
    """SNS did not take the page; the state machine retries this error by name."""


def _logger() -> Any:
    from chalicelib.observability.logging import get_logger

    return get_logger()


class EscalationSteps:
    def __init__(self, store: Any, *, load_policy: Callable[[], EscalationPolicy], sns: Any, sfn: Any,
                 signer: AckLinkSigner, experiments: Optional[ExperimentLookup] = None,
                 runbooks_base_url: str, api_base_url: str, clock: Callable[[], datetime] = utc_now) -> None:
        # The policy is read when a workflow starts, so a misconfigured one fails that workflow clearly.
        self._load_policy = load_policy
        self._store = store
        self._sns = sns
        self._sfn = sfn
        self._signer = signer
        self._experiments = experiments or NoExperiments()
        self._runbooks_base_url = runbooks_base_url
        self._api_base_url = api_base_url
        self._clock = clock

    def _event(self, kind: str, message: str, **data: Any) -> TimelineEvent:
        return TimelineEvent(at=iso(self._clock()), kind=kind, message=message, actor="escalation",
                             data={key: value for key, value in data.items() if value is not None})

    # -- ValidateInput ---------------------------------------------------------------------------
    def validate(self, event: Mapping[str, Any]) -> dict[str, Any]:
        request = event.get("request") if isinstance(event, Mapping) else None
        problem = self._input_problem(request)
        if problem:
            return {"valid": False, "reason": problem}
        try:
            policy = self._load_policy()
        except PolicyInvalid as exc:
            return {"valid": False, "reason": f"Escalation policy is misconfigured: {exc}"}
        try:
            incident = self._store.get(request["incident_id"])
        except IncidentMissing:
            return {"valid": False, "reason": f"Incident {request['incident_id']} does not exist"}
        if incident.status != TRIGGERED:
            return {"valid": False,
                    "reason": f"Incident {incident.id} is {incident.status}; only triggered incidents escalate"}
        start_level = request.get("start_level", 1)
        if start_level > policy.last_level:
            return {"valid": False, "reason": f"start_level must be between 1 and {policy.last_level}"}
        default_topic = event.get("pages_topic_arn")
        levels = [{"level": level.level, "role": level.role, "topic_arn": level.topic_arn or default_topic}
                  for level in policy.levels]
        unrouted = [level["level"] for level in levels if not level["topic_arn"]]
        if unrouted:
            return {"valid": False, "reason": f"No SNS topic for level(s) {unrouted}: set pages_topic_arn"}
        return {
            "valid": True,
            "incident_id": incident.id,
            "severity": incident.severity,
            "ack_timeout_seconds": policy.response_seconds[incident.severity],
            "levels": levels,
            "last_level": policy.last_level,
            "repeat_last_level": policy.repeat_last_level,
            "max_repeats": policy.max_repeats,
            "position": {"level": start_level, "repeats": 0},
        }

    @staticmethod
    def _input_problem(request: Any) -> Optional[str]:
        if not isinstance(request, Mapping):
            return 'Input must be a JSON object like {"incident_id": "inc-0123456789abcdef"}'
        unknown = sorted(set(request) - INPUT_FIELDS)
        if unknown:
            return f"Unknown input field(s): {', '.join(unknown)}; allowed: incident_id, start_level"
        incident_id = request.get("incident_id")
        if not isinstance(incident_id, str) or not is_incident_id(incident_id):
            return "incident_id is required: 'inc-' followed by 16 lower-case hex digits"
        start_level = request.get("start_level", 1)
        if not isinstance(start_level, int) or isinstance(start_level, bool) or start_level < 1:
            return "start_level must be a positive integer"
        return None

    # -- PublishPage -----------------------------------------------------------------------------
    def page(self, state: Mapping[str, Any]) -> dict[str, Any]:
        incident = self._store.get(state["incident_id"])
        position = state["position"]
        if incident.status != TRIGGERED:
            return {"paged": False, "status": incident.status}
        level = next(entry for entry in state["levels"] if entry["level"] == position["level"])
        ack_url, expires_at = self._signer.link(incident.id, level["level"])
        experiment = self._experiments.active_for(incident.target or incident.fingerprint)
        page = render_page(incident, PageContext(
            level=level["level"], role=level["role"], repeat=position["repeats"], ack_url=ack_url,
            ack_expires_at=expires_at, ack_deadline_seconds=state["ack_timeout_seconds"],
            runbooks_base_url=self._runbooks_base_url, api_base_url=self._api_base_url, experiment=experiment))
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._sns.publish(
                TopicArn=level["topic_arn"], Subject=page.subject, Message=page.sns_message(),
                MessageStructure="json", MessageAttributes=page.attributes)
        except (BotoCoreError, ClientError) as exc:
            self._store.append(incident.id, self._event(
                "page_failed", f"Page to level {level['level']} ({level['role']}) not published: {exc}",
                level=level["level"]))
            raise PagePublishFailed(f"SNS publish to level {level['level']} failed: {exc}") from exc
        repeat = f", repeat {position['repeats']}" if position["repeats"] else ""
        self._store.append(incident.id, self._event(
            "paged", f"Paged level {level['level']} ({level['role']}{repeat})", level=level["level"],
            repeat=position["repeats"] or None, message_id=response.get("MessageId"),
            experiment_id=experiment.id if experiment else None),
            escalation_level=level["level"], escalation_status="paging")
        return {"paged": True, "level": level["level"], "message_id": response.get("MessageId")}

    # -- AwaitAck (lambda:invoke.waitForTaskToken) -------------------------------------------------
    def await_ack(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Store the task token the ack will send back; finish at once if the ack already came."""
        incident_id, token = event["incident_id"], event["task_token"]
        waiting = self._store.await_ack(incident_id, self._event(
            "awaiting_ack",
            f"Waiting {event['timeout_seconds']} s for an acknowledgement at level {event['level']}",
            level=event["level"], timeout_seconds=event["timeout_seconds"]), token, event.get("execution"))
        if waiting is not None:
            return {"waiting": True}
        incident = self._store.get(incident_id)
        self._sfn.send_task_success(taskToken=token, output=json.dumps(
            {"outcome": incident.status, "by": incident.acknowledged_by or incident.resolved_by}))
        return {"waiting": False, "status": incident.status}

    # -- RecordFailure ---------------------------------------------------------------------------
    def record_failure(self, event: Mapping[str, Any]) -> dict[str, Any]:
        incident_id = event.get("incident_id")
        reason = event.get("reason", "error")
        error = event.get("error") or {}
        if reason == "exhausted":
            message = (f"Escalation ended after repeating the last level {event.get('repeats')} time(s) "
                       f"without an acknowledgement")
        else:
            message = f"Escalation failed: {error.get('Error', 'unknown error')}: {error.get('Cause', '')}"[:1000]
        _logger().error("Escalation ended without an acknowledgement",
                        extra={"incident_id": incident_id, "reason": reason, "error": error.get("Error")})
        incident = self._store.get(incident_id)
        if incident.status in OPEN_STATUSES:
            self._store.append(incident_id, self._event(f"escalation_{reason}", message),
                               escalation_status="exhausted" if reason == "exhausted" else "failed")
        return {"recorded": True, "status": incident.status}

