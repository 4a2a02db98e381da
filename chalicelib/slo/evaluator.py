"""The SLO loop, run every minute: CloudWatch minute Sums -> buckets and rollups -> figures,
status snapshots and alerts.

Each run reads [last evaluated minute - SLO_REREAD_MINUTES, now) from CloudWatch (so late
data lands; at most SLO_CATCHUP_HOURS back after a gap), writes only the minute buckets whose
counts changed, recomputes the hours and days those minutes belong to from their children,
and computes every window from as few buckets as its edges need: minutes up to the first
hour boundary, hours up to the first day boundary, whole days, and back down at the end.
Running it twice on the same data writes no bucket the second time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Optional

from chalicelib.observability.logging import get_logger
from chalicelib.settings import Settings, get_settings
from chalicelib.slo import alerting, budget
from chalicelib.slo.cloudwatch import MetricReader, MinuteSums
from chalicelib.slo.config import SloDefinition, get_slos
from chalicelib.slo.paging import AlertSink, load_alert_sink
from chalicelib.slo.sources import MetricRef, service_counter
from chalicelib.slo.store import SERVICE_SERIES, AlertStore, BucketStore, Counts, StatusStore
from chalicelib.slo.timeutil import (DAY, HOUR, MINUTE, bucket_key, ceil_day, ceil_hour, floor_day, floor_hour,
                                     floor_minute, format_minutes, iso, parse_iso, utc_now)

DISPLAY_WINDOWS = (5, 30, 60, 120, 360, 1440, 4320)
DAY_BUCKET_RETENTION = timedelta(days=400)
SERVICE_COUNTERS = ("requests", "valid_requests", "server_errors", "data_queries", "fresh_data_queries",
                    "probe_total", "probe_success")


def add_counts(total: Counts, more: Mapping[str, int]) -> Counts:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value
    return total


def window_segments(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """[start, end) as minute, hour and day ranges: the fewest buckets that add up exactly."""
    first_hour, last_hour = ceil_hour(start), floor_hour(end)
    if first_hour >= last_hour:
        return [("m", start, end)]
    segments = [("m", start, first_hour), ("m", last_hour, end)]
    first_day, last_day = ceil_day(first_hour), floor_day(last_hour)
    if first_day >= last_day:
        segments.append(("h", first_hour, last_hour))
    else:
        segments += [("h", first_hour, first_day), ("d", first_day, last_day), ("h", last_day, last_hour)]
    return [segment for segment in segments if segment[1] < segment[2]]


_STEP = {"m": MINUTE, "h": HOUR, "d": DAY}


class SeriesView:
    """One series' buckets for one run: each range is queried once, writes update the view."""

    def __init__(self, store: BucketStore, series: str) -> None:
        self.store = store
        self.series = series
        self.buckets: dict[str, dict[datetime, Counts]] = {"m": {}, "h": {}, "d": {}}
        self._covered: dict[str, list[tuple[datetime, datetime]]] = {"m": [], "h": [], "d": []}

    def ensure(self, grain: str, start: datetime, end: datetime) -> None:
        cursor = start
        gaps = []
        for low, high in self._covered[grain]:
            if high <= cursor:
                continue
            if low >= end:
                break
            if low > cursor:
                gaps.append((cursor, low))
            cursor = max(cursor, high)
        if cursor < end:
            gaps.append((cursor, end))
        for low, high in gaps:
            self.buckets[grain].update(self.store.query(self.series, grain, low, high))
        merged: list[tuple[datetime, datetime]] = []
        for low, high in sorted(self._covered[grain] + [(start, end)]):
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        self._covered[grain] = merged

    def total(self, grain: str, start: datetime, end: datetime) -> Counts:
        self.ensure(grain, start, end)
        buckets, step, total = self.buckets[grain], _STEP[grain], {}
        moment = start
        while moment < end:
            counts = buckets.get(moment)
            if counts:
                add_counts(total, counts)
            moment += step
        return total

    def window(self, start: datetime, end: datetime) -> Counts:
        total: Counts = {}
        for grain, low, high in window_segments(start, end):
            add_counts(total, self.total(grain, low, high))
        return total


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

    def to_json(self) -> dict[str, Any]:
        return {"end": iso(self.end), "fetch_start": iso(self.fetch_start), "slos": self.slos,
                "minutes_changed": self.minutes_changed, "buckets_written": self.buckets_written,
                "cloudwatch_calls": self.cloudwatch_calls, "alerts_opened": self.alerts_opened,
                "alerts_resolved": self.alerts_resolved, "gap_minutes_skipped": self.gap_minutes_skipped,
                "errors": self.errors, "duration_ms": round(self.duration_ms, 1)}


def build_alert(slo: SloDefinition, verdict: alerting.TierVerdict, opened: datetime,
                remaining_ratio: float, runbooks_base_url: str) -> dict[str, Any]:
    tier = verdict.tier
    opened_key = bucket_key(opened)
    return {
        "id": f"{slo.name}/{tier.name}/{opened_key}", "slo": slo.name, "slo_display_name": slo.display_name,
        "tier": tier.name, "severity": tier.severity, "state": "open", "opened_at": iso(opened),
        "resolved_at": None, "burn_rate_threshold": tier.burn_rate,
        "long_window": format_minutes(tier.long_minutes), "short_window": format_minutes(tier.short_minutes),
        "long_burn_rate": verdict.long_burn_rate, "short_burn_rate": verdict.short_burn_rate,
        "budget_remaining_ratio": remaining_ratio, "runbook": f"runbooks/{tier.runbook}",
        "runbook_url": f"{runbooks_base_url.rstrip('/')}/{tier.runbook}",
        "summary": (f"{slo.display_name}: error budget burning at {verdict.long_burn_rate:.1f}x over "
                    f"{format_minutes(tier.long_minutes)} and {verdict.short_burn_rate:.1f}x over "
                    f"{format_minutes(tier.short_minutes)} (threshold {tier.burn_rate:g}x, {tier.severity})"),
    }


class Evaluator:
    def __init__(self, slos: Optional[Iterable[SloDefinition]] = None, *, reader: Optional[MetricReader] = None,
                 buckets: Optional[BucketStore] = None, status: Optional[StatusStore] = None,
                 alerts: Optional[AlertStore] = None, sink: Optional[AlertSink] = None,
                 clock: Callable[[], datetime] = utc_now, settings: Optional[Settings] = None) -> None:
        self.settings = settings or get_settings()
        self.slos = tuple(slos) if slos is not None else get_slos()
        self.reader = reader or MetricReader()
        self.buckets = buckets or BucketStore()
        self.status = status or StatusStore()
        self.alerts = alerts or AlertStore()
        self.sink = sink or load_alert_sink()
        self.clock = clock
        self.logger = get_logger()
        self.service_sources = [service_counter(self.settings, name) for name in self._service_counter_names()]

    def _service_counter_names(self) -> tuple[str, ...]:
        return SERVICE_COUNTERS + tuple(f"latency_good_{ms}ms" for ms in self.settings.latency_thresholds_ms)

    # -- the run -----------------------------------------------------------------------------
    def run(self, now: Optional[datetime] = None) -> RunReport:
        started = time.perf_counter()
        end = floor_minute(now or self.clock())
        record = self.status.evaluator_record() or {}
        fetch_start, gap = self._fetch_start(end, record.get("last_end"))
        report = RunReport(end=end, fetch_start=fetch_start, slos=len(self.slos), gap_minutes_skipped=gap)
        if gap:
            self.logger.warning("slo evaluator gap longer than catch-up; minutes skipped",
                                extra={"gap_minutes": gap, "catchup_hours": self.settings.slo_catchup_hours})
        calls_before = self.reader.calls
        sums = self.reader.minute_sums(self._metrics(), fetch_start, end)
        report.cloudwatch_calls = self.reader.calls - calls_before
        written_before = self.buckets.items_written
        snapshots: list[tuple[str, str, dict[str, Any], Optional[int]]] = []
        history_expiry = int((end + timedelta(days=self.settings.slo_history_days)).timestamp())
        for slo in self.slos:
            try:
                snapshot = self._evaluate_slo(slo, sums, fetch_start, end, report)
            except Exception as exc:  # one broken SLO must not stop the others; recorded and logged
                self.logger.exception("slo evaluation failed", extra={"slo": slo.name})
                report.errors.append(f"{slo.name}: {type(exc).__name__}: {exc}")
                continue
            snapshots.append((slo.name, "latest", snapshot, None))
            snapshots.append((slo.name, f"h#{bucket_key(end)}", history_point(snapshot), history_expiry))
        snapshots.append((SERVICE_SERIES, "latest", self._evaluate_service(sums, fetch_start, end, report), None))
        self.status.put_many(snapshots)
        report.buckets_written = self.buckets.items_written - written_before
        report.duration_ms = (time.perf_counter() - started) * 1000
        newest = max(sums) if sums else None
        self.status.save_evaluator_record({
            "last_end": iso(max(end, parse_iso(record["last_end"])) if record.get("last_end") else end),
            "last_run_at": iso(self.clock()), "last_run": report.to_json(),
            "newest_data_minute": iso(newest) if newest else record.get("newest_data_minute"),
        })
        return report

    def _fetch_start(self, end: datetime, last_end_text: Optional[str]) -> tuple[datetime, int]:
        reread = timedelta(minutes=self.settings.slo_reread_minutes)
        earliest = end - timedelta(hours=self.settings.slo_catchup_hours)
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

    # -- buckets -----------------------------------------------------------------------------
    def apply_minutes(self, view: SeriesView, minutes: Mapping[datetime, Counts], fetch_start: datetime,
                      end: datetime) -> int:
        """Write changed minutes and recompute their hours and days; returns minutes changed."""
        view.ensure("m", floor_hour(fetch_start), ceil_hour(end))
        existing = view.buckets["m"]
        changed = {minute: counts for minute, counts in minutes.items() if existing.get(minute) != counts}
        if not changed:
            return 0
        retention = self._retention()
        rows = []
        for minute, counts in sorted(changed.items()):
            existing[minute] = counts
            rows.append((view.series, "m", minute, counts, int((minute + retention).timestamp())))
        hours = sorted({floor_hour(minute) for minute in changed})
        view.ensure("h", floor_day(hours[0]), ceil_day(hours[-1] + HOUR))
        for hour in hours:
            counts = view.total("m", hour, hour + HOUR)
            if view.buckets["h"].get(hour, {}) != counts:
                view.buckets["h"][hour] = counts
                rows.append((view.series, "h", hour, counts, int((hour + retention).timestamp())))
        for day in sorted({floor_day(hour) for hour in hours}):
            view.ensure("d", day, day + DAY)
            counts = view.total("h", day, day + DAY)
            if view.buckets["d"].get(day, {}) != counts:
                view.buckets["d"][day] = counts
                rows.append((view.series, "d", day, counts, int((day + DAY_BUCKET_RETENTION).timestamp())))
        self.buckets.write(rows)
        return len(changed)

    # -- one SLO -----------------------------------------------------------------------------
    def _evaluate_slo(self, slo: SloDefinition, sums: MinuteSums, fetch_start: datetime, end: datetime,
                      report: RunReport) -> dict[str, Any]:
        minutes = {}
        for minute, values in sums.items():
            counts = slo.minute_counts(values)
            if counts is not None:
                minutes[minute] = {"good": counts[0], "valid": counts[1]}
        view = SeriesView(self.buckets, slo.name)
        report.minutes_changed += self.apply_minutes(view, minutes, fetch_start, end)
        snapshot = slo_snapshot(slo, view, end)
        snapshot["open_alerts"] = self._process_alerts(slo, snapshot, end, report)
        return snapshot

    def _process_alerts(self, slo: SloDefinition, snapshot: dict[str, Any], end: datetime,
                        report: RunReport) -> list[str]:
        locks = self.alerts.open_alerts(slo.name)
        remaining = snapshot["budget"]["remaining_ratio"]
        verdicts = {verdict["name"]: verdict for verdict in snapshot["tiers"]}
        open_ids = []
        for tier in slo.tiers:
            verdict = verdicts[tier.name]
            lock = locks.pop(tier.name, None)
            if verdict["state"] == alerting.FIRING and lock is None:
                alert = build_alert(slo, _verdict(tier, verdict), end, remaining, self.settings.runbooks_base_url)
                lock = self.alerts.open(alert)
                if lock is not None:
                    report.alerts_opened.append(alert["id"])
                    self._hand_off(lock)
            elif verdict["state"] == alerting.OK and lock is not None:
                self._resolve(lock, end, verdict, report)
                lock = None
            elif lock is not None and not lock.handed_off:
                self._hand_off(lock)
            if lock is not None:
                open_ids.append(lock.data["id"])
        for lock in locks.values():  # tiers no longer configured
            self._resolve(lock, end, {"long_burn_rate": None, "short_burn_rate": None}, report,
                          reason="tier removed from the SLO")
        return open_ids

    def _hand_off(self, lock: Any) -> None:
        try:
            self.sink.alert_opened(lock.data)
        except Exception:  # the lock stays not-handed-off and the next run retries
            self.logger.exception("alert sink failed; will retry", extra={"alert_id": lock.data["id"]})
            return
        self.alerts.mark_handed_off(lock)

    def _resolve(self, lock: Any, end: datetime, verdict: Mapping[str, Any], report: RunReport,
                 reason: str = "burn rate back under the threshold") -> None:
        alert = {**lock.data, "state": "resolved", "resolved_at": iso(end), "resolution": reason,
                 "resolved_long_burn_rate": verdict.get("long_burn_rate"),
                 "resolved_short_burn_rate": verdict.get("short_burn_rate")}
        self.alerts.resolve(lock, alert)
        report.alerts_resolved.append(alert["id"])
        try:
            self.sink.alert_resolved(alert)
        except Exception:  # the resolution is stored; the incident side can reconcile from it
            self.logger.exception("alert sink failed on resolve", extra={"alert_id": alert["id"]})

    # -- the service series (for /sre/metrics) -----------------------------------------------
    def _evaluate_service(self, sums: MinuteSums, fetch_start: datetime, end: datetime,
                          report: RunReport) -> dict[str, Any]:
        minutes = {}
        for minute, values in sums.items():
            counts = {source.spec["metric"]: round(value) for source in self.service_sources
                      if (value := source.count(values)) is not None}
            if counts:
                minutes[minute] = counts
        view = SeriesView(self.buckets, SERVICE_SERIES)
        self.apply_minutes(view, minutes, fetch_start, end)
        windows = {}
        for minutes_long in DISPLAY_WINDOWS:
            counts = view.window(end - timedelta(minutes=minutes_long), end)
            windows[format_minutes(minutes_long)] = service_window(counts, minutes_long,
                                                                   self.settings.latency_thresholds_ms)
        return {"evaluated_at": iso(end), "windows": windows}


def _verdict(tier: Any, verdict: Mapping[str, Any]) -> alerting.TierVerdict:
    return alerting.TierVerdict(tier, verdict["state"], verdict["long_burn_rate"], verdict["short_burn_rate"],
                                verdict["long_valid"], verdict["short_valid"])


def slo_snapshot(slo: SloDefinition, view: SeriesView, end: datetime) -> dict[str, Any]:
    """Every window's figures, the tiers' verdicts and the budget state, from the series' buckets."""
    wanted = set(DISPLAY_WINDOWS) | {slo.period_minutes}
    wanted.update(minutes for tier in slo.tiers for minutes in (tier.long_minutes, tier.short_minutes))
    figures = {}
    for minutes in sorted(wanted):
        counts = view.window(end - timedelta(minutes=minutes), end)
        figures[minutes] = budget.window_figures(format_minutes(minutes), minutes, counts.get("good", 0),
                                                 counts.get("valid", 0), slo.target)
    period = figures[slo.period_minutes]
    verdicts = alerting.evaluate_tiers(slo.tiers, figures, slo.min_events)
    # Too few events in the whole period is no evidence to freeze releases or refuse experiments on.
    insufficient = period.valid < slo.min_events
    state = budget.HEALTHY if insufficient else budget.budget_state(period.budget_remaining_ratio,
                                                                     slo.policy.warning_below)
    windows = {}
    for minutes in sorted(set(DISPLAY_WINDOWS) | {slo.period_minutes}):
        item = figures[minutes].to_json()
        item["seconds_to_exhaustion"] = budget.seconds_to_exhaustion(
            period.budget_remaining_ratio, slo.period_minutes, figures[minutes].burn_rate)
        windows[item["window"]] = item
    return {
        "slo": slo.name, "display_name": slo.display_name, "evaluated_at": iso(end), "target": slo.target,
        "period": format_minutes(slo.period_minutes), "budgeting_method": slo.budgeting_method, "unit": slo.unit,
        "indicator": slo.indicator.name, "windows": windows,
        "budget": {"state": state, "insufficient_data": insufficient,
                   "remaining_ratio": period.budget_remaining_ratio,
                   "total": period.budget_total, "consumed": period.budget_consumed,
                   "remaining": period.budget_remaining, "warning_below": slo.policy.warning_below,
                   "freezes_releases": budget.freezes_releases(state, slo.policy.freeze_releases_when)},
        "tiers": [verdict.to_json() for verdict in verdicts],
    }


def history_point(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    period = snapshot["windows"][snapshot["period"]]
    hour = snapshot["windows"]["1h"]
    return {"at": snapshot["evaluated_at"], "sli": period["sli"], "good": period["good"], "valid": period["valid"],
            "budget_remaining_ratio": period["budget_remaining_ratio"], "burn_rate_1h": hour["burn_rate"],
            "state": snapshot["budget"]["state"],
            "firing": [tier["name"] for tier in snapshot["tiers"] if tier["state"] == alerting.FIRING]}


def service_window(counts: Mapping[str, int], minutes: int, thresholds_ms: Iterable[int]) -> dict[str, Any]:
    valid = counts.get("valid_requests", 0)
    requests = counts.get("requests", 0)

    def ratio(numerator: int, denominator: int) -> Optional[float]:
        return numerator / denominator if denominator else None

    return {
        "window": format_minutes(minutes), "counts": {name: counts.get(name, 0) for name in sorted(counts)},
        "requests": requests, "request_rate_per_second": requests / (minutes * 60),
        "valid_requests": valid, "server_errors": counts.get("server_errors", 0),
        "error_rate": ratio(counts.get("server_errors", 0), valid),
        "latency_good_ratio": {f"{ms}ms": ratio(counts.get(f"latency_good_{ms}ms", 0), valid)
                               for ms in thresholds_ms},
        "probe_success_ratio": ratio(counts.get("probe_success", 0), counts.get("probe_total", 0)),
    }
