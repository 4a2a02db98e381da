"""DynamoDB storage of the SLO engine, through pynamodb.

- buckets table: ``series`` = ``<slo>#m#<hour>`` (minutes, one partition per hour),
  ``<slo>#h#<day>`` (hours, one per day) or ``<slo>#d`` (days); ``start`` = bucket key;
  ``counts`` = {"good": n, "valid": n} (or named counters for the ``_service`` series).
  Hours and days are recomputed from their children, so rewriting them is idempotent.
- status table: ``slo`` + ``at`` = ``latest`` (the snapshot), ``h#<minute>`` (history, TTL),
  and the evaluator's own record under ``slo`` = ``_evaluator``.
- alerts table: ``slo`` + ``key`` = ``alert#<opened minute>#<tier>`` (kept), and one
  ``open#<tier>`` item per open alert, the dedup lock; index ``by_opened`` lists both.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Optional

from chalicelib.dynamodb import is_conditional_failure, sorted_index, table_meta
from chalicelib.slo.records import Alert, HistoryPoint, ServiceSnapshot, SloSnapshot
from chalicelib.slo.timeutil import MINUTE, bucket_key, floor_day, floor_hour, parse_bucket_key, parse_iso

Counts = dict[str, int]
# (series, grain, start, counts, expires_at)
BucketRow = tuple[str, str, datetime, Counts, Optional[int]]
EVALUATOR_KEY = "_evaluator"
SERVICE_SERIES = "_service"


def _meta(table_name: str, region: str) -> type:
    # The evaluator's batches are larger than a request's calls: a little more patience.
    return table_meta(table_name, region, connect_timeout_seconds=3, read_timeout_seconds=5,
                      max_retry_attempts=3)


def bucket_model(table_name: str, region: str) -> Any:
    # pynamodb.models costs ~100 ms to import; only code that touches SLO storage pays it.
    from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class SloBucket(Model):
        Meta = _meta(table_name, region)
        series = UnicodeAttribute(hash_key=True)
        start = UnicodeAttribute(range_key=True)
        counts = MapAttribute(default=dict)
        expires_at = NumberAttribute(null=True)

    return SloBucket


def status_model(table_name: str, region: str) -> Any:
    from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class SloStatus(Model):
        Meta = _meta(table_name, region)
        slo = UnicodeAttribute(hash_key=True)
        at = UnicodeAttribute(range_key=True)
        data = JSONAttribute()
        expires_at = NumberAttribute(null=True)
        # Latest snapshots and hourly rollups: the moment (epoch seconds) their figures are of.
        as_of = NumberAttribute(null=True)

    return SloStatus


def alert_model(table_name: str, region: str) -> Any:
    from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class SloAlert(Model):
        Meta = _meta(table_name, region)
        slo = UnicodeAttribute(hash_key=True)
        key = UnicodeAttribute(range_key=True)
        listing = UnicodeAttribute()
        opened_at = UnicodeAttribute()
        data = JSONAttribute()
        handed_off = BooleanAttribute(default=False)
        by_opened = sorted_index("by_opened", "listing", "opened_at")

    return SloAlert


def partition_bounds(grain: str, moment: datetime) -> tuple[datetime, datetime]:
    """Minutes are partitioned by hour and hours by day, so no query scans a long history."""
    if grain == "m":
        low = floor_hour(moment)
        return low, low + timedelta(hours=1)
    if grain == "h":
        low = floor_day(moment)
        return low, low + timedelta(days=1)
    return datetime.min.replace(tzinfo=timezone.utc), datetime.max.replace(tzinfo=timezone.utc)


def partition_key(series: str, grain: str, moment: datetime) -> str:
    if grain == "m":
        return f"{series}#m#{floor_hour(moment):%Y-%m-%dT%H}"
    if grain == "h":
        return f"{series}#h#{floor_day(moment):%Y-%m-%d}"
    return f"{series}#d"


def _counts(raw: Any) -> Counts:
    values = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw or {})
    return {key: int(value) for key, value in values.items()}


class BucketStore:
    """Minute/hour/day buckets; counts reads and writes so runs can report their cost."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.items_read = 0
        self.items_written = 0
        self.queries = 0

    def query(self, series: str, grain: str, start: datetime, end: datetime) -> dict[datetime, Counts]:
        """Buckets of ``series`` at ``grain`` starting in [start, end), one Query per partition touched."""
        found: dict[datetime, Counts] = {}
        cursor = start
        while cursor < end:
            partition_end = min(end, partition_bounds(grain, cursor)[1])
            self.queries += 1
            # keys are minute strings at every grain, and between is inclusive
            condition = self.model.start.between(bucket_key(cursor), bucket_key(partition_end - MINUTE))
            for item in self.model.query(partition_key(series, grain, cursor), condition):
                self.items_read += 1
                moment = parse_bucket_key(item.start)
                if cursor <= moment < partition_end:
                    found[moment] = _counts(item.counts)
            cursor = partition_end
        return found

    def write(self, rows: Iterable[BucketRow]) -> int:
        """Put (series, grain, start, counts, expires_at) rows in batches of 25."""
        written = 0
        with self.model.batch_write() as batch:
            for series, grain, start, counts, expires_at in rows:
                batch.save(self.model(partition_key(series, grain, start), bucket_key(start), counts=dict(counts),
                                      expires_at=expires_at))
                written += 1
        self.items_written += written
        return written


def history_key(point: HistoryPoint) -> str:
    return f"h#{bucket_key(parse_iso(point.at))}"


def hour_key(moment: datetime) -> str:
    """Sortable key of an hour: ``2026-12-01T09Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%HZ")


def hourly_key(point: HistoryPoint) -> str:
    return f"H#{hour_key(parse_iso(point.at))}"


def last_point_per_hour(history: Iterable[tuple[str, HistoryPoint]]) -> dict[tuple[str, str], HistoryPoint]:
    """(slo, hourly key) -> the latest of the points in that hour."""
    latest: dict[tuple[str, str], HistoryPoint] = {}
    for name, point in history:
        key = (name, hourly_key(point))
        if key not in latest or parse_iso(point.at) >= parse_iso(latest[key].at):
            latest[key] = point
    return latest


class StatusStore:
    """Snapshots, history points, the service snapshot and the evaluator's own record.

    Each run writes one history point per SLO (``h#<minute>``) and overwrites that hour's
    rollup (``H#<hour>``, the hour's latest point), so charts over weeks read one item per hour."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.items_read = 0
        self.items_written = 0

    def latest(self, names: Iterable[str]) -> dict[str, SloSnapshot]:
        keys = [(name, "latest") for name in dict.fromkeys(names) if name != SERVICE_SERIES]
        found = {}
        for item in self.model.batch_get(keys):
            self.items_read += 1
            found[item.slo] = SloSnapshot.from_json(item.data)
        return found

    def service_snapshot(self) -> Optional[ServiceSnapshot]:
        from pynamodb.exceptions import DoesNotExist

        try:
            item = self.model.get(SERVICE_SERIES, "latest")
        except DoesNotExist:
            return None
        self.items_read += 1
        return ServiceSnapshot.from_json(item.data)

    def history(self, name: str, start: datetime, end: datetime) -> list[HistoryPoint]:
        items = self.model.query(name, self.model.at.between(f"h#{bucket_key(start)}", f"h#{bucket_key(end)}"))
        rows = []
        for item in items:
            self.items_read += 1
            rows.append(HistoryPoint.from_json(item.data))
        return rows

    def hourly_history(self, name: str, start: datetime, end: datetime) -> list[HistoryPoint]:
        """The latest point of each hour from ``start``'s hour to ``end``'s, oldest first."""
        items = self.model.query(name, self.model.at.between(f"H#{hour_key(start)}", f"H#{hour_key(end)}"))
        rows = []
        for item in items:
            self.items_read += 1
            rows.append(HistoryPoint.from_json(item.data))
        return rows

    def hourly_points(self, wanted: Iterable[tuple[str, datetime]]) -> dict[tuple[str, datetime], HistoryPoint]:
        """The hourly rollups of the given (slo, hour) pairs that exist, by key (one batch read)."""
        keys = {(name, f"H#{hour_key(hour)}"): (name, floor_hour(hour)) for name, hour in wanted}
        found = {}
        for item in self.model.batch_get(list(keys)):
            self.items_read += 1
            found[keys[(item.slo, item.at)]] = HistoryPoint.from_json(item.data)
        return found

    def save_run(self, snapshots: Iterable[SloSnapshot], history: Iterable[tuple[str, HistoryPoint]],
                 service: ServiceSnapshot, history_expires_at: int) -> None:
        """History points are keyed by their minute; the latest snapshots, the service snapshot and the
        hourly rollups are replaced only by figures of the same moment or later: a run that ends after
        the next one began (a slow or retried invocation) would otherwise put older figures back."""
        history = list(history)
        with self.model.batch_write() as batch:
            for name, point in history:
                batch.save(self.model(name, history_key(point), data=point.to_json(),
                                      expires_at=history_expires_at))
                self.items_written += 1
        for snapshot in snapshots:
            self._put_unless_newer_stored(self.model(snapshot.slo, "latest", data=snapshot.to_json()),
                                          snapshot.evaluated_at)
        for (name, key), point in last_point_per_hour(history).items():
            self._put_unless_newer_stored(self.model(name, key, data=point.to_json(), expires_at=history_expires_at),
                                          point.at)
        self._put_unless_newer_stored(self.model(SERVICE_SERIES, "latest", data=service.to_json()),
                                      service.evaluated_at)

    def _put_unless_newer_stored(self, item: Any, as_of: Optional[str]) -> None:
        from pynamodb.exceptions import PutError

        if as_of is None:  # no moment to compare (a service snapshot without data): as before
            item.save()
            self.items_written += 1
            return
        item.as_of = parse_iso(as_of).timestamp()
        try:
            item.save(condition=self.model.as_of.does_not_exist() | (self.model.as_of <= item.as_of))
        except PutError as exc:
            if is_conditional_failure(exc):
                return  # a later run's figures are stored: they stay
            raise
        self.items_written += 1

    def evaluator_record(self) -> Optional[dict[str, Any]]:
        from pynamodb.exceptions import DoesNotExist

        try:
            item = self.model.get(EVALUATOR_KEY, "run")
        except DoesNotExist:
            return None
        self.items_read += 1
        return item.data

    def save_evaluator_record(self, data: dict[str, Any]) -> None:
        self.model(EVALUATOR_KEY, "run", data=data).save()
        self.items_written += 1


class OpenAlertItem:
    """An open alert's lock item and its record."""

    def __init__(self, item: Any) -> None:
        self.item = item
        self.alert = Alert.from_json(item.data)

    @property
    def handed_off(self) -> bool:
        return bool(self.item.handed_off)


class AlertStore:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.items_read = 0
        self.items_written = 0

    def open_alerts(self, slo: str) -> dict[str, OpenAlertItem]:
        """tier -> open lock of ``slo``."""
        found = {}
        for item in self.model.query(slo, self.model.key.startswith("open#")):
            self.items_read += 1
            lock = OpenAlertItem(item)
            found[lock.alert.tier] = lock
        return found

    def open(self, alert: Alert) -> Optional[OpenAlertItem]:
        """Store the alert and its open lock; returns the lock, or None when (slo, tier) is already open."""
        from pynamodb.exceptions import PutError

        data = alert.to_json()
        lock = self.model(alert.slo, f"open#{alert.tier}", listing="open", opened_at=alert.opened_at,
                          data=data, handed_off=False)
        try:
            lock.save(condition=self.model.key.does_not_exist())
        except PutError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        self.model(alert.slo, _record_key(alert), listing="alert", opened_at=alert.opened_at, data=data).save()
        self.items_written += 2
        return OpenAlertItem(lock)

    def mark_handed_off(self, lock: OpenAlertItem) -> None:
        lock.item.update(actions=[self.model.handed_off.set(True)])
        self.items_written += 1

    def resolve(self, lock: OpenAlertItem, alert: Alert) -> None:
        """Keep the alert record with its resolution, then release the open lock."""
        self.model(alert.slo, _record_key(alert), listing="alert", opened_at=alert.opened_at,
                   data=alert.to_json(), handed_off=lock.handed_off).save()
        lock.item.delete()
        self.items_written += 2

    def listing(self, kind: str, limit: int, since: Optional[str] = None) -> list[Alert]:
        """Newest first; ``kind`` is ``open`` (open alerts) or ``alert`` (every alert record)."""
        condition = self.model.opened_at >= since if since else None
        rows = []
        for item in self.model.by_opened.query(kind, condition, scan_index_forward=False, limit=limit):
            self.items_read += 1
            rows.append(Alert.from_json(item.data))
        return rows


def _record_key(alert: Alert) -> str:
    return f"alert#{alert.opened_at}#{alert.tier}"
