"""Scheduled every minute: compute SLIs, budgets, burn rates and alerts into DynamoDB.

The event may carry ``{"now": "<ISO time>"}`` to evaluate as of that moment (backfills, tests).
After each scheduled run the evaluator reports its lag (``slo_evaluator_lag_seconds``: how far
the newest minute evaluated without errors is behind the clock; a failing run does not move it
on) as an EMF metric; a CloudWatch alarm watches it, and its absence, so a broken evaluator pages
(terraform/modules/slo_alarms). Until a run has succeeded there is no lag to report: the alarm's
missing-data rule covers an evaluator that never worked.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from chalicelib import wiring
from chalicelib.slo.timeutil import parse_iso

LAG_METRIC = "slo_evaluator_lag_seconds"


def lag_record(evaluated_end: datetime, namespace: str, service: str,
               now: Optional[datetime] = None) -> dict[str, Any]:
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    lag = max(0.0, ((now or datetime.now(timezone.utc)) - evaluated_end).total_seconds())
    provider = AmazonCloudWatchEMFProvider(namespace=namespace, service=service)
    provider.add_metric(name=LAG_METRIC, unit="Seconds", value=round(lag, 1))
    return provider.serialize_metric_set()


def handler(event: Any, context: Any) -> dict[str, Any]:
    from chalicelib.observability import metrics

    now = parse_iso(event["now"]) if isinstance(event, dict) and event.get("now") else None
    wired = wiring.current()
    report = wired.slo_evaluator().run(now=now).to_json()
    (wired.logger.error if report["errors"] else wired.logger.info)("slo evaluator run", extra={"run": report})
    # A backfill "as of" another moment says nothing about the evaluator's lag.
    if now is None and report["evaluated_through"]:
        service = wired.settings.service
        metrics.emit(lag_record(parse_iso(report["evaluated_through"]), service.metrics_namespace,
                                service.service_name))
    return report
