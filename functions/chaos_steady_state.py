"""Step Functions task of statemachines/chaos_experiment.asl.json.

SteadyStateBefore: check the steady-state hypothesis before injecting.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.steady_state_before(event)
