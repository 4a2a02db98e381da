"""Step Functions task of statemachines/chaos_experiment.asl.json.

BudgetGate: refuse unless the error budget policy allows the experiment.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.budget_gate(event)
