"""The SLO run, every minute: CloudWatch minute Sums -> buckets and rollups -> figures,
status snapshots and alerts.

Each run reads [last evaluated minute - SLO_REREAD_MINUTES, now) from CloudWatch (so late
data lands; at most SLO_CATCHUP_HOURS back after a gap), applies the minutes to the rollup
(``chalicelib.slo.rollup``), computes each SLO's snapshot, hands its alerts to the lifecycle
(``chalicelib.slo.alert_lifecycle``) and stores the snapshots and history points
(``chalicelib.slo.records``). Running it twice on the same data writes no bucket the second time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Optional, Protocol

from chalicelib.settings import SloSettings
from chalicelib.slo import alerting, budget
from chalicelib.slo.alert_lifecycle import AlertLifecycle
from chalicelib.slo.cloudwatch import MinuteSums
from chalicelib.slo.config import SloDefinition
from chalicelib.slo.records import BudgetSummary, HistoryPoint, ServiceSnapshot, ServiceWindow, SloSnapshot
from chalicelib.slo.rollup import BucketWriter, SeriesView, apply_minutes
from chalicelib.slo.sources import AppCounters, MetricRef
from chalicelib.slo.store import SERVICE_SERIES
from chalicelib.slo.timeutil import MINUTE, duration_minutes, floor_minute, format_minutes, iso, parse_iso, utc_now

DISPLAY_WINDOWS = (5, 30, 60, 120, 360, 1440, 4320)
SERVICE_COUNTERS = ("requests", "valid_requests", "server_errors", "data_queries", "fresh_data_queries",
                    "probe_total", "probe_success")


class MetricSums(Protocol):
    calls: int

    def minute_sums(self, metrics: list[MetricRef], start: datetime, end: datetime) -> MinuteSums: ...


class RunStatus(Protocol):
    """Where a run stores what it computed (``chalicelib.slo.store.StatusStore``)."""

    def save_run(self, snapshots: Iterable[SloSnapshot], history: Iterable[tuple[str, HistoryPoint]],
                 service: ServiceSnapshot, history_expires_at: int) -> None: ...

    def evaluator_record(self) -> Optional[dict[str, Any]]: ...

    def save_evaluator_record(self, data: dict[str, Any]) -> None: ...


class CountingBuckets(BucketWriter, Protocol):
    items_written: int


@dataclass
class RunReport:
    end: datetime
    fetch_start: datetime
    slos: int = 0
    minutes_changed: int = 0
    buckets_written: int = 0
    cloudwatch_calls: int = 0
    alerts_opened: list[str] = field(default_factory=list)
    alerts_resolved: list[str] = field(default_factory=list)
    gap_minutes_skipped: int = 0
    errors: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    # The newest minute evaluated without errors, by this run or an earlier one (None: none yet).
    # A run with errors does not move it on, so the evaluator's lag is counted from here.
    evaluated_through: Optional[datetime] = None

    def to_json(self) -> dict[str, Any]:
        return {"end": iso(self.end), "fetch_start": iso(self.fetch_start),
                "evaluated_through": iso(self.evaluated_through) if self.evaluated_through else None,
                "slos": self.slos,
                "minutes_changed": self.minutes_changed, "buckets_written": self.buckets_written,
                "cloudwatch_calls": self.cloudwatch_calls, "alerts_opened": self.alerts_opened,
                "alerts_resolved": self.alerts_resolved, "gap_minutes_skipped": self.gap_minutes_skipped,
                "errors": self.errors, "duration_ms": round(self.duration_ms, 1)}


class Evaluator:
    def __init__(self, slos: Iterable[SloDefinition], *, reader: MetricSums, buckets: CountingBuckets,
                 status: RunStatus, alerts: AlertLifecycle, service_counters: Iterable[AppCounters],
                 settings: SloSettings, latency_thresholds_ms: Iterable[int], logger: Any,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.slos = tuple(slos)
        self.reader = reader
        self.buckets = buckets
        self.status = status
        self.alerts = alerts
        self.service_sources = list(service_counters)
        self.settings = settings
        self.latency_thresholds_ms = tuple(latency_thresholds_ms)
        self.logger = logger
        self.clock = clock
        self.min_history_minutes = duration_minutes(settings.min_history)

    def run(self, now: Optional[datetime] = None) -> RunReport:
        started = time.perf_counter()
        end = floor_minute(now or self.clock())
        record = self.status.evaluator_record() or {}
        fetch_start, gap = self._fetch_start(end, record.get("last_end"))
        report = RunReport(end=end, fetch_start=fetch_start, slos=len(self.slos), gap_minutes_skipped=gap)
        if gap:
            self.logger.warning("slo evaluator gap longer than catch-up; minutes skipped",
                                extra={"gap_minutes": gap, "catchup_hours": self.settings.catchup_hours})
        calls_before = self.reader.calls
        sums = self.reader.minute_sums(self._metrics(), fetch_start, end)
        report.cloudwatch_calls = self.reader.calls - calls_before
        written_before = self.buckets.items_written
        snapshots: list[SloSnapshot] = []
        for slo in self.slos:
            try:
                snapshots.append(self._evaluate_slo(slo, sums, fetch_start, end, report))
            except Exception as exc:  # one broken SLO must not stop the others; recorded and logged
                self.logger.exception("slo evaluation failed", extra={"slo": slo.name})
                report.errors.append(f"{slo.name}: {type(exc).__name__}: {exc}")
        service = self._evaluate_service(sums, fetch_start, end)
        history_expiry = int((end + timedelta(days=self.settings.history_days)).timestamp())
        self.status.save_run(snapshots, [(snapshot.slo, HistoryPoint.of(snapshot)) for snapshot in snapshots],
                             service, history_expiry)
        report.buckets_written = self.buckets.items_written - written_before
        report.duration_ms = (time.perf_counter() - started) * 1000
        newest = max(sums) if sums else None
        previous_end = record.get("last_end")
        if report.errors:  # what failed is redone: the next run re-reads from where this one started
            last_end = previous_end
        else:
            last_end = iso(max(end, parse_iso(previous_end)) if previous_end else end)
        report.evaluated_through = parse_iso(last_end) if last_end else None
        self.status.save_evaluator_record({
            "last_end": last_end,
            "last_run_at": iso(self.clock()), "last_run": report.to_json(),
            "newest_data_minute": iso(newest) if newest else record.get("newest_data_minute"),
        })
        return report

    def _fetch_start(self, end: datetime, last_end_text: Optional[str]) -> tuple[datetime, int]:
        reread = timedelta(minutes=self.settings.reread_minutes)
        earliest = end - timedelta(hours=self.settings.catchup_hours)
        if not last_end_text:
            return earliest, 0
        resume = min(parse_iso(last_end_text), end) - reread
        gap = int((earliest - resume) / MINUTE) if resume < earliest else 0
        return max(earliest, resume), gap

    def _metrics(self) -> list[MetricRef]:
        refs = {ref for slo in self.slos for ref in slo.indicator.metrics()}
        refs.update(ref for source in self.service_sources for ref in source.metrics())
        return sorted(refs)

    def _retention(self) -> timedelta:
        longest = max((slo.period_minutes for slo in self.slos), default=1440)
        return timedelta(minutes=longest) + timedelta(days=2)

    def _evaluate_slo(self, slo: SloDefinition, sums: MinuteSums, fetch_start: datetime, end: datetime,
                      report: RunReport) -> SloSnapshot:
        minutes = {}
        for minute, values in sums.items():
            counts = slo.minute_counts(values)
            if counts is not None:
                minutes[minute] = {"good": counts[0], "valid": counts[1]}
        view = SeriesView(self.buckets, slo.name)
        report.minutes_changed += apply_minutes(self.buckets, view, minutes, fetch_start, end, self._retention())
        snapshot = slo_snapshot(slo, view, end, self.min_history_minutes)
        open_ids, opened, resolved = self.alerts.process(slo, snapshot, end)
        report.alerts_opened += opened
        report.alerts_resolved += resolved
        return replace(snapshot, open_alerts=tuple(open_ids))

    def _evaluate_service(self, sums: MinuteSums, fetch_start: datetime, end: datetime) -> ServiceSnapshot:
        """The service's own request figures (``/sre/metrics``)."""
        minutes = {}
        for minute, values in sums.items():
            counts = {source.spec["metric"]: round(value) for source in self.service_sources
                      if (value := source.count(values)) is not None}
            if counts:
                minutes[minute] = counts
        view = SeriesView(self.buckets, SERVICE_SERIES)
        apply_minutes(self.buckets, view, minutes, fetch_start, end, self._retention())
        windows = {}
        for minutes_long in DISPLAY_WINDOWS:
            counts = view.window(end - timedelta(minutes=minutes_long), end)
            windows[format_minutes(minutes_long)] = service_window(counts, minutes_long, self.latency_thresholds_ms)
        return ServiceSnapshot(evaluated_at=iso(end), windows=windows)


def service_counter_names(latency_thresholds_ms: Iterable[int]) -> tuple[str, ...]:
    return SERVICE_COUNTERS + tuple(f"latency_good_{ms}ms" for ms in latency_thresholds_ms)


def history_coverage(slo: SloDefinition, view: SeriesView, end: datetime, valid_events: int,
                     min_history_minutes: int) -> budget.HistoryCoverage:
    first = view.first_data(end - timedelta(minutes=slo.period_minutes), end)
    return budget.HistoryCoverage(
        since=iso(first) if first is not None else None, minutes=int((end - first) / MINUTE) if first else 0,
        required_minutes=min(min_history_minutes, slo.period_minutes), valid_events=valid_events,
        required_events=slo.min_events)


def slo_snapshot(slo: SloDefinition, view: SeriesView, end: datetime, min_history_minutes: int = 1440) -> SloSnapshot:
    """Every window's figures, the tiers' verdicts and the budget state, from the series' buckets."""
    wanted = set(DISPLAY_WINDOWS) | {slo.period_minutes}
    wanted.update(minutes for tier in slo.tiers for minutes in (tier.long_minutes, tier.short_minutes))
    figures = {}
    for minutes in sorted(wanted):
        counts = view.window(end - timedelta(minutes=minutes), end)
        figures[minutes] = budget.window_figures(format_minutes(minutes), minutes, counts.get("good", 0),
                                                 counts.get("valid", 0), slo.target)
    period = figures[slo.period_minutes]
    # The tiers need only their own windows; the budget needs history before the policy acts on it.
    verdicts = alerting.evaluate_tiers(slo.tiers, figures, slo.min_events)
    history = history_coverage(slo, view, end, period.valid, min_history_minutes)
    state = budget.assessed_state(period.budget_remaining_ratio, slo.policy.warning_below, history)
    windows = {}
    for minutes in sorted(set(DISPLAY_WINDOWS) | {slo.period_minutes}):
        item = figures[minutes].to_json()
        item["seconds_to_exhaustion"] = budget.seconds_to_exhaustion(
            period.budget_remaining_ratio, slo.period_minutes, figures[minutes].burn_rate)
        windows[item["window"]] = item
    return SloSnapshot(
        slo=slo.name, display_name=slo.display_name, evaluated_at=iso(end), target=slo.target,
        period=format_minutes(slo.period_minutes), budgeting_method=slo.budgeting_method, unit=slo.unit,
        indicator=slo.indicator.name, windows=windows,
        budget=BudgetSummary(state=state, history=history.to_json(),
                             remaining_ratio=period.budget_remaining_ratio, total=period.budget_total,
                             consumed=period.budget_consumed, remaining=period.budget_remaining,
                             warning_below=slo.policy.warning_below,
                             freezes_releases=budget.freezes_releases(state, slo.policy.freeze_releases_when),
                             unknown_reason=period.unknown_reason),
        tiers=tuple(verdict.to_json() for verdict in verdicts))


def service_window(counts: Mapping[str, int], minutes: int, thresholds_ms: Iterable[int]) -> ServiceWindow:
    valid = counts.get("valid_requests", 0)
    requests = counts.get("requests", 0)

    def ratio(numerator: int, denominator: int) -> Optional[float]:
        return numerator / denominator if denominator else None

    return ServiceWindow(
        window=format_minutes(minutes), counts={name: counts.get(name, 0) for name in sorted(counts)},
        requests=requests, request_rate_per_second=requests / (minutes * 60), valid_requests=valid,
        server_errors=counts.get("server_errors", 0), error_rate=ratio(counts.get("server_errors", 0), valid),
        latency_good_ratio={f"{ms}ms": ratio(counts.get(f"latency_good_{ms}ms", 0), valid) for ms in thresholds_ms},
        probe_success_ratio=ratio(counts.get("probe_success", 0), counts.get("probe_total", 0)))
