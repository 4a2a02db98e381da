"""The SLO alert sink and the breaker listener, against a recording trigger."""
from __future__ import annotations

import pytest

from dataclasses import replace

from chalicelib.incidents.adapters import BreakerIncidents, SloAlertIncidentSink
from chalicelib.resilience.records import BreakerTransition
from chalicelib.slo.records import Alert
from tests.support.golden import golden


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
    """The SLO engine's golden alert (tests/fixtures/records/slo_alert.json), varied."""
    return replace(Alert.from_json(golden("slo_alert")), id=f"availability/{tier}/202601050900", slo="availability",
                   slo_display_name="Availability", tier=tier, severity=severity, long_burn_rate=15.2,
                   budget_remaining_ratio=remaining, runbook=f"runbooks/slo-{tier}.md")


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
    BreakerIncidents(recorder, fallback_pager=None).record(BreakerTransition("database", "closed", "open", {"reason": "failures", "failures": 5}))
    opened = recorder.triggered[0]
    assert (opened["severity"], opened["fingerprint"], opened["runbook"]) == (
        "P2", "breaker:database", "runbooks/breaker-database.md")
    assert opened["details"] == {"state": "open", "previous_state": "closed", "reason": "failures", "failures": 5}


def test_breaker_close_signals_recovery(recorder):
    BreakerIncidents(recorder, fallback_pager=None).record(BreakerTransition("database", "half_open", "closed", {"reason": "probe_succeeded"}))
    assert recorder.recovered == [("breaker:database", "breaker database closed (probe_succeeded)", None)]


def test_half_open_changes_nothing(recorder):
    BreakerIncidents(recorder, fallback_pager=None).record(BreakerTransition("database", "open", "half_open", {"reason": "probe"}))
    assert recorder.triggered == [] and recorder.recovered == []


def test_sink_satisfies_the_slo_engine_protocol():
    from chalicelib.slo.paging import AlertSink

    assert isinstance(SloAlertIncidentSink(RecordingTrigger()), AlertSink)


def test_the_golden_alert_opens_an_incident_with_its_figures(recorder):
    alert = Alert.from_json(golden("slo_alert"))
    SloAlertIncidentSink(recorder).alert_opened(alert)
    opened = recorder.triggered[0]
    assert (opened["fingerprint"], opened["severity"], opened["signal"]) == ("slo:success:page", "P0", alert.id)
    assert opened["details"]["budget_remaining_ratio"] == alert.budget_remaining_ratio
    assert opened["details"]["long_window"] == "1h"


def test_the_golden_resolved_alert_signals_recovery(recorder):
    alert = Alert.from_json(golden("slo_alert_resolved"))
    SloAlertIncidentSink(recorder).alert_resolved(alert)
    assert recorder.recovered == [("slo:success:page", f"SLO alert {alert.id} resolved", alert.id)]
