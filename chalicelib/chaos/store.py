"""The fault store port and its providers: an in-memory fake and DynamoDB (through pynamodb).

Every provider passes ``tests/unit/chaos/test_fault_store_contract.py``. ``active(now)`` never
answers an expired fault, so expiry holds even before DynamoDB's TTL deletes the item.
"""
from __future__ import annotations

import threading
from typing import Any, Protocol

from chalicelib.chaos.model import FaultRecord
from chalicelib.dynamodb import table_meta


class FaultStore(Protocol):
    def put(self, fault: FaultRecord) -> None: ...

    def remove_experiment(self, experiment_id: str) -> int:
        """Delete every fault ``experiment_id`` wrote; returns how many there were."""

    def active(self, now: float) -> list[FaultRecord]: ...


class MemoryFaultStore:
    def __init__(self) -> None:
        self._faults: dict[str, FaultRecord] = {}
        self._lock = threading.Lock()
        self.reads = 0

    def put(self, fault: FaultRecord) -> None:
        with self._lock:
            self._faults[fault.fault_id] = fault

    def remove_experiment(self, experiment_id: str) -> int:
        with self._lock:
            doomed = [key for key, fault in self._faults.items() if fault.experiment_id == experiment_id]
            for key in doomed:
                del self._faults[key]
            return len(doomed)

    def active(self, now: float) -> list[FaultRecord]:
        with self._lock:
            self.reads += 1
            return sorted((f for f in self._faults.values() if f.is_live(now)), key=lambda f: f.fault_id)


def fault_model(table_name: str, region: str) -> Any:
    """The pynamodb class of the faults table (``chalicelib.wiring`` builds it once per process)."""
    # pynamodb.models costs ~100 ms to import; only a process that reads faults pays it.
    from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class FaultItem(Model):
        # The lookup runs on the request path once per cache period: it fails fast, never retries.
        Meta = table_meta(table_name, region, connect_timeout_seconds=1, read_timeout_seconds=1,
                          max_retry_attempts=0)
        fault_id = UnicodeAttribute(hash_key=True)
        experiment_id = UnicodeAttribute()
        kind = UnicodeAttribute()
        target = UnicodeAttribute()
        magnitude = NumberAttribute()
        blast_radius_pct = NumberAttribute()
        expires_at = NumberAttribute()  # the table's TTL attribute as well
        operations = ListAttribute(of=UnicodeAttribute, default=list)

    return FaultItem


class DynamoDBFaultStore:
    def __init__(self, model: Any) -> None:
        self._model = model

    def put(self, fault: FaultRecord) -> None:
        self._model(fault.fault_id, experiment_id=fault.experiment_id, kind=fault.kind, target=fault.target,
                    magnitude=fault.magnitude, blast_radius_pct=fault.blast_radius_pct,
                    expires_at=fault.expires_at, operations=list(fault.operations)).save()

    def remove_experiment(self, experiment_id: str) -> int:
        removed = 0
        for item in self._model.scan(self._model.experiment_id == experiment_id, consistent_read=True):
            item.delete()
            removed += 1
        return removed

    def active(self, now: float) -> list[FaultRecord]:
        # A handful of items at most (one per fault of the running experiments): one scan page.
        faults = [FaultRecord(fault_id=item.fault_id, experiment_id=item.experiment_id, kind=item.kind,
                              target=item.target, magnitude=float(item.magnitude),
                              blast_radius_pct=float(item.blast_radius_pct), expires_at=float(item.expires_at),
                              operations=tuple(item.operations or ()))
                  for item in self._model.scan(self._model.expires_at > now, consistent_read=True)]
        return sorted(faults, key=lambda f: f.fault_id)
