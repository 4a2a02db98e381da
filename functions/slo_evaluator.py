"""Scheduled every minute: compute SLIs, budgets, burn rates and alerts into DynamoDB.

The event may carry ``{"now": "<ISO time>"}`` to evaluate as of that moment (backfills, tests).
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.slo.timeutil import parse_iso


def handler(event: Any, context: Any) -> dict[str, Any]:
    now = parse_iso(event["now"]) if isinstance(event, dict) and event.get("now") else None
    wired = wiring.current()
    report = wired.slo_evaluator().run(now=now).to_json()
    (wired.logger.error if report["errors"] else wired.logger.info)("slo evaluator run", extra={"run": report})
    return report
