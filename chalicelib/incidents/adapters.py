"""Where alert sources hand over to the incident flow (``chalicelib.wiring`` connects them).

- ``SloAlertIncidentSink`` is the SLO engine's ``AlertSink`` (``SLO_ALERT_SINK=incidents``).
- ``BreakerIncidents`` records breaker transitions handed off through the breaker-transitions queue.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chalicelib.incidents.service import IncidentTrigger
from chalicelib.incidents.unrecorded import UnrecordedIncidentPager
from chalicelib.resilience.records import BreakerTransition
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


class BreakerIncidents:
    """A trip opens a P2 incident; the breaker closing is its recovery.

    ``record`` runs in the consumer of the breaker-transitions queue, never in the request
    that tripped the breaker. When the incident cannot be recorded (the database breaker
    trips because DynamoDB fails, and incidents live there too), the on-call level is paged
    directly on the first attempt, and ``record`` raises so the queue redelivers the
    transition until the incidents table answers and the incident is recorded.
    """

    def __init__(self, incidents: IncidentTrigger, fallback_pager: Optional[UnrecordedIncidentPager]) -> None:
        self._incidents = incidents
        self._fallback_pager = fallback_pager

    def record(self, transition: BreakerTransition, *, first_attempt: bool = True) -> None:
        name, details = transition.breaker, transition.details
        fingerprint = f"breaker:{name}"
        if transition.new_state == "open":
            title, summary, figures = _trip(transition)
            try:
                self._incidents.trigger(fingerprint, "P2", title, "breaker", figures, summary=summary,
                                        runbook=breaker_runbook(name), target=name)
            except Exception as exc:  # whatever stopped the record, the page must still go out, once
                if first_attempt:
                    self.page_unrecorded(transition, f"{type(exc).__name__}: {exc}")
                raise
        elif transition.new_state == "closed":
            self._incidents.signal_recovered(fingerprint, f"breaker {name} closed ({details.get('reason', 'probe')})")

    def page_unrecorded(self, transition: BreakerTransition, reason: str) -> None:
        """Page the on-call level directly about a trip not (yet) recorded as an incident."""
        if transition.new_state != "open" or self._fallback_pager is None:
            return
        title, summary, figures = _trip(transition)
        self._fallback_pager.page(severity="P2", title=title, summary=summary,
                                  runbook=breaker_runbook(transition.breaker), figures=figures, reason=reason)


def _trip(transition: BreakerTransition) -> tuple[str, str, dict[str, Any]]:
    name, details = transition.breaker, transition.details
    figures = {"state": transition.new_state, "previous_state": transition.old_state,
               **{key: details[key] for key in BREAKER_FIGURES if details.get(key) is not None}}
    title = f"Circuit breaker {name} is open"
    summary = (f"Circuit breaker {name} opened ({details.get('reason', 'failures')}); "
               f"calls to {name} fail fast or degrade")
    return title, summary, figures
