"""Step Functions task of statemachines/chaos_experiment.asl.json.

Validate: check the input (catalog name or inline definition) and answer the plan.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.validate(event.get("request", event))
