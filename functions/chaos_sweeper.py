"""Scheduled every minute: roll back the chaos experiments whose workflow ended without doing so."""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: Any, context: Any) -> dict[str, Any]:
    wired = wiring.current()
    swept = wired.chaos_service.sweep()
    for record in swept:
        wired.logger.warning("chaos experiment rolled back by the sweeper",
                             extra={"experiment_id": record.id, "reason": record.reason})
    return {"swept": [record.id for record in swept]}
