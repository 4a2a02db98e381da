"""The dashboard document: every figure read from what another capability stores, through its port.

Reads per document (the ``reads`` section repeats them with what was actually done):

- SLOs: 1 batch read of the latest snapshots, 1 query of open alerts, 1 read of the service
  snapshot, 1 read of the evaluator's record, 1 batch read of every SLO's hourly rollups of the
  previous and current hour (closed hours are kept in the process: chalicelib/dashboard/history.py),
  and, in a process's first document or after a long gap, 1 query per SLO of its period's rollups;
- incidents: 1 query of incidents opened in the stats window, 1 query of those still open from
  before it;
- tickets: 1 query of open tickets, 1 of those opened in the window;
- chaos experiments: 1 query of the journal's newest records;
- breakers: 1 state read per configured breaker;
- health: 1 users-table round trip, 1 DescribeStateMachine of the escalation workflow;
- business figures: 1 ListMetrics + 1 GetMetricData per window (4), at most once per
  ``cache_seconds`` per process;
- capacity: the capacity plan's 3 reads (latest report, latest saturation point per unit), at
  most once per ``cache_seconds`` per process.

So at most ``19 + slos + breakers`` calls per document (``reads.bound``), whatever the amount
of history or traffic; ``12 + breakers`` once the process keeps the closed hours and while business
figures and capacity come from its copy. Those two sections say when they were computed (``computed_at``,
``age_seconds``, ``max_age_seconds``); every other section is read for this document. The
sections are built concurrently, each on its own thread, so the document takes about as long as
its slowest section. A section of a capability not wired here says ``unavailable``; a section
whose read fails says ``failed`` with the error, never zeros.
"""
from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Optional

from chalicelib.dashboard.history import HourlyHistory
from chalicelib.incidents.reports import reliability_stats
from chalicelib.slo.timeutil import duration_minutes, iso, parse_iso, utc_now

OK, EMPTY, UNAVAILABLE, FAILED = "ok", "empty", "unavailable", "failed"
# Component states, worst last.
UP, DEGRADED, DOWN, UNKNOWN = "ok", "degraded", "down", "unknown"
_RANK = {UP: 0, UNKNOWN: 1, DEGRADED: 2, DOWN: 3}
# Reads that do not depend on configuration: see the module docstring.
FIXED_READS = 19
CACHED_SECTIONS = ("business", "capacity")


@dataclass(frozen=True)
class DashboardPorts:
    """What the dashboard reads, each the capability's own port (never its tables)."""
    slo_status: Any  # chalicelib.slo.status.SloStatusReader
    incidents: Any  # chalicelib.incidents.service.IncidentService
    breakers: Any  # chalicelib.resilience.operations.BreakerOperations
    business: Any  # chalicelib.dashboard.business.CloudWatchBusinessFigures
    ping_users_table: Callable[[], None]
    describe_escalation_workflow: Optional[Callable[[], Mapping[str, Any]]]  # None: none configured
    latency_thresholds_ms: tuple[int, ...]
    latency_slo_threshold_ms: Optional[int] = None
    tickets: Any = None  # chalicelib.dashboard.sections.TicketsSection; None: not wired
    experiments: Any = None  # chalicelib.dashboard.sections.ExperimentsSection; None: not wired
    capacity: Any = None  # chalicelib.dashboard.sections.CapacitySection; None: not wired


def _section(status: str, **body: Any) -> dict[str, Any]:
    return {"status": status, **body}


def _failure(exc: BaseException) -> dict[str, Any]:
    return _section(FAILED, error=f"{type(exc).__name__}: {exc}"[:300])


class RecentlyComputed:
    """One section's last good body and when it was computed, reused for ``max_age_seconds``.

    A single value with its computation time, which the document shows: a TTL cache library
    would hide that time. A failed computation is not kept (the next document retries)."""

    def __init__(self, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        self._body: Optional[dict[str, Any]] = None
        self._computed_at: Optional[datetime] = None
        self._lock = threading.Lock()

    def get(self, now: datetime, compute: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """The body with its ``computed_at``/``age_seconds``, and whether it was computed now."""
        with self._lock:
            fresh = self._computed_at is not None and self.max_age_seconds > 0 and (
                0 <= (now - self._computed_at).total_seconds() < self.max_age_seconds)
            if fresh:
                body, computed_at = dict(self._body), self._computed_at
            else:
                body, computed_at = compute(), now
                if body.get("status") != FAILED:
                    self._body, self._computed_at = body, now
        return {**body, "computed_at": iso(computed_at), "age_seconds": (now - computed_at).total_seconds(),
                "max_age_seconds": self.max_age_seconds}, not fresh


class DashboardService:
    def __init__(self, ports: DashboardPorts, *, history_hours: int, incident_window_days: int,
                 refresh_seconds: int, recent_incidents: int, cache_seconds: float = 0, logger: Any = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.ports = ports
        self.history_hours = history_hours
        self.incident_window_days = incident_window_days
        self.refresh_seconds = refresh_seconds
        self.recent_incidents = recent_incidents
        self._logger = logger
        self.clock = clock
        self._kept = {name: RecentlyComputed(cache_seconds) for name in CACHED_SECTIONS}
        self._history = HourlyHistory(ports.slo_status.status)
        # The most reads one document makes (see the module docstring): fixed by configuration.
        self.read_bound = FIXED_READS + len(ports.slo_status.slos) + len(ports.breakers.names())

    def _guarded(self, name: str, build: Callable[[], dict[str, Any]], reads: dict[str, int],
                 timings: dict[str, float]) -> dict[str, Any]:
        # The one deliberate catch-all: a capability's outage must show as that section failing,
        # not take the whole dashboard down; the error is logged and shown in the section.
        started = time.perf_counter()
        try:
            return build()
        except Exception as exc:  # noqa: BLE001 - reported in the document and the log
            if self._logger is not None:
                self._logger.warning("dashboard section failed", extra={"section": name, "error": repr(exc)[:300]})
            reads.setdefault(name, 1)
            return _failure(exc)
        finally:
            timings[name] = round((time.perf_counter() - started) * 1000, 1)

    def document(self) -> dict[str, Any]:
        started = time.perf_counter()
        now = self.clock()
        reads: dict[str, int] = {}
        timings: dict[str, float] = {}
        ports = self.ports
        sections: dict[str, Callable[[], dict[str, Any]]] = {
            "slos": lambda: self._slos(now, reads, histories),
            "evaluator": lambda: self._plane(reads),
            "alerts": lambda: self._alerts(reads),
            "breakers": lambda: self._breakers(reads),
            "incidents": lambda: self._incidents(now, reads),
            "latency": lambda: self._latency(reads),
            "business": lambda: self._kept_section("business", now, lambda: self._business(reads), reads),
            "tickets": lambda: self._optional("tickets", ports.tickets, reads),
            "experiments": lambda: self._optional("experiments", ports.experiments, reads),
            "capacity": lambda: self._kept_section(
                "capacity", now, lambda: self._optional("capacity", ports.capacity, reads), reads),
        }
        checks = {"users_table": lambda: self._users_table(reads),
                  "escalation_workflow": lambda: self._escalation_component(reads)}
        # Each section waits on its own store; on threads the document takes as long as the slowest.
        # One thread per task, so the SLO section waiting on the histories never starves them.
        with ThreadPoolExecutor(max_workers=len(sections) + len(checks) + 1,
                                thread_name_prefix="dashboard-section") as pool:
            histories = pool.submit(self._hourly_histories, now, reads)
            pending = {name: pool.submit(self._guarded, name, build, reads, timings)
                       for name, build in sections.items()}
            checked = {name: pool.submit(check) for name, check in checks.items()}
            built = {name: future.result() for name, future in pending.items()}
            components = {name: future.result() for name, future in checked.items()}
        plane, breakers = built["evaluator"], built["breakers"]
        health = [components["users_table"], self._evaluator_component(plane), self._metrics_component(plane),
                  self._breakers_component(breakers), components["escalation_workflow"]]
        return {
            "generated_at": iso(now),
            "refresh_seconds": self.refresh_seconds,
            "health": {"status": max((item["status"] for item in health), key=_RANK.__getitem__),
                       "components": health},
            **{name: built[name] for name in ("evaluator", "slos", "alerts", "tickets", "breakers", "incidents",
                                              "experiments", "capacity", "latency", "business")},
            "reads": {"total": sum(reads.values()), "bound": self.read_bound, "by_section": dict(sorted(reads.items())),
                      "section_ms": dict(sorted(timings.items())),
                      "build_ms": round((time.perf_counter() - started) * 1000, 1)},
        }

    def _kept_section(self, name: str, now: datetime, build: Callable[[], dict[str, Any]],
                      reads: dict[str, int]) -> dict[str, Any]:
        body, computed = self._kept[name].get(now, build)
        if not computed:
            reads[name] = 0
        return body

    # -- SLOs --------------------------------------------------------------------------------------
    def _hourly_histories(self, now: datetime, reads: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
        """Each SLO's hourly rollup points over its period (see chalicelib/dashboard/history.py)."""
        periods = [(slo.name, now - _period(slo.describe()["period"])) for slo in self.ports.slo_status.slos]
        points, reads["slo_history"] = self._history.points(periods, now)
        return {name: [point.to_json() for point in found] for name, found in points.items()}

    def _slos(self, now: datetime, reads: dict[str, int], histories: Future) -> dict[str, Any]:
        reader = self.ports.slo_status
        summaries = reader.summaries()
        reads["slo_snapshots"] = 1
        items = []
        history_start = now - timedelta(hours=self.history_hours)
        hourly = histories.result()
        for summary in summaries:
            definition = summary["definition"]
            period = definition["period"]
            points = hourly.get(summary["name"], [])
            items.append({
                "name": summary["name"], "display_name": summary["display_name"], "target": summary["target"],
                "period": period, "evaluated": summary["evaluated"], "evaluated_at": summary["evaluated_at"],
                "windows": summary["windows"], "budget": summary["budget"], "tiers": summary["tiers"],
                "open_alerts": summary["open_alerts"], "budget_policy": definition["budget_policy"],
                "alert_tiers": definition["tiers"],
                # The whole period for the burn-down; the last history_hours for SLI and burn-rate charts.
                "burn_down": [{"at": point["at"], "budget_remaining_ratio": point["budget_remaining_ratio"]}
                              for point in points],
                "history": [point for point in points if parse_iso(point["at"]) >= history_start],
            })
        return _section(OK if items and any(item["evaluated"] for item in items) else EMPTY,
                        history_hours=self.history_hours, items=items)

    def _plane(self, reads: dict[str, int]) -> dict[str, Any]:
        plane = dict(self.ports.slo_status.plane_health())
        reads["evaluator_record"] = 1
        state = plane.pop("status")  # ok | degraded | stale | never_run
        return _section(OK if state != "never_run" else EMPTY, state=state, **plane)

    def _alerts(self, reads: dict[str, int]) -> dict[str, Any]:
        open_alerts = self.ports.slo_status.open_alerts(100)
        reads["open_alerts"] = 1
        return _section(OK if open_alerts else EMPTY, open=open_alerts)

    def _latency(self, reads: dict[str, int]) -> dict[str, Any]:
        snapshot = self.ports.slo_status.service_metrics()
        reads["service_snapshot"] = 1
        thresholds = list(self.ports.latency_thresholds_ms)
        if not snapshot.get("evaluated_at"):
            return _section(EMPTY, thresholds_ms=thresholds, slo_threshold_ms=self.ports.latency_slo_threshold_ms,
                            evaluated_at=None, windows={})
        windows = {}
        for name, window in snapshot["windows"].items():
            counts = window["counts"]
            valid = window["valid_requests"]
            # A rung the evaluator did not count (the ladder changed since) is left out, not shown as 0.
            rungs = [ms for ms in thresholds if f"latency_good_{ms}ms" in counts]
            under = [int(counts[f"latency_good_{ms}ms"]) for ms in rungs]
            # Requests per band: (previous rung, this rung], and what took longer than the last rung.
            bands = [{"le_ms": ms, "count": count - (under[index - 1] if index else 0),
                      "cumulative": count, "cumulative_ratio": count / valid if valid else None}
                     for index, (ms, count) in enumerate(zip(rungs, under))]
            bands.append({"le_ms": None, "count": valid - (under[-1] if under else 0), "cumulative": valid,
                          "cumulative_ratio": 1.0 if valid else None})
            windows[name] = {"valid_requests": valid, "requests": window["requests"],
                             "server_errors": window["server_errors"], "error_rate": window["error_rate"],
                             "request_rate_per_second": window["request_rate_per_second"], "bands": bands}
        return _section(OK, thresholds_ms=thresholds, slo_threshold_ms=self.ports.latency_slo_threshold_ms,
                        evaluated_at=snapshot["evaluated_at"], windows=windows)

    # -- breakers and incidents ------------------------------------------------------------------
    def _breakers(self, reads: dict[str, int]) -> dict[str, Any]:
        items = self.ports.breakers.list()["circuit_breakers"]
        reads["breakers"] = len(items)
        return _section(OK if items else EMPTY, items=items)

    def _incidents(self, now: datetime, reads: dict[str, int]) -> dict[str, Any]:
        service = self.ports.incidents
        window = timedelta(days=self.incident_window_days)
        recent, start, end = service.opened_since(window)
        # Open ones from the window's query, then those opened before it: two queries in all.
        open_items = [item for item in recent if item.is_open] + service.open_before(start)
        reads["incidents"] = 2
        return _section(
            OK if recent or open_items else EMPTY, window_days=self.incident_window_days,
            open=[item.to_json(with_timeline=False) for item in open_items],
            recent=[item.to_json(with_timeline=False) for item in recent[:self.recent_incidents]],
            stats=reliability_stats(recent, start, end))

    # -- capabilities that may not be deployed ---------------------------------------------------
    _WHAT = {"tickets": "alerting tickets", "experiments": "chaos experiments", "capacity": "capacity planning"}

    def _optional(self, name: str, reader: Any, reads: dict[str, int]) -> dict[str, Any]:
        if reader is None:
            return _section(UNAVAILABLE, reason=f"{self._WHAT[name]} is not wired into this deployment")
        body = reader.dashboard_section()
        reads[name] = int(body.pop("reads", 1))
        status = body.pop("status", None) or (OK if body.get("items") or body.get("summary") else EMPTY)
        return _section(status, **body)

    def _business(self, reads: dict[str, int]) -> dict[str, Any]:
        figures = self.ports.business.read()
        reads["business"] = figures.reads
        body = figures.to_json()
        return _section(OK if body["api_calls"] else EMPTY, **body)

    # -- system health -----------------------------------------------------------------------------
    def _users_table(self, reads: dict[str, int]) -> dict[str, Any]:
        started = time.perf_counter()
        reads["users_table"] = 1
        try:
            self.ports.ping_users_table()
        except Exception as exc:  # noqa: BLE001 - the component is down; the error is shown
            return _component("users_table", DOWN, f"{type(exc).__name__}: {exc}"[:200])
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return _component("users_table", UP, f"round trip {elapsed} ms", round_trip_ms=elapsed)

    def _escalation_component(self, reads: dict[str, int]) -> dict[str, Any]:
        if self.ports.describe_escalation_workflow is None:
            return _component("escalation_workflow", UNKNOWN, "no escalation state machine configured")
        reads["escalation_workflow"] = 1
        try:
            described = self.ports.describe_escalation_workflow()
        except Exception as exc:  # noqa: BLE001 - the component is down; the error is shown
            return _component("escalation_workflow", DOWN, f"{type(exc).__name__}: {exc}"[:200])
        status = described.get("status", "UNKNOWN")
        return _component("escalation_workflow", UP if status == "ACTIVE" else DOWN, f"state machine {status}")

    @staticmethod
    def _evaluator_component(plane: Mapping[str, Any]) -> dict[str, Any]:
        if plane["status"] == FAILED:
            return _component("slo_evaluator", DOWN, plane["error"])
        lag = plane.get("lag_seconds")
        detail = {"never_run": "the evaluator has never run: no SLO figures yet",
                  "stale": f"last evaluated minute is {lag:.0f} s old" if lag is not None else "stale",
                  "degraded": "last run had errors", "ok": f"lag {lag:.0f} s" if lag is not None else "ok"}
        state = {"never_run": UNKNOWN, "stale": DOWN, "degraded": DEGRADED, "ok": UP}.get(plane["state"], UNKNOWN)
        return _component("slo_evaluator", state, detail.get(plane["state"], plane["state"]), lag_seconds=lag)

    @staticmethod
    def _metrics_component(plane: Mapping[str, Any]) -> dict[str, Any]:
        """Whether request metrics reach CloudWatch: the newest minute with data the evaluator saw."""
        if plane["status"] == FAILED:
            return _component("metric_forwarding", UNKNOWN, "evaluator record unreadable")
        age = plane.get("data_age_seconds")
        if age is None:
            return _component("metric_forwarding", UNKNOWN, "no request metrics seen yet")
        stale_after = plane.get("stale_after_seconds") or 0
        state = UP if age <= stale_after else DEGRADED
        return _component("metric_forwarding", state, f"newest metric minute {age:.0f} s old", data_age_seconds=age)

    @staticmethod
    def _breakers_component(breakers: Mapping[str, Any]) -> dict[str, Any]:
        if breakers["status"] == FAILED:
            return _component("circuit_breakers", UNKNOWN, breakers["error"])
        tripped = [item["name"] for item in breakers.get("items", []) if item["state"] != "closed"]
        if not tripped:
            return _component("circuit_breakers", UP, f"{len(breakers.get('items', []))} closed")
        return _component("circuit_breakers", DEGRADED, f"not closed: {', '.join(tripped)}", tripped=tripped)


def _component(name: str, status: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "status": status, "detail": detail, **extra}


def _period(text: str) -> timedelta:
    return timedelta(minutes=duration_minutes(text))



_LATENCY_METRIC = re.compile(r"latency_good_([0-9]+)ms")


def latency_slo_threshold(slos: Any) -> Optional[int]:
    """The threshold the latency SLO counts under (its source names the metric), if one does."""
    for slo in slos:
        match = _LATENCY_METRIC.search(json.dumps(slo.describe()["sources"]))
        if match:
            return int(match.group(1))
    return None
