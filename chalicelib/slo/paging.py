"""Handing SLO alerts to the incident flow through one small interface.

The evaluator calls ``alert_opened`` once per opened alert (pages and tickets alike; the
``severity`` field says which) and ``alert_resolved`` when it resolves. A sink that raises
is retried for ``alert_opened`` on the next run, until it succeeds.

``SLO_ALERT_SINK`` picks the sink: ``log`` (default) or ``package.module:factory``, a
zero-argument callable (a class or function) returning an ``AlertSink``.
"""
from __future__ import annotations

import importlib
from typing import Any, Mapping, Optional, Protocol, runtime_checkable

from chalicelib.observability.logging import get_logger
from chalicelib.settings import get_settings

Alert = Mapping[str, Any]
"""An alert as stored: id, slo, tier, severity, state, opened_at, resolved_at, burn rates,
thresholds, windows, runbook, summary (see ``chalicelib.slo.evaluator.build_alert``)."""


@runtime_checkable
class AlertSink(Protocol):
    def alert_opened(self, alert: Alert) -> None: ...

    def alert_resolved(self, alert: Alert) -> None: ...


class LoggingAlertSink:
    """Default sink: one structured log line per transition, nothing else."""

    def __init__(self, logger: Any = None) -> None:
        self._logger = logger or get_logger()

    def alert_opened(self, alert: Alert) -> None:
        self._logger.warning("slo alert opened", extra={"alert": dict(alert)})

    def alert_resolved(self, alert: Alert) -> None:
        self._logger.info("slo alert resolved", extra={"alert": dict(alert)})


def load_alert_sink(spec: Optional[str] = None) -> AlertSink:
    spec = (spec if spec is not None else get_settings().slo_alert_sink).strip()
    if spec in ("", "log"):
        return LoggingAlertSink()
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"SLO_ALERT_SINK must be 'log' or 'package.module:factory', not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    sink = factory()
    if not isinstance(sink, AlertSink):
        raise TypeError(f"SLO_ALERT_SINK {spec!r} built {type(sink).__name__}, which lacks "
                        f"alert_opened/alert_resolved")
    return sink
