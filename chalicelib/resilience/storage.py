"""pybreaker storage whose state is shared by every process through one DynamoDB item.

``DynamoDBCircuitStorage`` is a stock ``pybreaker.CircuitBreakerStorage`` (usable by a
plain ``pybreaker.CircuitBreaker``) and a ``RecordStore`` for the fleet breaker:

- counters move with atomic ``ADD`` updates that return the new item;
- transitions are conditional writes on a ``version`` attribute;
- reads are cached in-process for ``cache_seconds``, so a closed breaker costs at most
  one read per cache period per process; a half-open one (another process's probe is on)
  for at most ``HALF_OPEN_CACHE_SECONDS``: the probe ends in moments, and a process still
  holding "half-open" refused every call for up to ``cache_seconds`` after the probe had
  closed the breaker (a thousand fast 503s in two seconds of load);
- when DynamoDB cannot be reached the storage continues on an in-process copy of the
  last state it saw (logged and counted), retries the table every ``retry_seconds`` and
  returns to the shared state as soon as it answers. A breaker must never turn a
  storage fault into an outage of its own.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

import pybreaker

from chalicelib.dynamodb import is_conditional_failure, storage_errors
from chalicelib.resilience.record import CLOSED, HALF_OPEN, BreakerRecord, epoch_to_datetime

FallbackListener = Callable[[str, bool, Optional[BaseException]], None]

# A few reads a second per process, only while some process probes (bounded by the probe lease).
HALF_OPEN_CACHE_SECONDS = 0.2


def breaker_model(table_name: str, region: str, timeout_seconds: float) -> Any:
    """The pynamodb model of the breakers table (``chalicelib.wiring`` builds it once per process)."""
    # pynamodb.models imports botocore (~100 ms): only paid when a shared breaker is used.
    from pynamodb.attributes import (BooleanAttribute, JSONAttribute, NumberAttribute,
                                     UnicodeAttribute)
    from pynamodb.models import Model

    timeout = timeout_seconds

    class BreakerStateItem(Model):
        class Meta:
            pass

        name = UnicodeAttribute(hash_key=True)
        state = UnicodeAttribute(null=True)
        failures = NumberAttribute(null=True)
        successes = NumberAttribute(null=True)
        opened_at = NumberAttribute(null=True)
        version = NumberAttribute(null=True)
        probe_owner = UnicodeAttribute(null=True)
        probe_lease_until = NumberAttribute(null=True)
        forced = BooleanAttribute(null=True)
        transitions = JSONAttribute(null=True)

    meta = BreakerStateItem.Meta
    meta.table_name = table_name
    meta.region = region
    # Short timeouts and one retry: a slow breaker table must not slow every request.
    meta.connect_timeout_seconds = timeout
    meta.read_timeout_seconds = timeout
    meta.max_retry_attempts = 1
    return BreakerStateItem






class DynamoDBCircuitStorage(pybreaker.CircuitBreakerStorage):
    """Breaker state in the breakers table, item key = breaker name."""

    def __init__(self, breaker_name: str, *, model: Any, cache_seconds: float = 2.0,
                 retry_seconds: float = 5.0, clock: Callable[[], float] = time.time,
                 on_fallback: Optional[FallbackListener] = None) -> None:
        super().__init__("dynamodb")
        self.breaker_name = breaker_name
        self.model = model
        self.cache_seconds = cache_seconds
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._on_fallback = on_fallback
        self._lock = threading.RLock()
        self._cached: Optional[BreakerRecord] = None
        self._cached_at = float("-inf")
        self._fallback: Optional[BreakerRecord] = None  # set while the table is unreachable
        self._next_retry_at = 0.0
        self.reads = 0  # table reads made by this process (the bench reports them)

    # ------------------------------------------------------------------ table access

    def _to_record(self, item: Any) -> BreakerRecord:
        return BreakerRecord(
            state=item.state or CLOSED,
            failures=int(item.failures or 0),
            successes=int(item.successes or 0),
            opened_at=float(item.opened_at) if item.opened_at is not None else None,
            version=int(item.version or 0),
            probe_owner=item.probe_owner,
            probe_lease_until=float(item.probe_lease_until) if item.probe_lease_until is not None else None,
            forced=bool(item.forced),
            transitions=tuple(item.transitions or ()),
        )

    def _read_table(self, consistent: bool) -> BreakerRecord:
        self.reads += 1
        model = self.model
        try:
            item = model.get(self.breaker_name, consistent_read=consistent)
        except model.DoesNotExist:
            return BreakerRecord()
        return self._to_record(item)

    def _update(self, actions: list, condition: Any = None) -> BreakerRecord:
        item = self.model(self.breaker_name)
        item.update(actions=actions, condition=condition)  # ReturnValues=ALL_NEW refreshes ``item``
        return self._to_record(item)

    # ------------------------------------------------------------------ shared/fallback
    @property
    def shared(self) -> bool:
        return self._fallback is None

    def _remember(self, record: BreakerRecord) -> BreakerRecord:
        self._cached, self._cached_at = record, self._clock()
        return record

    def _enter_fallback(self, exc: BaseException) -> BreakerRecord:
        now = self._clock()
        self._next_retry_at = now + self.retry_seconds
        if self._fallback is None:
            self._fallback = self._cached or BreakerRecord()
            if self._on_fallback:
                self._on_fallback(self.breaker_name, True, exc)
        return self._fallback

    def _leave_fallback(self, record: BreakerRecord) -> BreakerRecord:
        if self._fallback is not None:
            self._fallback = None
            if self._on_fallback:
                self._on_fallback(self.breaker_name, False, None)
        return self._remember(record)

    def _shared_call(self, operation: Callable[[], BreakerRecord],
                     local: Callable[[BreakerRecord], BreakerRecord]) -> BreakerRecord:
        """Run ``operation`` on the table, or ``local`` on the in-process copy while it is down."""
        with self._lock:
            if self._fallback is not None and self._clock() < self._next_retry_at:
                self._fallback = local(self._fallback)
                return self._fallback
            try:
                record = operation()
            except storage_errors() as exc:
                self._fallback = local(self._enter_fallback(exc))
                return self._fallback
            return self._leave_fallback(record)

    # ------------------------------------------------------------------ RecordStore
    def record(self) -> BreakerRecord:
        with self._lock:
            if self._fallback is None and self._cached is not None \
                    and self._clock() - self._cached_at < self._kept_for(self._cached):
                return self._cached
            return self._shared_call(lambda: self._read_table(consistent=False), lambda record: record)

    def _kept_for(self, record: BreakerRecord) -> float:
        return min(self.cache_seconds, HALF_OPEN_CACHE_SECONDS) if record.state == HALF_OPEN else self.cache_seconds

    def refresh(self) -> BreakerRecord:
        return self._shared_call(lambda: self._read_table(consistent=True), lambda record: record)

    def increment_failures(self) -> BreakerRecord:
        model = self.model
        return self._shared_call(lambda: self._update([model.failures.add(1)]),
                                 lambda r: replace(r, failures=r.failures + 1))

    def reset_failures(self) -> None:
        model = self.model
        self._shared_call(lambda: self._update([model.failures.set(0)]), lambda r: replace(r, failures=0))

    def increment_successes(self) -> BreakerRecord:
        model = self.model
        return self._shared_call(lambda: self._update([model.successes.add(1)]),
                                 lambda r: replace(r, successes=r.successes + 1))

    def compare_and_set(self, expected_version: int, changes: Mapping[str, Any]) -> bool:
        """Apply ``changes`` and bump the version, only if the version is still ``expected_version``."""
        model = self.model
        with self._lock:
            if self._fallback is not None and self._clock() < self._next_retry_at:
                return self._local_compare_and_set(expected_version, changes)
            actions = [model.version.set(expected_version + 1)]
            for name, value in changes.items():
                attribute = getattr(model, name)
                if name == "transitions":
                    value = [dict(entry) for entry in value]
                actions.append(attribute.remove() if value is None else attribute.set(value))
            condition = model.version == expected_version
            if expected_version == 0:
                condition = model.version.does_not_exist() | condition
            try:
                self._leave_fallback(self._update(actions, condition))
                return True
            except storage_errors() as exc:
                if is_conditional_failure(exc):
                    self._cached_at = float("-inf")  # someone moved it: the next read goes to the table
                    return False
                self._enter_fallback(exc)
                return self._local_compare_and_set(expected_version, changes)

    def _local_compare_and_set(self, expected_version: int, changes: Mapping[str, Any]) -> bool:
        assert self._fallback is not None
        if self._fallback.version != expected_version:
            return False
        self._fallback = replace(self._fallback.with_changes(changes), version=expected_version + 1)
        return True

    def forget_cache(self) -> None:
        with self._lock:
            self._cached_at = float("-inf")

    # ------------------------------------------------------------------ pybreaker interface
    @property
    def state(self) -> str:
        return self.record().state

    @state.setter
    def state(self, state: str) -> None:
        self._set_unconditionally({"state": state})

    def increment_counter(self) -> None:
        self.increment_failures()

    def reset_counter(self) -> None:
        # pybreaker resets after every success: only write when this process saw failures.
        if self.record().failures:
            self.reset_failures()

    def increment_success_counter(self) -> None:
        self.increment_successes()

    def reset_success_counter(self) -> None:
        if self.record().successes:
            self._set_unconditionally({"successes": 0})

    @property
    def counter(self) -> int:
        return self.record().failures

    @property
    def success_counter(self) -> int:
        return self.record().successes

    @property
    def opened_at(self) -> Optional[datetime]:
        return epoch_to_datetime(self.record().opened_at)

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._set_unconditionally({"opened_at": value.timestamp()})

    def _set_unconditionally(self, changes: Mapping[str, Any]) -> None:
        model = self.model
        actions = [model.version.add(1)] + [getattr(model, name).set(value) for name, value in changes.items()]

        def local(record: BreakerRecord) -> BreakerRecord:
            return replace(record.with_changes(changes), version=record.version + 1)

        self._shared_call(lambda: self._update(actions), local)
