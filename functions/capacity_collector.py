"""Scheduled daily: utilization per hour and per day from CloudWatch, stored for the capacity plan.

The event may carry ``{"now": "<ISO time>"}`` to collect as of that moment (backfills, tests).
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.slo.timeutil import parse_iso


def handler(event: Any, context: Any) -> dict[str, Any]:
    now = parse_iso(event["now"]) if isinstance(event, dict) and event.get("now") else None
    wired = wiring.current()
    report = wired.capacity_collector().run(now=now)
    summary = {"collected_at": report.collected_at, "series": len(report.series),
               "days_of_data": report.days_of_data, "errors": list(report.errors)}
    (wired.logger.error if report.errors else wired.logger.info)("capacity collection", extra={"run": summary})
    return summary
