"""Where capacity records are kept: the port, an in-memory fake and DynamoDB (pynamodb).

DynamoDB layout: ``kind`` = ``report`` or ``saturation#<capacity unit>``, ``at`` = when it was
collected or measured (ISO, sortable), ``data`` = the record's JSON. Old rows expire by TTL.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Optional, Protocol

from chalicelib.capacity.records import SaturationPoint, UtilizationReport
from chalicelib.dynamodb import table_meta

REPORT_KIND = "report"
KEEP_SECONDS = 90 * 86400


def saturation_kind(capacity_unit: str) -> str:
    return f"saturation#{capacity_unit}"


class CapacityStore(Protocol):
    def put_report(self, report: UtilizationReport) -> None: ...

    def latest_report(self) -> Optional[UtilizationReport]: ...

    def put_saturation(self, point: SaturationPoint) -> None: ...

    def latest_saturation(self, capacity_unit: str) -> Optional[SaturationPoint]: ...


class MemoryCapacityStore:
    """Per process; tests and single-process tools."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _put(self, kind: str, at: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._rows.setdefault(kind, {})[at] = data

    def _latest(self, kind: str) -> Optional[dict[str, Any]]:
        with self._lock:
            rows = self._rows.get(kind) or {}
            return rows[max(rows)] if rows else None

    def put_report(self, report: UtilizationReport) -> None:
        self._put(REPORT_KIND, report.collected_at, report.to_json())

    def latest_report(self) -> Optional[UtilizationReport]:
        data = self._latest(REPORT_KIND)
        return None if data is None else UtilizationReport.from_json(data)

    def put_saturation(self, point: SaturationPoint) -> None:
        self._put(saturation_kind(point.capacity_unit), point.measured_at, point.to_json())

    def latest_saturation(self, capacity_unit: str) -> Optional[SaturationPoint]:
        data = self._latest(saturation_kind(capacity_unit))
        return None if data is None else SaturationPoint.from_json(data)


def capacity_model(table_name: str, region: str) -> Any:
    # pynamodb.models costs ~100 ms to import; only code that touches capacity storage pays it.
    from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class CapacityRecord(Model):
        Meta = table_meta(table_name, region, read_timeout_seconds=5)
        kind = UnicodeAttribute(hash_key=True)
        at = UnicodeAttribute(range_key=True)
        data = JSONAttribute()
        expires_at = NumberAttribute(null=True)

    return CapacityRecord


class DynamoDBCapacityStore:
    def __init__(self, model: Any, clock: Any = time.time) -> None:
        self.model = model
        self._clock = clock

    def _put(self, kind: str, at: str, data: dict[str, Any]) -> None:
        self.model(kind, at, data=data, expires_at=int(self._clock()) + KEEP_SECONDS).save()

    def _latest(self, kind: str) -> Optional[dict[str, Any]]:
        for item in self.model.query(kind, scan_index_forward=False, limit=1):
            return item.data
        return None

    def put_report(self, report: UtilizationReport) -> None:
        self._put(REPORT_KIND, report.collected_at, report.to_json())

    def latest_report(self) -> Optional[UtilizationReport]:
        data = self._latest(REPORT_KIND)
        return None if data is None else UtilizationReport.from_json(data)

    def put_saturation(self, point: SaturationPoint) -> None:
        self._put(saturation_kind(point.capacity_unit), point.measured_at, point.to_json())

    def latest_saturation(self, capacity_unit: str) -> Optional[SaturationPoint]:
        data = self._latest(saturation_kind(capacity_unit))
        return None if data is None else SaturationPoint.from_json(data)
