"""Step Functions task of statemachines/escalation.asl.json.

ValidateInput: check the operator's input and answer the escalation plan.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().escalation_steps.validate(event)
