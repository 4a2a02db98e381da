"""Each SLO's hourly history over its period, for the burn-down, SLI and burn-rate charts.

The SLO evaluator keeps, next to each run's point, the hour's rollup (the hour's latest point).
A history point carries its run's time, so an hour's rollup stops changing once the hour is
over: the rollups of closed hours are kept in this process, and each document reads only the
previous and the current hour of every SLO, by key, in one batch read. Hours this process has
not seen (its first document, or a gap between documents) are read with them by key while few,
else with one query per SLO. So the charts cost one read per document, whatever the history.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Iterable

from chalicelib.slo.timeutil import floor_hour, parse_iso

HOUR = timedelta(hours=1)
BATCH_KEYS = 100  # keys per BatchGetItem call


class HourlyHistory:
    def __init__(self, status_store: Any) -> None:
        self._store = status_store  # chalicelib.slo.store.StatusStore (hourly_history, hourly_points)
        self._closed: dict[str, dict[datetime, Any]] = {}  # slo -> hour -> HistoryPoint, closed hours only
        self._known_from: dict[str, datetime] = {}  # slo -> first hour kept (or known to have no rollup)
        self._known_until: dict[str, datetime] = {}  # slo -> every closed hour before this is kept
        self._lock = threading.Lock()

    def points(self, periods: Iterable[tuple[str, datetime]], now: datetime) -> tuple[dict[str, list[Any]], int]:
        """``periods``: (slo, period start). Each SLO's hourly points oldest first, and the reads made."""
        periods = list(periods)
        current = floor_hour(now)
        previous = current - HOUR  # may still be written to by a late run: read, not kept
        reads = 0
        with self._lock:
            wanted: list[tuple[str, datetime]] = []
            queried: dict[str, list[Any]] = {}
            gaps = {name: self._gap(name, floor_hour(start), previous) for name, start in periods}
            gap_hours = sum(len(hours) for hours in gaps.values())
            by_key = gap_hours + 2 * len(periods) <= BATCH_KEYS
            for name, _ in periods:
                if by_key:
                    wanted += [(name, hour) for hour in gaps[name]]
                elif gaps[name]:
                    queried[name] = self._store.hourly_history(name, gaps[name][0], gaps[name][-1])
                    reads += 1
                wanted += [(name, previous), (name, current)]
            found = self._store.hourly_points(wanted)
            reads += -(-len(wanted) // BATCH_KEYS)
            result = {}
            for name, start in periods:
                first = floor_hour(start)
                closed = self._closed.setdefault(name, {})
                for hour in gaps[name]:
                    point = found.get((name, hour))
                    if point is not None:
                        closed[hour] = point
                for point in queried.get(name, []):
                    closed[floor_hour(parse_iso(point.at))] = point
                if gaps[name]:
                    self._known_from[name] = min(self._known_from.get(name, first), first)
                    self._known_until[name] = previous
                for hour in [hour for hour in closed if hour < first]:
                    del closed[hour]
                tail = [found[(name, hour)] for hour in (previous, current) if (name, hour) in found]
                result[name] = [closed[hour] for hour in sorted(closed)] + tail
        return result, reads

    def _gap(self, name: str, first: datetime, previous: datetime) -> list[datetime]:
        """The closed hours from ``first`` not kept yet."""
        known_from, known_until = self._known_from.get(name), self._known_until.get(name)
        start = first if known_until is None or known_from is None or first < known_from else known_until
        hours = []
        while start < previous:
            hours.append(start)
            start += HOUR
        return hours

