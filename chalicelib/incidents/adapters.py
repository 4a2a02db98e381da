"""Where alert sources hand over to the incident flow.

- ``SloAlertIncidentSink`` is an ``AlertSink`` for the SLO engine
  (``SLO_ALERT_SINK=chalicelib.incidents.adapters:SloAlertIncidentSink``).
- ``BreakerIncidentListener`` is a breaker transition listener
  (``register_transition_listener(BreakerIncidentListener())``).
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chalicelib.incidents.service import IncidentTrigger, get_incident_trigger
from chalicelib.incidents.unrecorded import UnrecordedIncidentPager

SLO_FIGURES = ("id", "tier", "long_window", "short_window", "long_burn_rate", "short_burn_rate",
               "burn_rate_threshold", "budget_remaining_ratio", "opened_at")
BREAKER_FIGURES = ("reason", "failures", "opened_at", "shared", "at")


def slo_fingerprint(alert: Mapping[str, Any]) -> str:
    """One incident per SLO and alert class: page-fast and page-slow firing together are one problem."""
    return f"slo:{alert['slo']}:{alert.get('severity', 'page')}"


def slo_severity(alert: Mapping[str, Any]) -> str:
    if alert.get("severity") == "ticket":
        return "P3"
    remaining = alert.get("budget_remaining_ratio")
    return "P0" if isinstance(remaining, (int, float)) and remaining <= 0 else "P1"


def breaker_runbook(breaker_name: str) -> str:
    return f"runbooks/breaker-{breaker_name}.md"


class SloAlertIncidentSink:
    """Page-tier burn alerts open P1 incidents (P0 once the budget is exhausted), ticket-tier P3."""

    def __init__(self, incidents: Optional[IncidentTrigger] = None) -> None:
        self._incidents = incidents

    def _trigger(self) -> IncidentTrigger:
        if self._incidents is None:
            self._incidents = get_incident_trigger()
        return self._incidents

    def alert_opened(self, alert: Mapping[str, Any]) -> None:
        name = alert.get("slo_display_name") or alert["slo"]
        self._trigger().trigger(
            slo_fingerprint(alert), slo_severity(alert), f"{name}: error budget burn ({alert.get('tier')})", "slo",
            {key: alert[key] for key in SLO_FIGURES if alert.get(key) is not None},
            summary=alert.get("summary") or "", runbook=alert.get("runbook"), target=alert["slo"],
            signal=alert.get("id"))

    def alert_resolved(self, alert: Mapping[str, Any]) -> None:
        self._trigger().signal_recovered(slo_fingerprint(alert), f"SLO alert {alert.get('id')} resolved",
                                         signal=alert.get("id"))


class BreakerIncidentListener:
    """A trip opens a P2 incident; the breaker closing is its recovery.

    When the incident cannot be recorded (the database breaker trips because
    DynamoDB fails, and incidents live there too), the on-call level is paged
    directly instead, so the trip is never lost.
    """

    def __init__(self, incidents: Optional[IncidentTrigger] = None,
                 fallback_pager: Optional[UnrecordedIncidentPager] = None) -> None:
        self._incidents = incidents
        self._fallback_pager = fallback_pager or UnrecordedIncidentPager()

    def _trigger(self) -> IncidentTrigger:
        if self._incidents is None:
            self._incidents = get_incident_trigger()
        return self._incidents

    def __call__(self, breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None:
        fingerprint = f"breaker:{breaker_name}"
        if new_state == "open":
            figures = {"state": new_state, "previous_state": old_state,
                       **{key: details[key] for key in BREAKER_FIGURES if details.get(key) is not None}}
            title = f"Circuit breaker {breaker_name} is open"
            summary = (f"Circuit breaker {breaker_name} opened ({details.get('reason', 'failures')}); "
                       f"calls to {breaker_name} fail fast or degrade")
            try:
                self._trigger().trigger(fingerprint, "P2", title, "breaker", figures, summary=summary,
                                        runbook=breaker_runbook(breaker_name), target=breaker_name)
            except Exception as exc:  # whatever stopped the record, the page must still go out
                self._fallback_pager.page(severity="P2", title=title, summary=summary,
                                          runbook=breaker_runbook(breaker_name), figures=figures,
                                          reason=f"{type(exc).__name__}: {exc}")
                raise
        elif new_state == "closed":
            self._trigger().signal_recovered(fingerprint, f"breaker {breaker_name} closed "
                                                          f"({details.get('reason', 'probe')})")


_breaker_listener: Optional[BreakerIncidentListener] = None


def connect_breakers_to_incidents() -> None:
    """Breaker trips open incidents (and closes signal recovery) in this process; safe to call twice."""
    global _breaker_listener
    if _breaker_listener is None:
        from chalicelib.resilience import register_transition_listener

        _breaker_listener = BreakerIncidentListener()
        register_transition_listener(_breaker_listener)
