"""Step Functions task of statemachines/escalation.asl.json.

RecordFailure: put a failed or exhausted escalation on the incident's timeline.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().escalation_steps.record_failure(event)
