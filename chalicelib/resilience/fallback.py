"""Fallbacks for the ``database`` breaker: stale reads from last-known-good data, clean 503 writes.

``DatabaseGuard`` implements the users service's ``StorageGuard`` protocol
(``chalicelib/users/service.py``)::

    UserService(repository, guard=database_guard())

- ``read(cache_key, call) -> (value, fresh)``: ``call`` runs through the ``database``
  breaker and every successful result is remembered per key (a user id, a list page).
  When the breaker is open, or the read fails with a counted (system) error, the
  remembered value is returned with ``fresh=False`` (the service counts it as not fresh
  and the response says ``X-Data-Stale: true``). With nothing remembered the read raises
  ``ServiceUnavailable`` (503, Retry-After = time until the breaker may probe).
- ``write(call)``: through the breaker; when open it raises ``ServiceUnavailable`` without
  calling, so nothing is written. A DynamoDB write (single item or transaction) is
  applied entirely or not at all, so nothing is half-written.
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
from chalicelib.settings import get_settings, settings_scoped

T = TypeVar("T")


class LastKnownGood:
    """In-process LRU of the last value read per key, with when it was read."""

    def __init__(self, max_entries: Optional[int] = None, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = get_settings().stale_cache_entries if max_entries is None else max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def recall(self, key: str) -> Optional[tuple[float, Any]]:
        """``(age_seconds, value)`` or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return self._clock() - entry[0], entry[1]

    def forget(self, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        prefixes = tuple(prefixes)
        with self._lock:
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
    def __init__(self, breaker: Optional[FleetCircuitBreaker] = None, cache: Optional[LastKnownGood] = None,
                 breaker_name: str = "database") -> None:
        self._breaker = breaker
        self._breaker_name = breaker_name
        self.cache = cache if cache is not None else LastKnownGood()
        self.stale_reads = 0

    @property
    def breaker(self) -> FleetCircuitBreaker:
        if self._breaker is None:
            from chalicelib.resilience.registry import get

            self._breaker = get(self._breaker_name)
        return self._breaker

    def read(self, cache_key: str, call: Callable[[], T]) -> tuple[T, bool]:
        try:
            value = self.breaker.call(call)
        except BreakerOpenError as exc:
            return self._stale(cache_key, exc, exc.retry_after_seconds)
        except Exception as exc:
            if not self.breaker.is_system_error(exc):
                raise
            return self._stale(cache_key, exc, None)
        self.cache.remember(cache_key, value)
        return value, True

    def _stale(self, cache_key: str, cause: Exception, retry_after: Optional[int]) -> tuple[Any, bool]:
        remembered = self.cache.recall(cache_key)
        if remembered is None:
            if retry_after is None:
                raise cause  # the failed call's own error: the service maps it
            raise ServiceUnavailable("User store is unavailable and this data is not cached; retry later",
                                     retry_after_seconds=retry_after) from None
        self.stale_reads += 1
        return remembered[1], False

    def write(self, call: Callable[[], T]) -> T:
        try:
            return self.breaker.call(call)
        except BreakerOpenError as exc:
            raise ServiceUnavailable("User store is unavailable; nothing was written, retry later",
                                     retry_after_seconds=exc.retry_after_seconds) from None


@settings_scoped
def database_guard() -> DatabaseGuard:
    """The process-wide guard of the ``database`` breaker."""
    return DatabaseGuard()


reset_database_guard = database_guard.reset
