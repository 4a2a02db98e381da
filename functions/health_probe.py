"""Scheduled every minute: the synthetic probe of /health behind the availability SLO."""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: Any, context: Any) -> dict[str, Any]:
    wired = wiring.current()
    result = wired.health_probe.probe().to_json()
    (wired.logger.info if result["success"] else wired.logger.warning)("health probe", extra={"probe": result})
    return result
