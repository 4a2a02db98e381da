"""Step Functions task of statemachines/chaos_experiment.asl.json.

Rollback: remove the faults and restore what the actions replaced.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.rollback(event)
