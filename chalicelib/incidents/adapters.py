"""Where alert sources hand over to the incident flow (``chalicelib.wiring`` connects them).

- ``SloAlertIncidentSink`` is the SLO engine's ``AlertSink`` (``SLO_ALERT_SINK=incidents``).
- ``BreakerIncidentListener`` is a breaker transition listener.
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.incidents.service import IncidentTrigger
from chalicelib.incidents.unrecorded import UnrecordedIncidentPager
from chalicelib.slo.records import Alert

SLO_FIGURES = ("id", "tier", "long_window", "short_window", "long_burn_rate", "short_burn_rate",
               "burn_rate_threshold", "budget_remaining_ratio", "opened_at")
BREAKER_FIGURES = ("reason", "failures", "opened_at", "shared", "at")


def slo_fingerprint(alert: Alert) -> str:
    """One incident per SLO and alert class: page-fast and page-slow firing together are one problem."""
    return f"slo:{alert.slo}:{alert.severity or 'page'}"


def slo_severity(alert: Alert) -> str:
    if alert.severity == "ticket":
        return "P3"
    remaining = alert.budget_remaining_ratio
    return "P0" if isinstance(remaining, (int, float)) and remaining <= 0 else "P1"


def breaker_runbook(breaker_name: str) -> str:
    return f"runbooks/breaker-{breaker_name}.md"


class SloAlertIncidentSink:
    """Page-tier burn alerts open P1 incidents (P0 once the budget is exhausted), ticket-tier P3."""

    def __init__(self, incidents: IncidentTrigger) -> None:
        self._incidents = incidents

    def alert_opened(self, alert: Alert) -> None:
        name = alert.slo_display_name or alert.slo
        stored = alert.to_json()
        self._incidents.trigger(
            slo_fingerprint(alert), slo_severity(alert), f"{name}: error budget burn ({alert.tier})", "slo",
            {key: stored[key] for key in SLO_FIGURES if stored.get(key) is not None},
            summary=alert.summary or "", runbook=alert.runbook, target=alert.slo, signal=alert.id)

    def alert_resolved(self, alert: Alert) -> None:
        self._incidents.signal_recovered(slo_fingerprint(alert), f"SLO alert {alert.id} resolved", signal=alert.id)


class BreakerIncidentListener:
    """A trip opens a P2 incident; the breaker closing is its recovery.

    When the incident cannot be recorded (the database breaker trips because
    DynamoDB fails, and incidents live there too), the on-call level is paged
    directly instead, so the trip is never lost.
    """

    def __init__(self, incidents: IncidentTrigger, fallback_pager: UnrecordedIncidentPager) -> None:
        self._incidents = incidents
        self._fallback_pager = fallback_pager

    def __call__(self, breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None:
        fingerprint = f"breaker:{breaker_name}"
        if new_state == "open":
            figures = {"state": new_state, "previous_state": old_state,
                       **{key: details[key] for key in BREAKER_FIGURES if details.get(key) is not None}}
            title = f"Circuit breaker {breaker_name} is open"
            summary = (f"Circuit breaker {breaker_name} opened ({details.get('reason', 'failures')}); "
                       f"calls to {breaker_name} fail fast or degrade")
            try:
                self._incidents.trigger(fingerprint, "P2", title, "breaker", figures, summary=summary,
                                        runbook=breaker_runbook(breaker_name), target=breaker_name)
            except Exception as exc:  # whatever stopped the record, the page must still go out
                self._fallback_pager.page(severity="P2", title=title, summary=summary,
                                          runbook=breaker_runbook(breaker_name), figures=figures,
                                          reason=f"{type(exc).__name__}: {exc}")
                raise
        elif new_state == "closed":
            self._incidents.signal_recovered(fingerprint, f"breaker {breaker_name} closed "
                                                          f"({details.get('reason', 'probe')})")

