"""The SLO engine's stores in memory, held to the same contract as the DynamoDB ones
(tests/unit/slo/test_slo_store_contract.py)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable, Optional

from chalicelib.slo.records import Alert, HistoryPoint, ServiceSnapshot, SloSnapshot
from chalicelib.slo.store import hour_key, last_point_per_hour
from chalicelib.slo.timeutil import bucket_key, floor_hour, parse_iso


class InMemoryBuckets:
    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], dict[datetime, dict[str, int]]] = {}  # (series, grain) -> start -> counts
        self.items_read = self.items_written = self.queries = 0

    def query(self, series: str, grain: str, start: datetime, end: datetime) -> dict[datetime, dict[str, int]]:
        self.queries += 1
        found = {moment: dict(counts) for moment, counts in self._buckets.get((series, grain), {}).items()
                 if start <= moment < end}
        self.items_read += len(found)
        return found

    def write(self, rows: Iterable[tuple[str, str, datetime, dict[str, int], Optional[int]]]) -> int:
        written = 0
        for series, grain, start, counts, _expires_at in rows:
            self._buckets.setdefault((series, grain), {})[start] = dict(counts)
            written += 1
        self.items_written += written
        return written


class InMemoryStatus:
    def __init__(self) -> None:
        self._latest: dict[str, SloSnapshot] = {}
        self._history: dict[str, dict[str, HistoryPoint]] = {}
        self._hourly: dict[str, dict[str, HistoryPoint]] = {}
        self._service: Optional[ServiceSnapshot] = None
        self._record: Optional[dict[str, Any]] = None
        self.items_read = self.items_written = 0

    def latest(self, names: Iterable[str]) -> dict[str, SloSnapshot]:
        return {name: self._latest[name] for name in names if name in self._latest}

    def service_snapshot(self) -> Optional[ServiceSnapshot]:
        return self._service

    def history(self, name: str, start: datetime, end: datetime) -> list[HistoryPoint]:
        low, high = bucket_key(start), bucket_key(end)
        points = self._history.get(name, {})
        return [points[key] for key in sorted(points) if low <= key <= high]

    def hourly_history(self, name: str, start: datetime, end: datetime) -> list[HistoryPoint]:
        low, high = hour_key(start), hour_key(end)
        hours = self._hourly.get(name, {})
        return [hours[key] for key in sorted(hours) if low <= key <= high]

    def hourly_points(self, wanted: Iterable[tuple[str, datetime]]) -> dict[tuple[str, datetime], HistoryPoint]:
        found = {}
        for name, hour in wanted:
            point = self._hourly.get(name, {}).get(hour_key(hour))
            if point is not None:
                found[(name, floor_hour(hour))] = point
        return found

    def save_run(self, snapshots: Iterable[SloSnapshot], history: Iterable[tuple[str, HistoryPoint]],
                 service: ServiceSnapshot, history_expires_at: int) -> None:
        history = list(history)

        def newer_or_same(stored: Any, stored_at: Optional[str], given_at: Optional[str]) -> bool:
            return stored is None or given_at is None or stored_at is None or \
                parse_iso(stored_at) <= parse_iso(given_at)

        for snapshot in snapshots:
            stored = self._latest.get(snapshot.slo)
            if newer_or_same(stored, stored and stored.evaluated_at, snapshot.evaluated_at):
                self._latest[snapshot.slo] = snapshot
        for name, point in history:
            self._history.setdefault(name, {})[bucket_key(parse_iso(point.at))] = point
        for (name, _), point in last_point_per_hour(history).items():
            hours = self._hourly.setdefault(name, {})
            stored = hours.get(hour_key(parse_iso(point.at)))
            if newer_or_same(stored, stored and stored.at, point.at):
                hours[hour_key(parse_iso(point.at))] = point
        if service is None or newer_or_same(self._service, self._service and self._service.evaluated_at,
                                            service.evaluated_at):
            self._service = service

    def evaluator_record(self) -> Optional[dict[str, Any]]:
        return None if self._record is None else dict(self._record)

    def save_evaluator_record(self, data: dict[str, Any]) -> None:
        self._record = dict(data)


@dataclass
class InMemoryOpenAlert:
    alert: Alert
    handed_off: bool = False


class InMemoryAlerts:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str], InMemoryOpenAlert] = {}
        self._records: dict[tuple[str, str, str], Alert] = {}
        self.items_read = self.items_written = 0

    def open_alerts(self, slo: str) -> dict[str, InMemoryOpenAlert]:
        return {tier: lock for (name, tier), lock in self._open.items() if name == slo}

    def open(self, alert: Alert) -> Optional[InMemoryOpenAlert]:
        if (alert.slo, alert.tier) in self._open:
            return None
        lock = self._open[(alert.slo, alert.tier)] = InMemoryOpenAlert(alert)
        self._records[(alert.slo, alert.opened_at, alert.tier)] = alert
        return lock

    def mark_handed_off(self, lock: InMemoryOpenAlert) -> None:
        lock.handed_off = True

    def resolve(self, lock: InMemoryOpenAlert, alert: Alert) -> None:
        self._records[(alert.slo, alert.opened_at, alert.tier)] = alert
        self._open.pop((alert.slo, alert.tier), None)

    def listing(self, kind: str, limit: int, since: Optional[str] = None) -> list[Alert]:
        alerts = ([lock.alert for lock in self._open.values()] if kind == "open" else list(self._records.values()))
        alerts = [alert for alert in alerts if since is None or alert.opened_at >= since]
        return sorted(alerts, key=lambda alert: alert.opened_at, reverse=True)[:limit]


def resolved_copy(alert: Alert, at: str) -> Alert:
    return replace(alert, state="resolved", resolved_at=at, resolution="burn rate back under the threshold")
