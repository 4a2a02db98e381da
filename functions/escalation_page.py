"""Step Functions task of statemachines/escalation.asl.json.

PublishPage: publish the page for the current level to SNS (retried by the state machine).
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().escalation_steps.page(event)
