"""Outage shapes replayed minute by minute through the evaluator and the incident side: the
pages, incidents and tickets each produces are exactly those in runbooks/outage-shapes.md."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.unit.slo.helpers import T0
from tests.unit.slo.outage_shapes import SHAPES, ReplayedMetrics

DOC = Path(__file__).resolve().parents[3] / "runbooks" / "outage-shapes.md"
COLUMNS = ("shape", "pages", "incidents", "tickets")


class RecordingEscalations:
    """Every escalation start is a page to level 1: when, for which SLO, at which severity."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.pages: list[tuple[object, str, str]] = []

    def status(self, execution_arn):
        return "RUNNING"

    def start(self, incident, start_level=1):
        self.pages.append((self.clock(), incident.target, incident.severity))
        return f"arn:aws:states:us-east-1:123456789012:execution:escalation:{incident.id}-{len(self.pages)}"

    def abort(self, execution_arn, reason):
        return True

    def stop(self, task_token, outcome):
        return True


def documented_outcomes() -> dict[str, dict[str, str]]:
    """The rows of the table in runbooks/outage-shapes.md, by shape."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == len(COLUMNS) + 1 and cells[0] in SHAPES:
            rows[cells[0]] = dict(zip(COLUMNS, [cells[0]] + cells[2:]))
    return rows


def _offset(moment) -> str:
    return f"+{int((moment - T0) / timedelta(minutes=1))}m"


@pytest.fixture
def replay(shipped_slos, clock):
    """Runs a shape through the real evaluator and incident side over in-memory stores."""
    from chalicelib.incidents.adapters import SloAlertIncidentSink
    from chalicelib.incidents.policy import EscalationPolicy
    from chalicelib.incidents.service import IncidentService
    from chalicelib.incidents.tickets import TicketService
    from chalicelib.observability.logging import build_logger
    from chalicelib.settings import Settings
    from chalicelib.slo.alert_lifecycle import AlertLifecycle
    from chalicelib.slo.evaluation import Evaluator, service_counter_names
    from chalicelib.slo.sources import service_counter
    from tests.support.incidents import InMemoryIncidentStore, InMemoryTicketStore, RecordingTicketPublisher
    from tests.support.slo import InMemoryAlerts, InMemoryBuckets, InMemoryStatus

    # The first run reads the whole day of history; the rest as deployed.
    settings = Settings.from_env({"SLO_CATCHUP_HOURS": "25"})

    def run(shape):
        escalations = RecordingEscalations(clock)
        incidents = IncidentService(InMemoryIncidentStore(), escalations,
                                    EscalationPolicy.from_settings(settings.incidents), clock=clock)
        tickets = TicketService(InMemoryTicketStore(), RecordingTicketPublisher(), clock)
        sink = SloAlertIncidentSink(incidents, tickets, timedelta(seconds=settings.incidents.hold_down_seconds))
        reader = ReplayedMetrics(shape.minutes(T0))
        thresholds = settings.service.latency_thresholds_ms
        logger = build_logger(settings.service.service_name)
        evaluator = Evaluator(
            shipped_slos, reader=reader, buckets=InMemoryBuckets(), status=InMemoryStatus(),
            alerts=AlertLifecycle(InMemoryAlerts(), sink, logger, settings.service.runbooks_base_url),
            service_counters=[service_counter(settings, name) for name in service_counter_names(thresholds)],
            settings=settings.slo, latency_thresholds_ms=thresholds, logger=logger, clock=clock)
        for minute in range(shape.watch_minutes + 1):
            clock.now = reader.now = T0 + timedelta(minutes=minute)
            report = evaluator.run()
            assert report.errors == []
        return outcome(escalations, incidents, tickets)

    return run


def outcome(escalations, incidents, tickets) -> dict[str, str]:
    pages = [f"{_offset(at)} {slo} {severity}" for at, slo, severity in escalations.pages]
    described = []
    for incident in sorted(incidents.list(), key=lambda item: item.opened_at):
        path = [incident.timeline[0].message.split(" ", 1)[0]]
        path += [event.data["severity"] for event in incident.timeline
                 if event.kind in ("severity_raised", "severity_lowered")]
        from chalicelib.incidents.model import parse_iso

        ending = (f"resolved {_offset(parse_iso(incident.resolved_at))}" if incident.resolved_at
                  else "open")
        reopened = sum(1 for event in incident.timeline if event.kind == "reopened")
        described.append(f"{incident.target} {'>'.join(path)}, "
                         + (f"reopened {reopened}x, " if reopened else "") + ending)
    ticketed = [f"{ticket.slo} {ticket.tier}" + (" (linked)" if ticket.incident_id else "")
                for ticket in sorted(tickets.list(), key=lambda item: item.opened_at)]
    return {"pages": "; ".join(pages) or "none", "incidents": "; ".join(described) or "none",
            "tickets": "; ".join(ticketed) or "none"}


def test_the_docs_table_lists_every_shape():
    assert sorted(documented_outcomes()) == sorted(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_outage_shape_pages_exactly_as_documented(replay, name):
    actual = replay(SHAPES[name])
    documented = documented_outcomes()[name]
    assert {"shape": name, **actual} == documented
