"""Step Functions task of statemachines/chaos_experiment.asl.json.

Watch: check the stop conditions and the expected responses once.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.watch(event)
