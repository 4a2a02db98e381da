"""Fallbacks for the ``database`` breaker: stale reads from last-known-good data, clean 503 writes.

``DatabaseGuard`` implements the users service's ``StorageGuard`` protocol
(``chalicelib/users/service.py``)::

    UserService(repository, guard=DatabaseGuard(breakers.get("database"), LastKnownGood()))

- ``read(cache_key, call) -> (value, fresh)``: ``call`` runs through the ``database``
  breaker and every successful result is remembered per key (a user id, a list page).
  When the breaker is open, or the read fails with a counted (system) error, the
  remembered value is returned with ``fresh=False`` (the service counts it as not fresh
  and the response says ``X-Data-Stale: true``). With nothing remembered the read raises
  ``ServiceUnavailable`` (503, Retry-After = time until the breaker may probe).
- ``write(call, keys=, prefixes=)``: through the breaker; when open it raises
  ``ServiceUnavailable`` without calling, so nothing is written. A DynamoDB write (single
  item or transaction) is applied entirely or not at all, so nothing is half-written.
  Once the call returns or fails (a timed-out write may still have been applied), the
  remembered values it may have changed (``keys``, and every key starting with one of
  ``prefixes``) are forgotten, so a later fallback never serves what it changed.

What a write changed is never served stale by the process that took the write:

- a read that was in flight while the write finished is not remembered (it may hold the
  value from before): the cache counts writes and a read remembers only if none finished
  since it started;
- for ``WRITE_SETTLE_SECONDS`` after a write, reads of what it changed are not remembered
  either: DynamoDB reads (and every GSI query) are eventually consistent, so a read just
  after the write can still return the old item.

Across the fleet, another process keeps what it read before the write. It serves that
only while its breaker is open, and never a value older than ``STALE_MAX_AGE_SECONDS``
(``stale_max_age_seconds``): that is the bound on how long after an acknowledged write
any process can still serve the value from before it. The fleet-wide breaker refuses
writes everywhere while open (within ``BREAKER_CACHE_SECONDS``), so no write is
acknowledged while processes are serving stale data.
- Client-caused errors (``EmailTaken``, ``UserMissing``, failed conditions) and the
  repository's own ``StorageUnavailable`` on a failed call pass through unchanged: the
  service already maps them to 409/404/503.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterable, Optional, TypeVar

from chalicelib.http.errors import ServiceUnavailable
from chalicelib.resilience.breaker import BreakerOpenError, FleetCircuitBreaker

T = TypeVar("T")


WRITE_SETTLE_SECONDS = 5.0


class LastKnownGood:
    """In-process LRU of the last value read per key, with when it was read, that never takes
    back what a write made obsolete (see the module docstring)."""

    def __init__(self, max_entries: int = 2000, clock: Callable[[], float] = time.time,
                 settle_seconds: float = WRITE_SETTLE_SECONDS) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._settle_seconds = settle_seconds
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._writes = 0
        # (settled_at, keys, prefixes) of recent writes, oldest first.
        self._settling: list[tuple[float, frozenset[str], tuple[str, ...]]] = []

    @property
    def writes(self) -> int:
        """How many writes have finished: pass it back to ``remember`` as ``read_started_after``."""
        with self._lock:
            return self._writes

    def _settling_covers(self, key: str, now: float) -> bool:
        while self._settling and self._settling[0][0] <= now:
            self._settling.pop(0)
        return any(key in keys or key.startswith(prefixes) for _, keys, prefixes in self._settling)

    def remember(self, key: str, value: Any, *, read_started_after: Optional[int] = None) -> bool:
        """Keep ``value`` unless a write finished since the read began (``read_started_after``
        is ``writes`` as it was then) or a recent write to ``key`` may not be visible yet."""
        with self._lock:
            now = self._clock()
            if read_started_after is not None and read_started_after != self._writes:
                return False
            if self._settling_covers(key, now):
                return False
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return True

    def written(self, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        """A write that may have changed ``keys`` and keys under ``prefixes`` has finished."""
        keys, prefixes = frozenset(keys), tuple(prefixes)
        with self._lock:
            self._writes += 1
            self._settling.append((self._clock() + self._settle_seconds, keys, prefixes))
            self._forget(keys, prefixes)

    def recall(self, key: str) -> Optional[tuple[float, Any]]:
        """``(age_seconds, value)`` or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return self._clock() - entry[0], entry[1]

    def _forget(self, keys: Iterable[str], prefixes: tuple[str, ...]) -> None:
        for key in list(keys):
            self._entries.pop(key, None)
        if prefixes:
            for key in [k for k in self._entries if k.startswith(prefixes)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class DatabaseGuard:
    def __init__(self, breaker: FleetCircuitBreaker, cache: LastKnownGood, max_stale_seconds: float = 300.0) -> None:
        self.breaker = breaker
        self.cache = cache
        self.max_stale_seconds = max_stale_seconds
        self.stale_reads = 0

    def read(self, cache_key: str, call: Callable[[], T]) -> tuple[T, bool]:
        writes_before = self.cache.writes
        try:
            value = self.breaker.call(call)
        except BreakerOpenError as exc:
            return self._stale(cache_key, exc, exc.retry_after_seconds)
        except Exception as exc:
            if not self.breaker.is_system_error(exc):
                raise
            return self._stale(cache_key, exc, None)
        self.cache.remember(cache_key, value, read_started_after=writes_before)
        return value, True

    def _stale(self, cache_key: str, cause: Exception, retry_after: Optional[int]) -> tuple[Any, bool]:
        remembered = self.cache.recall(cache_key)
        if remembered is not None and remembered[0] > self.max_stale_seconds:
            remembered = None
        if remembered is None:
            if retry_after is None:
                raise cause  # the failed call's own error: the service maps it
            raise ServiceUnavailable("User store is unavailable and this data is not cached; retry later",
                                     retry_after_seconds=retry_after) from None
        self.stale_reads += 1
        return remembered[1], False

    def write(self, call: Callable[[], T], *, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> T:
        try:
            return self.breaker.call(call)
        except BreakerOpenError as exc:
            raise ServiceUnavailable("User store is unavailable; nothing was written, retry later",
                                     retry_after_seconds=exc.retry_after_seconds) from None
        finally:
            # Also after a failure: a timed-out write may have been applied.
            self.cache.written(keys, prefixes)

