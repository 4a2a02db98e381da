"""The dashboard over real stores (moto in-process) filled with each capability's golden records."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from tests.support.golden import golden

NOW = datetime(2026, 12, 1, 12, 15, tzinfo=timezone.utc)  # five minutes after the golden snapshot
OPEN_INCIDENT_ID = "inc-00000000000000aa"
RUNNING_EXPERIMENT_ID = "exp-00000000000a"


@pytest.fixture
def tables(aws_mock, monkeypatch):
    from chalicelib import wiring
    from devstack.provision import provision_tables

    monkeypatch.setenv("BREAKER_STORAGE", "memory")
    monkeypatch.setenv("DASHBOARD_INCIDENT_WINDOW_DAYS", "365")
    monkeypatch.setenv("DASHBOARD_CACHE_SECONDS", "0")  # every document reads; the cache has its own test
    wiring.reset()
    return provision_tables(boto3.client("dynamodb", region_name="us-east-1"))


@pytest.fixture
def dashboard_wiring(tables):
    """The process wiring, its clocks at NOW (the incident service's too)."""
    from chalicelib import wiring
    from chalicelib.incidents.service import IncidentService

    wired = wiring.current()
    wired.slo_status.clock = lambda: NOW
    wired.incident_service = IncidentService(wired.incident_store, wired.escalations, wired.escalation_policy(),
                                             clock=lambda: NOW)
    wired.dashboard.clock = lambda: NOW
    wired.dashboard.ports.tickets.clock = lambda: NOW
    # A breaker tripped below would open an incident of its own; the stored incidents here are the golden ones.
    wired.breaker_listeners = lambda name: []
    return wired


@pytest.fixture
def stored(dashboard_wiring):
    """Each capability's golden records, written through its own store; returns what was stored."""
    from chalicelib.chaos.journal import ExperimentRecord
    from chalicelib.incidents.model import Incident, parse_iso
    from chalicelib.incidents.tickets import Ticket
    from chalicelib.incidents.service import IncidentService
    from chalicelib.slo.records import Alert, HistoryPoint, ServiceSnapshot, SloSnapshot

    wired = dashboard_wiring
    snapshot = SloSnapshot.from_json(golden("slo_snapshot"))
    point = HistoryPoint.from_json(golden("slo_history_point"))
    older = replace(point, at="2026-11-20T12:00:00Z", budget_remaining_ratio=0.5)  # in the period, not the last week
    service = ServiceSnapshot.from_json(golden("slo_service_snapshot"))
    wired.slo_status_store.save_run([snapshot], [("success", point), ("success", older)], service,
                                    history_expires_at=int((NOW + timedelta(days=40)).timestamp()))
    alert = Alert.from_json(golden("slo_alert"))
    wired.slo_alert_store.open(alert)
    resolved = Incident.from_json(golden("incident"))
    opened = replace(resolved, status="triggered", acknowledged_at=None, acknowledged_by=None, mitigated_at=None,
                     resolved_at=None, resolved_by=None, escalation_execution=None, timeline=())
    still_open = replace(opened, id=OPEN_INCIDENT_ID, fingerprint="manual:dashboard-test",
                         opened_at="2026-12-01T12:01:00.000000Z")
    # The golden incident's life, through the incident service at the golden times (the store keeps
    # acknowledge and resolve times only through transitions).
    at = {"now": parse_iso(resolved.acknowledged_at)}
    lifecycle = IncidentService(wired.incident_store, wired.escalations, wired.escalation_policy(),
                                clock=lambda: at["now"])
    wired.incident_store.create(opened)
    lifecycle.acknowledge(resolved.id, resolved.acknowledged_by or "operator")
    at["now"] = parse_iso(resolved.resolved_at)
    lifecycle.resolve(resolved.id, resolved.resolved_by or "operator")
    wired.incident_store.create(still_open)
    wired.breaker_operations.act("database", "open", {"reason": "failover drill"}, operator="alice")
    ticket, _ = wired.ticket_store.create(Ticket.from_json(golden("ticket")))
    finished = ExperimentRecord.from_json(golden("chaos_experiment"))
    running = replace(finished, id=RUNNING_EXPERIMENT_ID, status="running", started_at="2026-12-05T03:00:00.00Z",
                      ended_at=None, reason="", steady_state_after=None, expected_responses=(), targets=("webhook",))
    for record in (finished, running):
        wired.chaos_journal.create(record, now=NOW.timestamp())
    return {"snapshot": snapshot, "point": point, "older": older, "service": service, "alert": alert,
            "resolved": resolved, "open": still_open, "ticket": ticket, "experiments": (running, finished)}
