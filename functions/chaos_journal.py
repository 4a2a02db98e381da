"""Step Functions task of statemachines/chaos_experiment.asl.json.

Journal: write the verdict and free the targets.
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.current().chaos_steps.write_journal(event)
