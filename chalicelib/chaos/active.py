"""The faults active in this process: a cache over the fault store, and what consults it.

``ActiveFaults.current()`` reads the store at most once per cache period (one read per
process, whoever asks); between reads it answers from memory, dropping faults whose expiry
has passed. With nothing active the request path pays one clock read and a comparison
(``bench/chaos_lookup.py`` measures it). A store that cannot be read counts as "no new
faults": the faults already known stay until they expire, and the next read is one period later.

Consumers:
- ``route_fault(route)`` for the HTTP middleware (``route_latency``/``route_error``),
- ``DynamoDBFaultSwitch`` for ``chalicelib.resilience.faults.FaultInjector`` on the users
  store's botocore clients (so the breakers see real botocore errors),
- ``webhook_fault()`` for the webhook sender.
Each rolls the blast radius: a fault with ``blast_radius_pct`` 25 touches about a quarter of
the matching calls.
"""
from __future__ import annotations

import random
import threading
import time
from typing import Any, Callable, Optional

from chalicelib.chaos.model import (
    DATABASE_TARGET, DYNAMODB_ERROR, DYNAMODB_KINDS, DYNAMODB_SLOWDOWN, DYNAMODB_THROTTLE, DYNAMODB_TIMEOUT,
    WEBHOOK_KINDS, FaultRecord)
from chalicelib.chaos.store import FaultStore

_NONE: tuple[FaultRecord, ...] = ()


class ActiveFaults:
    def __init__(self, store: FaultStore, cache_seconds: float = 5.0, *, logger: Any = None,
                 monotonic: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 rand: Callable[[], float] = random.random) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._logger = logger
        self._monotonic = monotonic
        self._wall = wall
        self._rand = rand
        self._faults: tuple[FaultRecord, ...] = _NONE
        self._next_read = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> tuple[FaultRecord, ...]:
        if self._monotonic() >= self._next_read:
            self._refresh()
        faults = self._faults
        if not faults:
            return _NONE
        now = self._wall()
        return tuple(fault for fault in faults if fault.is_live(now))

    def invalidate(self) -> None:
        """Read the store on next use (this process just wrote or removed a fault)."""
        self._next_read = float("-inf")

    def _refresh(self) -> None:
        # One reader per process per period: the others keep answering from the current list.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._monotonic() < self._next_read:
                return
            self._next_read = self._monotonic() + self._cache_seconds
            try:
                self._faults = tuple(self._store.active(self._wall()))
            except Exception as exc:  # noqa: BLE001 - any store failure means "no news"; logged, retried next period
                if self._logger is not None:
                    self._logger.warning("chaos fault store unreadable; keeping the known faults until they expire",
                                         extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
        finally:
            self._lock.release()

    def _rolled(self, fault: FaultRecord) -> bool:
        return fault.blast_radius_pct >= 100 or self._rand() * 100 < fault.blast_radius_pct

    def route_fault(self, route: str) -> Optional[FaultRecord]:
        faults = self.current()
        if not faults:
            return None
        for fault in faults:
            if fault.applies_to_route(route) and self._rolled(fault):
                return fault
        return None

    def webhook_fault(self) -> Optional[FaultRecord]:
        for fault in self.current():
            if fault.kind in WEBHOOK_KINDS and self._rolled(fault):
                return fault
        return None

    def dynamodb_fault(self, operation: str) -> Optional[FaultRecord]:
        for fault in self.current():
            if (fault.kind in DYNAMODB_KINDS and fault.target == DATABASE_TARGET
                    and (not fault.operations or operation in fault.operations)):
                return fault
        return None


class DynamoDBFaultSwitch:
    """The ``FaultInjector`` switch of the users store: DynamoDB fault records as botocore faults."""

    def __init__(self, active: ActiveFaults) -> None:
        self._active = active

    def match(self, service: str, operation: str) -> Any:
        if service != "dynamodb":
            return None
        record = self._active.dynamodb_fault(operation)
        if record is None:
            return None
        from chalicelib.resilience.faults import Fault

        common = {"service": "dynamodb", "probability": min(1.0, record.blast_radius_pct / 100.0),
                  "expires_at": record.expires_at, "experiment_id": record.experiment_id}
        if record.kind == DYNAMODB_ERROR:
            return Fault(error_code="InternalServerError", **common)
        if record.kind == DYNAMODB_THROTTLE:
            return Fault(error_code="ProvisionedThroughputExceededException", **common)
        if record.kind == DYNAMODB_TIMEOUT:
            return Fault(hang_seconds=max(0.001, record.magnitude), **common)
        if record.kind == DYNAMODB_SLOWDOWN:
            return Fault(error_code="", delay_seconds=max(0.0, record.magnitude) / 1000.0, **common)
        return None
