"""The SLO alert sink and the breaker listener, against a recording trigger."""
from __future__ import annotations

import pytest

from chalicelib.incidents.adapters import BreakerIncidentListener, SloAlertIncidentSink


class RecordingTrigger:
    def __init__(self):
        self.triggered = []
        self.recovered = []

    def trigger(self, fingerprint, severity, title, source, details=None, **extra):
        self.triggered.append({"fingerprint": fingerprint, "severity": severity, "title": title,
                               "source": source, "details": details, **extra})
        return None, True

    def signal_recovered(self, fingerprint, reason, signal=None):
        self.recovered.append((fingerprint, reason, signal))


def _alert(severity="page", remaining=0.4, tier="page-fast"):
    return {"id": f"availability/{tier}/202601050900", "slo": "availability", "slo_display_name": "Availability",
            "tier": tier, "severity": severity, "state": "open", "long_burn_rate": 15.2, "short_burn_rate": 16.0,
            "burn_rate_threshold": 14.4, "long_window": "1h", "short_window": "5m",
            "budget_remaining_ratio": remaining, "runbook": f"runbooks/slo-{tier}.md", "summary": "burning"}


@pytest.fixture
def recorder():
    return RecordingTrigger()


def test_page_tier_alert_opens_p1(recorder):
    SloAlertIncidentSink(recorder).alert_opened(_alert())
    opened = recorder.triggered[0]
    assert (opened["severity"], opened["source"], opened["fingerprint"]) == ("P1", "slo", "slo:availability:page")
    assert opened["runbook"] == "runbooks/slo-page-fast.md"
    assert opened["details"]["long_burn_rate"] == 15.2


def test_page_tier_alert_with_exhausted_budget_opens_p0(recorder):
    SloAlertIncidentSink(recorder).alert_opened(_alert(remaining=0.0))
    assert recorder.triggered[0]["severity"] == "P0"


def test_ticket_tier_alert_opens_p3(recorder):
    SloAlertIncidentSink(recorder).alert_opened(_alert(severity="ticket", tier="ticket-fast"))
    assert recorder.triggered[0]["severity"] == "P3"
    assert recorder.triggered[0]["fingerprint"] == "slo:availability:ticket"


def test_resolved_alert_signals_recovery_of_that_alert(recorder):
    SloAlertIncidentSink(recorder).alert_resolved(_alert())
    assert recorder.recovered == [("slo:availability:page", "SLO alert availability/page-fast/202601050900 resolved",
                                   "availability/page-fast/202601050900")]


def test_breaker_trip_opens_p2_with_breaker_runbook(recorder):
    BreakerIncidentListener(recorder)("database", "closed", "open", {"reason": "failures", "failures": 5})
    opened = recorder.triggered[0]
    assert (opened["severity"], opened["fingerprint"], opened["runbook"]) == (
        "P2", "breaker:database", "runbooks/breaker-database.md")
    assert opened["details"] == {"state": "open", "previous_state": "closed", "reason": "failures", "failures": 5}


def test_breaker_close_signals_recovery(recorder):
    BreakerIncidentListener(recorder)("database", "half_open", "closed", {"reason": "probe_succeeded"})
    assert recorder.recovered == [("breaker:database", "breaker database closed (probe_succeeded)", None)]


def test_half_open_changes_nothing(recorder):
    BreakerIncidentListener(recorder)("database", "open", "half_open", {"reason": "probe"})
    assert recorder.triggered == [] and recorder.recovered == []


def test_sink_satisfies_the_slo_engine_protocol():
    from chalicelib.slo.paging import AlertSink

    assert isinstance(SloAlertIncidentSink(RecordingTrigger()), AlertSink)


def test_breaker_listener_registers_with_the_resilience_hook(recorder):
    from chalicelib.resilience.listeners import (announce_transition, register_transition_listener,
                                                 unregister_transition_listener)

    listener = register_transition_listener(BreakerIncidentListener(recorder))
    try:
        announce_transition("webhook", "closed", "open", {"reason": "failures", "failures": 3})
    finally:
        unregister_transition_listener(listener)
    assert recorder.triggered[0]["fingerprint"] == "breaker:webhook"
