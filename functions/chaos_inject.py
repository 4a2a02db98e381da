"""Step Functions task of statemachines/chaos_experiment.asl.json.

Inject: write the fault records and apply the infrastructure actions.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.inject(event)
