"""The SLO alert sink and the breaker listener, against a recording trigger."""
from __future__ import annotations

import pytest

from datetime import timedelta

from chalicelib.incidents.adapters import BreakerIncidents, SloAlertIncidentSink, page_severity, slo_fingerprint
from chalicelib.resilience.records import BreakerTransition


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


@pytest.fixture
def recorder():
    return RecordingTrigger()


def test_breaker_trip_opens_p2_with_breaker_runbook(recorder):
    BreakerIncidents(recorder, fallback_pager=None).record(BreakerTransition("database", "closed", "open", {"reason": "failures", "failures": 5}))
    opened = recorder.triggered[0]
    assert (opened["severity"], opened["fingerprint"], opened["runbook"]) == (
        "P2", "breaker:database", "runbooks/breaker-database.md")
    assert opened["details"] == {"state": "open", "previous_state": "closed", "reason": "failures", "failures": 5}


def test_an_operators_open_says_who_opened_it_and_why(recorder):
    """The page of a forced open said only "opened (operator)"."""
    BreakerIncidents(recorder, fallback_pager=None).record(BreakerTransition(
        "database", "closed", "open", {"reason": "operator", "actor": "alice: vendor outage"}))
    opened = recorder.triggered[0]
    assert "opened (operator by alice: vendor outage)" in opened["summary"]
    assert opened["details"]["actor"] == "alice: vendor outage"


def test_breaker_close_signals_recovery(recorder):
    BreakerIncidents(recorder, fallback_pager=None).record(BreakerTransition("database", "half_open", "closed", {"reason": "probe_succeeded"}))
    assert recorder.recovered == [("breaker:database", "breaker database closed (probe_succeeded)", None)]


def test_half_open_changes_nothing(recorder):
    BreakerIncidents(recorder, fallback_pager=None).record(BreakerTransition("database", "open", "half_open", {"reason": "probe"}))
    assert recorder.triggered == [] and recorder.recovered == []


@pytest.mark.parametrize("tier, budget, severity", [
    ("page-fast", "healthy", "P1"), ("page-slow", "healthy", "P2"), ("page-fast", "exhausted", "P0"),
    ("page-slow", "exhausted", "P1"), ("page-fast", "insufficient_history", "P1")])
def test_page_severity_follows_the_tier_and_an_exhausted_budget(tier, budget, severity):
    assert page_severity(tier, ("page-fast", "page-slow"), budget) == severity


def test_one_fingerprint_per_slo_whatever_the_tier():
    assert slo_fingerprint("availability") == "slo:availability"


def test_sink_satisfies_the_slo_engine_protocol():
    from chalicelib.slo.paging import AlertSink

    assert isinstance(SloAlertIncidentSink(RecordingTrigger(), None, timedelta(minutes=10)), AlertSink)

