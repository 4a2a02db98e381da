"""Minute buckets rolled up into hours and days, and windows read from the fewest buckets.

A run writes only the minute buckets whose counts changed, recomputes the hours and days
those minutes belong to from their children, and computes every window from as few buckets
as its edges need: minutes up to the first hour boundary, hours up to the first day boundary,
whole days, and back down at the end. Applying the same minutes twice writes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping, Optional, Protocol

from chalicelib.slo.store import BucketRow, Counts
from chalicelib.slo.timeutil import DAY, HOUR, MINUTE, ceil_day, ceil_hour, floor_day, floor_hour

DAY_BUCKET_RETENTION = timedelta(days=400)
_STEP = {"m": MINUTE, "h": HOUR, "d": DAY}


class BucketReader(Protocol):
    def query(self, series: str, grain: str, start: datetime, end: datetime) -> dict[datetime, Counts]: ...


class BucketWriter(BucketReader, Protocol):
    def write(self, rows: list[BucketRow]) -> int: ...


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


class SeriesView:
    """One series' buckets for one run: each range is queried once, writes update the view."""

    def __init__(self, store: BucketReader, series: str) -> None:
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

    def first_data(self, start: datetime, end: datetime) -> Optional[datetime]:
        """The earliest minute in [start, end) with valid events: the earliest bucket, a day or hour
        narrowed down to its first minute (two small queries, only while the data is younger than
        the window; a full window starts in its leading minutes)."""
        for grain, low, high in sorted(window_segments(start, end), key=lambda segment: segment[1]):
            first = self._first_in(grain, low, high)
            if first is None:
                continue
            for coarse, fine in (("d", "h"), ("h", "m")):
                if grain == coarse:
                    first = self._first_in(fine, first, first + _STEP[coarse]) or first
                    grain = fine
            return first
        return None

    def _first_in(self, grain: str, low: datetime, high: datetime) -> Optional[datetime]:
        self.ensure(grain, low, high)
        buckets = self.buckets[grain]
        return next((moment for moment in sorted(buckets)
                     if low <= moment < high and buckets[moment].get("valid", 0) > 0), None)

    def window(self, start: datetime, end: datetime) -> Counts:
        total: Counts = {}
        for grain, low, high in window_segments(start, end):
            add_counts(total, self.total(grain, low, high))
        return total


def apply_minutes(store: BucketWriter, view: SeriesView, minutes: Mapping[datetime, Counts],
                  fetch_start: datetime, end: datetime, retention: timedelta) -> int:
    """Write changed minutes and recompute their hours and days; returns minutes changed.

    Minute and hour buckets expire after ``retention``; day buckets after ``DAY_BUCKET_RETENTION``.
    """
    view.ensure("m", floor_hour(fetch_start), ceil_hour(end))
    existing = view.buckets["m"]
    changed = {minute: counts for minute, counts in minutes.items() if existing.get(minute) != counts}
    rows: list[BucketRow] = []
    for minute, counts in sorted(changed.items()):
        existing[minute] = counts
        rows.append((view.series, "m", minute, counts, int((minute + retention).timestamp())))
    # Every hour of the fetched range is checked against its minutes, not only the hours of changed
    # minutes: a run that stopped after writing its minutes but before their rollups left hours and
    # days behind, and the next run finds no minute changed.
    hours = sorted({floor_hour(minute) for minute in changed} | set(_hours(fetch_start, end)))
    if not hours:
        return 0
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
    if rows:
        store.write(rows)
    return len(changed)


def _hours(start: datetime, end: datetime) -> list[datetime]:
    hours, hour = [], floor_hour(start)
    while hour < end:
        hours.append(hour)
        hour += HOUR
    return hours
