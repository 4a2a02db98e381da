"""GET /sre/dashboard on the local stack with a week of history: latency percentiles and reads.

Run: ``python -m bench.dashboard [requests]`` (default 200, after 20 warm-up requests).

The stack starts without schedules; then, through the service's own stores pointed at the
stack's embedded AWS: a week of hourly history per SLO, a week of hourly request and
registration metrics over five routes, 40 incidents over the week (half resolved), and one
evaluator run. The dashboard is read one request at a time (what a page refresh does), next
to GET /sre/slos (one batch read), for the ratio. Target: p95 under 100 ms.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

import requests

from bench._targets import local_stack

HOURS = 7 * 24
ROUTES = ("/api/users", "/api/users/{user_id}", "/health", "/sre/slos", "/sre/incidents")
INCIDENTS = 40
TARGET_P95_MS = 100.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _seed(aws_endpoint: str) -> None:
    os.environ.update({"AWS_ENDPOINT_URL": aws_endpoint, "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
    from chalicelib import wiring
    from chalicelib.incidents.model import Incident, iso
    from chalicelib.slo.records import HistoryPoint

    wiring.reset()
    wired = wiring.current()
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    status = wired.slo_status_store
    service = status.service_snapshot()
    for slo in wired.slos:
        points = [(slo.name, HistoryPoint(at=(now - timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                          sli=0.999, good=999 * hour, valid=1000 * hour,
                                          budget_remaining_ratio=1 - hour / (HOURS * 2), burn_rate_1h=0.5,
                                          state="healthy")) for hour in range(1, HOURS + 1)]
        status.save_run([], points, service, history_expires_at=int((now + timedelta(days=40)).timestamp()))
    cloudwatch = wired.client("cloudwatch")
    settings = wired.settings.service
    dimensions = [{"Name": "service", "Value": settings.service_name}]
    for hour in range(HOURS):
        at = now - timedelta(hours=hour, minutes=-5)
        data = [{"MetricName": "requests", "Dimensions": dimensions + [{"Name": "route", "Value": route}],
                 "Value": 100.0, "Unit": "Count", "Timestamp": at} for route in ROUTES]
        data.append({"MetricName": "users_registered", "Dimensions": dimensions, "Value": 3.0, "Unit": "Count",
                     "Timestamp": at})
        cloudwatch.put_metric_data(Namespace=settings.metrics_namespace, MetricData=data)
    for index in range(INCIDENTS):
        opened = now - timedelta(hours=HOURS * index / INCIDENTS)
        incident = Incident(id=f"inc-{index:016x}", fingerprint=f"bench:{index}", severity="P3",
                            title=f"bench incident {index}", source="manual", status="triggered",
                            opened_at=iso(opened))
        wired.incident_store.create(incident)
        if index % 2:
            wired.incident_service.acknowledge(incident.id, "bench")
            wired.incident_service.resolve(incident.id, "bench")


def _timed(session: requests.Session, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
    return times


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 200
    with local_stack(schedules=False) as stack:
        aws_endpoint = stack.status()["aws_endpoint"]
        requests.post(f"{stack.control_url}/functions/slo-evaluator/invoke", data="{}", timeout=120).raise_for_status()
        _seed(aws_endpoint)
        session = requests.Session()
        dashboard_url, slos_url = stack.base_url + "/sre/dashboard", stack.base_url + "/sre/slos"
        _timed(session, dashboard_url, 20)
        _timed(session, slos_url, 20)
        dashboard, slos = [], []
        for _ in range(count // 10):  # interleaved blocks: drift hits both alike
            dashboard += _timed(session, dashboard_url, 10)
            slos += _timed(session, slos_url, 10)
        document = session.get(dashboard_url, timeout=30).json()
    history = max(len(item["burn_down"]) for item in document["slos"]["items"])
    print(f"GET /sre/dashboard, {len(dashboard)} requests, one at a time; {history} hourly points per SLO, "
          f"{document['incidents']['stats']['all']['incidents']} incidents, {len(document['business']['api_calls'])} routes")
    print(f"reads per document: {document['reads']['total']} ({document['reads']['by_section']})")
    print(f"{'':22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for label, values in (("GET /sre/dashboard", dashboard), ("GET /sre/slos", slos)):
        print(f"{label:22}{statistics.median(values):9.1f}{_percentile(values, 0.95):9.1f}"
              f"{_percentile(values, 0.99):9.1f}")
    p95 = _percentile(dashboard, 0.95)
    print(f"dashboard / slos p95 ratio: {p95 / _percentile(slos, 0.95):.1f}x; "
          f"target p95 < {TARGET_P95_MS:.0f} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
