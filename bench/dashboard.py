"""GET /sre/dashboard on the local stack with a week of history: latency percentiles and reads.

Run: ``python -m bench.dashboard [requests]`` (default 200, after 20 warm-up requests).

The stack starts without schedules; then, through the service's own stores pointed at the
stack's embedded AWS, a week of what the capabilities write: a history point per SLO per minute
(what the evaluator writes each run, with its hourly rollups), hourly request and registration
metrics over five routes, 40 incidents (half resolved), 10 tickets (half resolved) and 10 chaos
experiments, then one evaluator run. Measured, one request at a time (what a page refresh does):

- ``GET /sre/dashboard`` on the stack (target: p95 under 100 ms);
- ``GET /sre/slos`` on the stack (one batch read: the floor of a request there);
- the same document builder (``DashboardService``) in this process over in-memory stores holding
  the same records (the builder's own cost, no store I/O);
- the same builder in this process against the stack's stores with ``cache_seconds=0`` (business
  figures and capacity read for every document: what a document costs when the process's copies
  are older than ``DASHBOARD_CACHE_SECONDS``; closed hours of SLO history stay kept).
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import requests

from bench._targets import local_stack

DAYS = 7
ROUTES = ("/api/users", "/api/users/{user_id}", "/health", "/sre/slos", "/sre/incidents")
INCIDENTS = 40
TICKETS = 10
EXPERIMENTS = 10
TARGET_P95_MS = 100.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed_records(now: datetime, slos: Any, status: Any, incidents: Any, tickets: Any, journal: Any) -> None:
    """A week of what the capabilities store, written through their stores (stack or in memory)."""
    from chalicelib.chaos.journal import ExperimentRecord
    from chalicelib.incidents.model import Incident, TimelineEvent, iso
    from chalicelib.incidents.tickets import Ticket, ticket_id_for
    from chalicelib.slo.records import HistoryPoint

    minutes = DAYS * 24 * 60
    service = status.service_snapshot()
    expires = int((now + timedelta(days=40)).timestamp())
    for slo in slos:
        points = [(slo.name, HistoryPoint(at=_stamp(now - timedelta(minutes=minute)), sli=0.999, good=999 * minute,
                                          valid=1000 * minute, budget_remaining_ratio=1 - minute / (minutes * 2),
                                          burn_rate_1h=0.5, state="healthy"))
                  for minute in range(minutes, 0, -1)]
        for start in range(0, len(points), 2000):
            status.save_run([], points[start:start + 2000], service, history_expires_at=expires)
    for index in range(INCIDENTS):
        opened = now - timedelta(hours=DAYS * 24 * index / INCIDENTS)
        incidents.create(Incident(id=f"inc-{index:016x}", fingerprint=f"bench:{index}", severity="P3",
                                  title=f"bench incident {index}", source="manual", status="triggered",
                                  opened_at=iso(opened)))
        if index % 2:
            incidents.transition(f"inc-{index:016x}", "resolved",
                                 TimelineEvent(at=iso(opened + timedelta(minutes=20)), kind="resolved",
                                               message="resolved", actor="bench"), "bench")
    for index in range(TICKETS):
        alert_id = f"success/ticket-slow/{index}"
        opened = _stamp(now - timedelta(hours=DAYS * 24 * index / TICKETS))
        ticket = Ticket(id=ticket_id_for(alert_id), alert_id=alert_id, slo="success", tier="ticket-slow",
                        title="Success rate: slow error budget burn (ticket-slow)", summary="bench",
                        runbook="runbooks/slo-ticket-slow.md", opened_at=opened, published=True,
                        details={"long_burn_rate": 1.4, "short_burn_rate": 1.2})
        tickets.create(ticket if index % 2 == 0 else replace(ticket, status="resolved", resolved_at=opened,
                                                             resolution="alert resolved"))
    for index in range(EXPERIMENTS):
        started = now - timedelta(hours=DAYS * 24 * (index + 1) / (EXPERIMENTS + 1))
        journal.create(ExperimentRecord(
            id=f"exp-{index:012x}", title=f"bench experiment {index}", source="dynamodb-failure", definition={},
            targets=(f"bench-{index}",), status="completed", started_at=_stamp(started), started_by="bench",
            ends_by=(started + timedelta(minutes=5)).timestamp(), ended_at=_stamp(started + timedelta(minutes=5)),
            reason="the service responded as designed",
            timeline=tuple({"at": _stamp(started + timedelta(seconds=step)), "event": f"step {step}"}
                           for step in range(12))), now=now.timestamp())


def _seed_metrics(now: datetime, cloudwatch: Any, namespace: str, service_name: str) -> None:
    dimensions = [{"Name": "service", "Value": service_name}]
    for hour in range(DAYS * 24):
        at = now - timedelta(hours=hour, minutes=-5)
        data = [{"MetricName": "requests", "Dimensions": dimensions + [{"Name": "route", "Value": route}],
                 "Value": 100.0, "Unit": "Count", "Timestamp": at} for route in ROUTES]
        data.append({"MetricName": "users_registered", "Dimensions": dimensions, "Value": 3.0, "Unit": "Count",
                     "Timestamp": at})
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)


def _seed_stack(aws_endpoint: str, now: datetime) -> Any:
    os.environ.update({"AWS_ENDPOINT_URL": aws_endpoint, "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
    from chalicelib import wiring

    wiring.reset()
    wired = wiring.current()
    _seed_records(now, wired.slos, wired.slo_status_store, wired.incident_store, wired.ticket_store,
                  wired.chaos_journal)
    settings = wired.settings.service
    _seed_metrics(now, wired.client("cloudwatch"), settings.metrics_namespace, settings.service_name)
    return wired


def _builder(wired: Any, *, cache_seconds: float, in_memory: bool, now: datetime) -> Any:
    """The stack's document builder over the stack's stores, or over in-memory stores seeded alike."""
    from chalicelib.dashboard.sections import CapacitySection, ExperimentsSection, TicketsSection
    from chalicelib.dashboard.service import DashboardService

    ports = wired.dashboard.ports
    if in_memory:
        # The in-memory stores the contract suites hold to the same behaviour as the DynamoDB ones.
        from chalicelib.capacity.plan import CapacityPlanner
        from chalicelib.capacity.store import MemoryCapacityStore
        from chalicelib.chaos.journal import MemoryJournal
        from chalicelib.incidents.service import IncidentService
        from chalicelib.incidents.tickets import TicketService
        from chalicelib.resilience.operations import BreakerOperations
        from chalicelib.resilience.registry import BreakerRegistry
        from chalicelib.slo.status import SloStatusReader
        from tests.support.incidents import InMemoryIncidentStore, InMemoryTicketStore, RecordingTicketPublisher
        from tests.support.slo import InMemoryAlerts, InMemoryBuckets, InMemoryStatus

        status, incidents, tickets, journal = InMemoryStatus(), InMemoryIncidentStore(), InMemoryTicketStore(), \
            MemoryJournal()
        status.save_run([], [], wired.slo_status_store.service_snapshot(), history_expires_at=0)
        _seed_records(now, wired.slos, status, incidents, tickets, journal)
        figures = wired.business_figures.read()
        settings = wired.settings
        ports = replace(
            ports, slo_status=SloStatusReader(wired.slos, status=status, alerts=InMemoryAlerts(),
                                              buckets=InMemoryBuckets(),
                                              stale_after_seconds=settings.slo.stale_after_seconds),
            incidents=IncidentService(incidents, wired.escalations, wired.escalation_policy()),
            breakers=BreakerOperations(BreakerRegistry(wired.breaker_configs)),
            business=type("Figures", (), {"read": staticmethod(lambda: figures)})(),
            ping_users_table=lambda: None, describe_escalation_workflow=None,
            tickets=TicketsSection(TicketService(tickets, RecordingTicketPublisher()),
                                   window_days=settings.dashboard.incident_window_days,
                                   limit=settings.dashboard.recent_tickets),
            experiments=ExperimentsSection(journal, limit=settings.dashboard.recent_experiments),
            capacity=CapacitySection(CapacityPlanner(settings.capacity, MemoryCapacityStore())))
    dashboard = wired.settings.dashboard
    return DashboardService(ports, history_hours=dashboard.history_hours,
                            incident_window_days=dashboard.incident_window_days,
                            refresh_seconds=dashboard.refresh_seconds, recent_incidents=dashboard.recent_incidents,
                            cache_seconds=cache_seconds)


def _timed(call: Callable[[], Any], count: int, results: list | None = None) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
        if results is not None:
            results.append(result)
    return times


def _get(session: requests.Session, url: str) -> Callable[[], Any]:
    def call() -> Any:
        response = session.get(url, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
        return response.json()
    return call


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 200
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    with local_stack(schedules=False) as stack:
        aws_endpoint = stack.status()["aws_endpoint"]
        stack.invoke("slo-evaluator", timeout=120).raise_for_status()
        seeding = time.perf_counter()
        wired = _seed_stack(aws_endpoint, now)
        print(f"seeded in {time.perf_counter() - seeding:.0f} s")
        session = requests.Session()
        measured: dict[str, Callable[[], Any]] = {
            "GET /sre/dashboard": _get(session, stack.base_url + "/sre/dashboard"),
            "GET /sre/slos": _get(session, stack.base_url + "/sre/slos"),
            "builder, in-memory stores": _builder(wired, cache_seconds=60, in_memory=True, now=now).document,
            "builder, stack, uncached": _builder(wired, cache_seconds=0, in_memory=False, now=now).document,
        }
        times: dict[str, list[float]] = {label: [] for label in measured}
        documents: dict[str, list[Any]] = {label: [] for label in measured}
        for label, call in measured.items():
            _timed(call, 10)
        for _ in range(max(1, count // 10)):  # interleaved blocks: drift hits all alike
            for label, call in measured.items():
                times[label] += _timed(call, 10, documents[label])
    served = documents["GET /sre/dashboard"]
    document = served[-1]
    history = max(len(item["burn_down"]) for item in document["slos"]["items"])
    print(f"GET /sre/dashboard, {len(served)} requests, one at a time; a week of minute history points per SLO "
          f"({history} hourly points read each), {document['incidents']['stats']['all']['incidents']} incidents, "
          f"{document['tickets']['summary']['opened_in_window']} tickets, {document['experiments']['summary']['shown']}"
          f" experiments, {len(document['business']['api_calls'])} routes")
    print(f"reads per document: {document['reads']['total']} of at most {document['reads']['bound']} "
          f"({document['reads']['by_section']})")
    for label in ("GET /sre/dashboard", "builder, stack, uncached"):
        docs = documents[label]
        sections = sorted({name for doc in docs for name in doc["reads"]["section_ms"]})
        print(f"{label}: section build ms p50/p95: " + ", ".join(
            f"{name} {statistics.median(doc['reads']['section_ms'][name] for doc in docs):.0f}/"
            f"{_percentile([doc['reads']['section_ms'][name] for doc in docs], 0.95):.0f}" for name in sections))
    print(f"{'':28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for label, values in times.items():
        print(f"{label:28}{statistics.median(values):9.1f}{_percentile(values, 0.95):9.1f}"
              f"{_percentile(values, 0.99):9.1f}")
    p95 = _percentile(times["GET /sre/dashboard"], 0.95)
    print(f"GET /sre/dashboard p95 {p95:.1f} ms against the target {TARGET_P95_MS:.0f} ms: "
          f"{'met' if p95 < TARGET_P95_MS else 'NOT met'}; "
          f"{p95 / _percentile(times['builder, in-memory stores'], 0.95):.1f}x the builder on in-memory stores, "
          f"{p95 / _percentile(times['GET /sre/slos'], 0.95):.1f}x GET /sre/slos")
    return 0


if __name__ == "__main__":
    from bench._command import run_benchmark

    sys.exit(run_benchmark("bench.dashboard", __doc__, main, count='requests (default 200)'))
