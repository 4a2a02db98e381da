"""Scheduled every minute: the synthetic probe of /health behind the availability SLO."""
from __future__ import annotations

from typing import Any

from chalicelib.observability.logging import get_logger
from chalicelib.slo.probe import HealthProbe


def handler(event: Any, context: Any) -> dict[str, Any]:
    result = HealthProbe().probe().to_json()
    logger = get_logger()
    (logger.info if result["success"] else logger.warning)("health probe", extra={"probe": result})
    return result
