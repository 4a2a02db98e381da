"""Where alert sources hand over to the incident flow (``chalicelib.wiring`` connects them).

- ``SloAlertIncidentSink`` is the SLO engine's ``AlertSink`` (``SLO_ALERT_SINK=incidents``).
- ``BreakerIncidents`` records breaker transitions handed off through the breaker-transitions queue.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from chalicelib.incidents.model import iso, parse_iso
from chalicelib.incidents.service import IncidentTrigger
from chalicelib.incidents.unrecorded import UnrecordedIncidentPager
from chalicelib.resilience.records import BreakerTransition
from chalicelib.slo.records import Alert, SloEvaluation

SLO_FIGURES = ("id", "tier", "long_window", "short_window", "long_burn_rate", "short_burn_rate",
               "burn_rate_threshold", "budget_remaining_ratio", "opened_at")
BREAKER_FIGURES = ("reason", "actor", "failures", "opened_at", "shared", "at")
# A page links the SLO's tickets opened this long before it (the slowest ticket tier's long window).
TICKET_LINK_LOOKBACK = timedelta(days=3)


def slo_fingerprint(slo: str) -> str:
    """One incident per SLO problem: every page tier of the SLO feeds the same incident."""
    return f"slo:{slo}"


def page_severity(tier: str, page_tiers: tuple[str, ...], budget_state: str) -> str:
    """The fastest page tier is P1, slower page tiers P2; one step more once the budget is
    exhausted (a budget still gathering history is never exhausted)."""
    severity = "P1" if page_tiers and tier == page_tiers[0] else "P2"
    if budget_state == "exhausted":
        severity = {"P1": "P0", "P2": "P1"}[severity]
    return severity


def breaker_runbook(breaker_name: str) -> str:
    return f"runbooks/breaker-{breaker_name}.md"


class SloAlertIncidentSink:
    """Page tiers keep one incident per SLO (opened, raised, lowered, held down, resolved from
    each run's picture); ticket tiers open tickets, which never page."""

    def __init__(self, incidents: Any, tickets: Any, hold_down: timedelta) -> None:
        self._incidents = incidents
        self._tickets = tickets
        self._hold_down = hold_down

    def alert_opened(self, alert: Alert) -> None:
        if alert.severity != "ticket":
            return  # pages are followed from the whole picture in slo_evaluated
        incident = self._incidents.open_incident_for(slo_fingerprint(alert.slo))
        ticket = self._tickets.open_for_alert(alert.to_json(), incident.id if incident else None)
        if incident is not None:
            self._incidents.link_ticket(incident.id, ticket.id, f"{alert.tier} fires while the SLO pages")

    def alert_resolved(self, alert: Alert) -> None:
        if alert.severity == "ticket":
            self._tickets.resolve_for_alert(alert.to_json())

    def slo_evaluated(self, evaluation: SloEvaluation) -> None:
        fingerprint = slo_fingerprint(evaluation.slo)
        at = parse_iso(evaluation.at)
        if not evaluation.firing_pages:
            self._incidents.hold_quiet(fingerprint, at, self._hold_down, reason="no page tier fires")
            return
        top = evaluation.firing_pages[0]
        severity = page_severity(top.tier, evaluation.page_tiers, evaluation.budget_state)
        stored = top.to_json()
        details: dict[str, Any] = {key: stored[key] for key in SLO_FIGURES if stored.get(key) is not None}
        details["firing"] = [alert.tier for alert in evaluation.firing_pages]
        details["budget_state"] = evaluation.budget_state
        incident, action = self._incidents.hold_open(
            fingerprint, severity, f"{evaluation.display_name}: error budget burning", "slo", details,
            summary=top.summary or "", runbook=top.runbook, target=evaluation.slo, cause=f"{top.tier} fires")
        if action in ("opened", "reopened"):
            since = iso(at - TICKET_LINK_LOOKBACK)
            for ticket in self._tickets.link_recent(evaluation.slo, incident.id, since):
                self._incidents.link_ticket(incident.id, ticket.id, "its SLO now pages")


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
    by = f" by {details['actor']}" if details.get("actor") else ""  # an operator's open says who and why
    summary = (f"Circuit breaker {name} opened ({details.get('reason', 'failures')}{by}); "
               f"calls to {name} fail fast or degrade")
    return title, summary, figures
