"""Step Functions task of statemachines/chaos_experiment.asl.json.

VerifyRecovery: check the steady state and the responses expected after rollback.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.verify_recovery(event)
