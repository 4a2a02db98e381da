"""Handing SLO alerts on through one small port.

The evaluator calls ``alert_opened`` once per opened alert (pages and tickets alike; the
``severity`` field says which) and ``alert_resolved`` when it resolves (including a tier
suppressed by a faster one: its ``resolution`` says so). A sink that raises is retried for
``alert_opened`` on the next run, until it succeeds. After every run it calls
``slo_evaluated`` with each SLO's ``SloEvaluation``: the page tiers firing now, so the sink
can keep one incident per SLO problem (open, raise, lower, hold down, resolve) from the whole
picture rather than from single transitions.

``SLO_ALERT_SINK`` picks the sink, in ``chalicelib.wiring``: ``incidents`` (default: alerts
open incidents), ``log``, or ``package.module:factory``, a sink you supply: a zero-argument
callable (a class or function) returning an ``AlertSink``.
"""
from __future__ import annotations

import importlib
from typing import Any, Protocol, runtime_checkable

from chalicelib.slo.records import Alert, SloEvaluation


@runtime_checkable
class AlertSink(Protocol):
    def alert_opened(self, alert: Alert) -> None: ...

    def alert_resolved(self, alert: Alert) -> None: ...

    def slo_evaluated(self, evaluation: SloEvaluation) -> None: ...


class LoggingAlertSink:
    """Logs only: the evaluator logs every transition whatever the sink ("slo alert opened",
    "slo alert resolved"); this sink adds one line per run while page tiers fire."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def alert_opened(self, alert: Alert) -> None:
        pass  # logged by the evaluator already (``AlertLifecycle``)

    def alert_resolved(self, alert: Alert) -> None:
        pass  # logged by the evaluator already

    def slo_evaluated(self, evaluation: SloEvaluation) -> None:
        if evaluation.firing_pages:
            self._logger.warning("slo pages firing", extra={
                "slo": evaluation.slo, "tiers": [alert.tier for alert in evaluation.firing_pages]})


def load_alert_sink_plugin(spec: str) -> AlertSink:
    """The sink a user supplies as ``package.module:factory``."""
    module_name, _, attribute = spec.strip().partition(":")
    if not module_name or not attribute:
        raise ValueError(f"SLO_ALERT_SINK must be 'incidents', 'log' or 'package.module:factory', not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    sink = factory()
    if not isinstance(sink, AlertSink):
        raise TypeError(f"SLO_ALERT_SINK {spec!r} built {type(sink).__name__}, which lacks "
                        f"alert_opened/alert_resolved/slo_evaluated")
    return sink
