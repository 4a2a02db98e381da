"""Step Functions task of statemachines/escalation.asl.json.

AwaitAck (.waitForTaskToken): store the task token that an acknowledgement sends back.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().escalation_steps.await_ack(event)
