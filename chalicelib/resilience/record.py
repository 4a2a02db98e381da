"""The shared state of one breaker, and the in-process store used for pybreaker's memory storage.

A breaker's state is one immutable ``BreakerRecord``. Every store offers the same
three primitives the fleet breaker needs beyond pybreaker's storage interface:
``record()`` (possibly cached), ``refresh()`` (read through) and
``compare_and_set(expected_version, changes)``: a transition is written only if
nobody else moved the breaker since ``expected_version``, so two callers can never
both move it.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Mapping, Optional, Protocol

import pybreaker

CLOSED = pybreaker.STATE_CLOSED
OPEN = pybreaker.STATE_OPEN
HALF_OPEN = pybreaker.STATE_HALF_OPEN
MAX_TRANSITIONS_KEPT = 10


@dataclass(frozen=True)
class BreakerRecord:
    state: str = CLOSED
    failures: int = 0
    successes: int = 0
    opened_at: Optional[float] = None  # epoch seconds: compared across processes
    version: int = 0
    probe_owner: Optional[str] = None
    probe_lease_until: Optional[float] = None
    # Opened by an operator: stays open (no probe) until an operator closes or resets it.
    forced: bool = False
    transitions: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def with_changes(self, changes: Mapping[str, Any]) -> "BreakerRecord":
        return replace(self, **dict(changes))


class RecordStore(Protocol):
    """What the fleet breaker needs from a storage; ``DynamoDBCircuitStorage`` implements it."""

    @property
    def shared(self) -> bool:
        """True while the state is the fleet's (False: in-process fallback)."""

    def record(self) -> BreakerRecord: ...

    def refresh(self) -> BreakerRecord: ...

    def increment_failures(self) -> BreakerRecord: ...

    def reset_failures(self) -> None: ...

    def increment_successes(self) -> BreakerRecord: ...

    def compare_and_set(self, expected_version: int, changes: Mapping[str, Any]) -> bool: ...


def epoch_to_datetime(value: Optional[float]) -> Optional[datetime]:
    return None if value is None else datetime.fromtimestamp(value, tz=timezone.utc)


class _Sidecar:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.extra = BreakerRecord()


_SIDECARS: "weakref.WeakKeyDictionary[Any, _Sidecar]" = weakref.WeakKeyDictionary()
_SIDECARS_LOCK = threading.Lock()


class LocalRecordStore:
    """A ``RecordStore`` over any plain pybreaker storage (e.g. ``CircuitMemoryStorage``).

    pybreaker's memory storage has no versions or probe lease, so they live here; a lock
    stands in for DynamoDB's conditional write. Counters and state are kept in the wrapped
    storage so stock pybreaker code reading it sees the same values.
    """

    def __init__(self, storage: pybreaker.CircuitBreakerStorage) -> None:
        self._storage = storage
        # Breakers sharing one storage object share its versions and lease too.
        with _SIDECARS_LOCK:
            self._sidecar = _SIDECARS.setdefault(storage, _Sidecar())
        self._lock = self._sidecar.lock

    @property
    def _extra(self) -> BreakerRecord:
        return self._sidecar.extra

    @_extra.setter
    def _extra(self, value: BreakerRecord) -> None:
        self._sidecar.extra = value

    @property
    def shared(self) -> bool:
        return True

    def record(self) -> BreakerRecord:
        with self._lock:
            opened_at = self._storage.opened_at
            return replace(self._extra, state=self._storage.state, failures=self._storage.counter,
                           successes=self._storage.success_counter,
                           opened_at=opened_at.timestamp() if opened_at else None)

    refresh = record

    def increment_failures(self) -> BreakerRecord:
        with self._lock:
            self._storage.increment_counter()
            return self.record()

    def reset_failures(self) -> None:
        with self._lock:
            self._storage.reset_counter()

    def increment_successes(self) -> BreakerRecord:
        with self._lock:
            self._storage.increment_success_counter()
            return self.record()

    def compare_and_set(self, expected_version: int, changes: Mapping[str, Any]) -> bool:
        with self._lock:
            current = self.record()
            if current.version != expected_version:
                return False
            updated = current.with_changes(changes)
            self._storage.state = updated.state
            if updated.failures == 0:
                self._storage.reset_counter()
            if updated.successes == 0:
                self._storage.reset_success_counter()
            if "opened_at" in changes:
                self._storage.opened_at = epoch_to_datetime(updated.opened_at)
            self._extra = replace(updated, version=expected_version + 1)
            return True
