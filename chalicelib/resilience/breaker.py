"""A pybreaker ``CircuitBreaker`` whose state machine runs on a shared ``RecordStore``.

Stock pybreaker keeps a per-process state object and lets every caller through in
half-open; with state shared by a fleet that would let every process probe at once and
reset each other's counters. ``FleetCircuitBreaker`` keeps pybreaker's configuration,
exclusions, listeners and ``CircuitBreakerError`` but routes each call from the record:

- closed: call; a failure is an atomic increment, and the caller whose increment reaches
  ``fail_max`` opens the breaker with a conditional write (the original error is raised);
- open: fail fast with ``BreakerOpenError`` until ``reset_timeout`` has passed; then
  callers race one conditional write to become the single prober (the lease holder),
  the losers keep failing fast;
- half-open: only the lease holder calls (one call at a time); ``success_threshold``
  successes close the breaker, a failure reopens it. A lease that expires (the prober
  went away) can be taken over the same way.

Time comes from ``clock`` (epoch seconds), so tests control it.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Callable, Iterable, Mapping, Optional, TypeVar

import pybreaker

from chalicelib.resilience.listeners import TransitionAnnouncement, ignore_transition
from chalicelib.resilience.record import (CLOSED, HALF_OPEN, MAX_TRANSITIONS_KEPT, OPEN, BreakerRecord,
                                          LocalRecordStore, RecordStore)

T = TypeVar("T")


class BreakerOpenError(pybreaker.CircuitBreakerError):
    """The breaker refused the call without trying it."""

    def __init__(self, breaker_name: str, retry_after_seconds: int) -> None:
        super().__init__(f"Circuit breaker '{breaker_name}' is open")
        self.breaker_name = breaker_name
        self.retry_after_seconds = retry_after_seconds


class FleetCircuitBreaker(pybreaker.CircuitBreaker):
    def __init__(self, name: str, *, fail_max: int = 5, reset_timeout: float = 30, success_threshold: int = 1,
                 exclude: Optional[Iterable[Any]] = None, listeners: Optional[Iterable[Any]] = None,
                 state_storage: Optional[pybreaker.CircuitBreakerStorage] = None,
                 probe_lease_seconds: Optional[float] = None, clock: Callable[[], float] = time.time,
                 announce: TransitionAnnouncement = ignore_transition) -> None:
        storage = state_storage or pybreaker.CircuitMemoryStorage(CLOSED)
        self._store: RecordStore = storage if hasattr(storage, "compare_and_set") else LocalRecordStore(storage)
        self._clock = clock
        self._announce = announce
        self._owner_id = f"{uuid.uuid4().hex[:12]}"
        self._probe_lock = threading.Lock()
        self.probe_lease_seconds = reset_timeout if probe_lease_seconds is None else probe_lease_seconds
        super().__init__(fail_max=fail_max, reset_timeout=reset_timeout, success_threshold=success_threshold,
                         exclude=list(exclude or []), listeners=list(listeners or []), state_storage=storage,
                         name=name, throw_new_error_on_trip=False)

    # ------------------------------------------------------------------ reading
    @property
    def store(self) -> RecordStore:
        return self._store

    def record(self) -> BreakerRecord:
        return self._store.record()

    @property
    def current_state(self) -> str:
        return self._store.record().state

    @property
    def fail_counter(self) -> int:
        return self._store.record().failures

    @property
    def success_counter(self) -> int:
        return self._store.record().successes

    def seconds_until_half_open(self, record: Optional[BreakerRecord] = None) -> Optional[float]:
        """None unless open on a timer; 0 when a probe may start now."""
        record = record or self._store.record()
        if record.state != OPEN or record.forced or record.opened_at is None:
            return None
        return max(0.0, record.opened_at + self.reset_timeout - self._clock())

    def _retry_after(self, record: BreakerRecord) -> int:
        left = self.seconds_until_half_open(record)
        if left is None:
            left = self.reset_timeout if record.forced else self.probe_lease_seconds
        return max(1, int(left + 0.999))

    def refusing_for(self) -> Optional[int]:
        """Retry-After seconds while open (forced, or before a probe may start), else None."""
        record = self._store.record()
        if record.state == OPEN and (record.forced or self.seconds_until_half_open(record)):
            return self._retry_after(record)
        return None

    # ------------------------------------------------------------------ calling
    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        record = self._store.record()
        if record.state == CLOSED:
            return self._call_closed(record, func, args, kwargs)
        if record.state == OPEN:
            if record.forced or self.seconds_until_half_open(record) or not self._elect_prober(record, "probe"):
                raise BreakerOpenError(self.name, self._retry_after(record))
            return self._call_probe(func, args, kwargs)
        if record.probe_owner == self._owner_id:
            return self._call_probe(func, args, kwargs)
        lease_over = record.probe_lease_until is not None and self._clock() >= record.probe_lease_until
        if lease_over and self._elect_prober(record, "probe_lease_expired"):
            return self._call_probe(func, args, kwargs)
        raise BreakerOpenError(self.name, self._retry_after(record))

    def _call_closed(self, record: BreakerRecord, func: Callable[..., T], args: tuple, kwargs: dict) -> T:
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            if not self.is_system_error(exc):
                raise
            updated = self._store.increment_failures()
            self._tell_listeners("failure", exc)
            if updated.state == CLOSED and updated.failures >= self.fail_max:
                self._move(updated, OPEN, "failures", {"opened_at": self._clock(), "successes": 0,
                                                       "probe_owner": None, "probe_lease_until": None})
            raise
        if record.failures:
            self._store.reset_failures()
        self._tell_listeners("success")
        return result

    def _elect_prober(self, record: BreakerRecord, reason: str) -> bool:
        now = self._clock()
        return self._move(record, HALF_OPEN, reason, {
            "probe_owner": self._owner_id, "probe_lease_until": now + self.probe_lease_seconds, "successes": 0})

    def _call_probe(self, func: Callable[..., T], args: tuple, kwargs: dict) -> T:
        if not self._probe_lock.acquire(blocking=False):  # one probe at a time inside the lease holder too
            raise BreakerOpenError(self.name, 1)
        try:
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                if not self.is_system_error(exc):
                    self._probe_succeeded()
                    raise
                self._tell_listeners("failure", exc)
                self._move(self._store.record(), OPEN, "probe_failed", {
                    "opened_at": self._clock(), "successes": 0, "probe_owner": None, "probe_lease_until": None})
                raise
            self._probe_succeeded()
            self._tell_listeners("success")
            return result
        finally:
            self._probe_lock.release()

    def _probe_succeeded(self) -> None:
        updated = self._store.increment_successes()
        if updated.state == HALF_OPEN and updated.successes >= self.success_threshold:
            self._move(updated, CLOSED, "probe_succeeded", _closed_changes())

    # ------------------------------------------------------------------ transitions
    def _move(self, record: BreakerRecord, new_state: str, reason: str, changes: Mapping[str, Any],
              actor: Optional[str] = None) -> bool:
        """Conditionally write ``record`` -> ``new_state``; announce it only if this caller won."""
        now = self._clock()
        entry = {"from": record.state, "to": new_state, "at": round(now, 3), "reason": reason}
        if actor:
            entry["actor"] = actor
        kept = changes.get("transitions", record.transitions)  # a reset forgets the others, never its own entry
        transitions = (tuple(kept) + (entry,))[-MAX_TRANSITIONS_KEPT:]
        full_changes = {**changes, "state": new_state, "transitions": transitions}
        if not self._store.compare_and_set(record.version, full_changes):
            return False
        if record.state == new_state:
            # An operator's open of an open breaker (or close of a closed one) is kept in the transitions
            # with who did it, but is no transition: announced, it paged a new incident for a breaker
            # whose trip was already handled.
            return True
        self._announce(self.name, record.state, new_state, {
            "reason": reason, "at": now, "failures": record.failures,
            "opened_at": full_changes.get("opened_at", record.opened_at), "shared": self._store.shared,
            **({"actor": actor} if actor else {})})
        self._tell_state_change(record.state, new_state)
        return True

    def _operator_move(self, new_state: str, reason: str, changes: Mapping[str, Any], actor: Optional[str]) -> None:
        for _ in range(5):  # lost races mean someone else moved it meanwhile: re-read and apply on top
            record = self._store.refresh()
            if self._move(record, new_state, reason, changes, actor=actor):
                return
        raise RuntimeError(f"Breaker '{self.name}' kept changing; {reason} not applied")

    def open(self, actor: Optional[str] = None) -> bool:  # type: ignore[override]
        """Force open: stays open, with no probe, until ``close``/``reset``."""
        self._operator_move(OPEN, "operator", {"opened_at": self._clock(), "forced": True, "successes": 0,
                                               "probe_owner": None, "probe_lease_until": None}, actor)
        return False

    def close(self, actor: Optional[str] = None) -> None:  # type: ignore[override]
        self._operator_move(CLOSED, "operator", _closed_changes(), actor)

    def reset(self, actor: Optional[str] = None) -> None:
        """Close and forget the history: counters, forced flag and recent transitions (but for the reset's own,
        which says who reset it)."""
        self._operator_move(CLOSED, "reset", {**_closed_changes(), "transitions": ()}, actor)

    def half_open(self) -> None:
        self._elect_prober(self._store.refresh(), "operator")

    # ------------------------------------------------------------------ pybreaker listeners
    def _tell_listeners(self, event: str, exc: Optional[BaseException] = None) -> None:
        for listener in self.listeners:
            if event == "failure":
                listener.failure(self, exc)
            else:
                listener.success(self)

    def _tell_state_change(self, old: str, new: str) -> None:
        if not self.listeners:
            return
        old_state = self._create_new_state(old)
        new_state = self._create_new_state(new)
        for listener in self.listeners:
            listener.state_change(self, old_state, new_state)

    @property
    def state(self) -> Any:
        return self._create_new_state(self.current_state)

    @state.setter
    def state(self, state_str: str) -> None:
        raise AttributeError("Use open()/close()/reset(): transitions on shared state are conditional writes")


def _closed_changes() -> dict[str, Any]:
    return {"failures": 0, "successes": 0, "opened_at": None, "forced": False,
            "probe_owner": None, "probe_lease_until": None}
