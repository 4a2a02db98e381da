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

Across the fleet, with a ``ledger`` (``write_ledger``): before a write is attempted, the
names it may change (its ``keys`` and ``prefixes``) are announced with the time; when the
ledger cannot take the announcement the write is refused (503, nothing written). Before
serving a remembered value read at ``t``, the ledger is asked about the key and every
``cache_prefixes`` entry it starts with; it is served only if no announcement is at or after
``t - announcement_margin_seconds`` (the write's longest duration, ``write_within_seconds``,
plus ``WRITE_SETTLE_SECONDS`` plus ``CLOCK_SKEW_SECONDS``), else it counts as not cached. A
write that outlasts ``write_within_seconds`` is announced again when it returns, before it is
acknowledged. An unreadable ledger serves nothing stale (503). So no process serves a value an
acknowledged write changed; ``STALE_MAX_AGE_SECONDS`` (``max_stale_seconds``) only bounds
how old a served value may be.
- Client-caused errors (``EmailTaken``, ``UserMissing``, failed conditions) and the
  repository's own ``StorageUnavailable`` on a failed call pass through unchanged: the
  service already maps them to 409/404/503.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Callable, Iterable, Optional, TypeVar

from chalicelib.http.errors import ServiceUnavailable
from chalicelib.resilience.breaker import BreakerOpenError, FleetCircuitBreaker
from chalicelib.resilience.write_ledger import WriteLedger, WriteLedgerUnavailable

T = TypeVar("T")


WRITE_SETTLE_SECONDS = 5.0
# A write announces its names this far ahead, covering this process's next writes to them.
ANNOUNCE_AHEAD_SECONDS = 2.0
ANNOUNCED_NAMES_KEPT = 2000
CLOCK_SKEW_SECONDS = 1.0  # how far two hosts' wall clocks may disagree (NTP keeps them far closer)


class LastKnownGood:
    """In-process LRU of the last value read per key, with when it was read, that never takes
    back what a write made obsolete (see the module docstring)."""

    def __init__(self, max_entries: int = 2000, clock: Callable[[], float] = time.time,
                 settle_seconds: float = WRITE_SETTLE_SECONDS) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self.settle_seconds = settle_seconds
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._writes = 0
        # Until when each key and each prefix that a recent write named is settling (looked up per
        # read, not scanned: a busy process has hundreds of writes settling), and those writes'
        # keys in the order they settle, to drop them then.
        self._settling_keys: dict[str, float] = {}
        self._settling_prefixes: dict[str, float] = {}
        self._settling_order: deque[tuple[float, frozenset[str]]] = deque()

    @property
    def writes(self) -> int:
        """How many writes have finished: pass it back to ``remember`` as ``read_started_after``."""
        with self._lock:
            return self._writes

    def _settling_covers(self, key: str, now: float) -> bool:
        while self._settling_order and self._settling_order[0][0] <= now:
            for settled in self._settling_order.popleft()[1]:
                if self._settling_keys.get(settled, math.inf) <= now:
                    del self._settling_keys[settled]
        return self._settling_keys.get(key, -math.inf) > now or any(
            until > now and key.startswith(prefix) for prefix, until in self._settling_prefixes.items())

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    def remember(self, key: str, value: Any, *, read_started_after: Optional[int] = None,
                 read_started_at: Optional[float] = None) -> bool:
        """Keep ``value`` unless a write finished since the read began (``read_started_after``
        is ``writes`` as it was then) or a recent write to ``key`` may not be visible yet.
        It counts as read at ``read_started_at`` (default: now)."""
        with self._lock:
            now = self._clock()
            if read_started_after is not None and read_started_after != self._writes:
                return False
            if self._settling_covers(key, now):
                return False
            self._entries[key] = (now if read_started_at is None else read_started_at, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return True

    def written(self, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        """A write that may have changed ``keys`` and keys under ``prefixes`` has finished."""
        keys, prefixes = frozenset(keys), tuple(prefixes)
        with self._lock:
            self._writes += 1
            until = self._clock() + self.settle_seconds
            for key in keys:
                self._settling_keys[key] = max(until, self._settling_keys.get(key, until))
            for prefix in prefixes:
                self._settling_prefixes[prefix] = max(until, self._settling_prefixes.get(prefix, until))
            self._settling_order.append((until, keys))
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
    """``ledger`` (``write_ledger.WriteLedger``) makes the guarantee fleet-wide: see the module docstring.
    ``cache_prefixes`` are every prefix a write may name (``write(prefixes=)``); a read's key is
    checked under itself and each of them it starts with. ``write_within_seconds`` bounds how long
    after its announcement a write may still be applied (the store's call timeouts)."""

    def __init__(self, breaker: FleetCircuitBreaker, cache: LastKnownGood, max_stale_seconds: float = 300.0, *,
                 ledger: Optional[WriteLedger] = None, cache_prefixes: Iterable[str] = (),
                 write_within_seconds: float = 10.0, announce_ahead_seconds: float = ANNOUNCE_AHEAD_SECONDS) -> None:
        self.breaker = breaker
        self.cache = cache
        self.max_stale_seconds = max_stale_seconds
        self.ledger = ledger
        self.cache_prefixes = tuple(cache_prefixes)
        self.write_within_seconds = write_within_seconds
        # A write announced at ``at`` is applied by ``at + write_within_seconds``, visible to every
        # read WRITE_SETTLE_SECONDS later; clocks of two hosts may disagree by CLOCK_SKEW_SECONDS.
        self.announcement_margin_seconds = write_within_seconds + cache.settle_seconds + CLOCK_SKEW_SECONDS
        self.announce_ahead_seconds = announce_ahead_seconds
        # name -> the time this process last announced for it (its writes starting before it are covered).
        self._announced: OrderedDict[str, float] = OrderedDict()
        self._announced_lock = threading.Lock()
        self.stale_reads = 0
        self.ledger_refusals = 0  # stale answers withheld because the ledger was unreadable

    def ledger_names(self, cache_key: str) -> list[str]:
        """The ledger names a write that changed ``cache_key`` announced: itself and its prefixes."""
        return [cache_key] + [prefix for prefix in self.cache_prefixes if cache_key.startswith(prefix)]

    def read(self, cache_key: str, call: Callable[[], T]) -> tuple[T, bool]:
        writes_before = self.cache.writes
        started_at = self.cache.clock()
        try:
            value = self.breaker.call(call)
        except BreakerOpenError as exc:
            return self._stale(cache_key, exc, exc.retry_after_seconds)
        except Exception as exc:
            if not self.breaker.is_system_error(exc):
                raise
            return self._stale(cache_key, exc, None)
        self.cache.remember(cache_key, value, read_started_after=writes_before, read_started_at=started_at)
        return value, True

    def _stale(self, cache_key: str, cause: Exception, retry_after: Optional[int]) -> tuple[Any, bool]:
        remembered = self.cache.recall(cache_key)
        if remembered is not None and remembered[0] > self.max_stale_seconds:
            remembered = None
        withheld: Optional[WriteLedgerUnavailable] = None
        if remembered is not None:
            try:
                servable = self._no_write_since(cache_key, self.cache.clock() - remembered[0])
            except WriteLedgerUnavailable as exc:
                # Unknown whether another process wrote it since: not served, as if never read.
                self.ledger_refusals += 1
                withheld, servable = exc, False
            if not servable:
                remembered = None
        if remembered is None:
            if retry_after is None:
                raise cause  # the failed call's own error: the service maps it
            if withheld is not None:  # chained, so the request's log line says why nothing was served
                raise ServiceUnavailable("User store is unavailable and the write ledger cannot be read, so no "
                                         "remembered data is served; retry later",
                                         retry_after_seconds=retry_after) from withheld
            raise ServiceUnavailable("User store is unavailable and this data is not cached; retry later",
                                     retry_after_seconds=retry_after) from None
        self.stale_reads += 1
        return remembered[1], False

    def _no_write_since(self, cache_key: str, read_at: float) -> bool:
        """No process announced a write that may have changed ``cache_key`` unseen by a read at ``read_at``."""
        if self.ledger is None:
            return True
        announced = self.ledger.latest(self.ledger_names(cache_key))  # WriteLedgerUnavailable: see _stale
        return announced is None or announced < read_at - self.announcement_margin_seconds

    def write(self, call: Callable[[], T], *, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> T:
        keys, prefixes = tuple(keys), tuple(prefixes)
        unknown = [prefix for prefix in prefixes if prefix not in self.cache_prefixes]
        if self.ledger is not None and unknown:
            raise ValueError(f"prefixes {unknown} are not among the guard's cache_prefixes")
        ran = False

        def running() -> T:
            nonlocal ran
            ran = True
            return call()

        try:
            # Refused by an open breaker before announcing: retried writes during an outage would
            # otherwise make every remembered page unservable.
            self._refuse_while_open()
            announced_at = self.cache.clock()
            self._announce(keys + prefixes, announced_at)
            result = self.breaker.call(running)
        except BreakerOpenError as exc:
            raise ServiceUnavailable("User store is unavailable; nothing was written, retry later",
                                     retry_after_seconds=exc.retry_after_seconds) from None
        finally:
            # Also after a failure: a timed-out write may have been applied. A write refused before
            # its call (an open breaker, an unwritable ledger) changed nothing: what is remembered
            # stays servable (forgetting it made every stale read of it a 503 for the outage).
            if ran:
                self.cache.written(keys, prefixes)
        finished_at = self.cache.clock()
        if finished_at - announced_at > self.write_within_seconds:
            # Applied later than the announcement covers: announce its end before acknowledging it.
            self._announce(keys + prefixes, finished_at, applied=True)
        return result

    def _refuse_while_open(self) -> None:
        retry_after = self.breaker.refusing_for()
        if retry_after is not None:
            raise BreakerOpenError(self.breaker.name, retry_after)

    def _announce(self, names: tuple[str, ...], now: float, applied: bool = False) -> None:
        """Announce ``names`` for writes starting up to ``announce_ahead_seconds`` from ``now``: a busy
        name (every write names the ``list:`` prefix) then costs one UpdateItem per period, not per write."""
        if self.ledger is None:
            return
        with self._announced_lock:
            due = tuple(name for name in names if self._announced.get(name, float("-inf")) < now)
        if not due:
            return
        at = now + self.announce_ahead_seconds
        try:
            self.ledger.announce(due, at)
        except WriteLedgerUnavailable:
            if applied:
                raise ServiceUnavailable("User store write may have been applied but could not be "
                                         "announced; read it back before retrying") from None
            raise ServiceUnavailable("Write ledger is unavailable; nothing was written, retry later") from None
        with self._announced_lock:
            for name in due:
                self._announced[name] = at
                self._announced.move_to_end(name)
            while len(self._announced) > ANNOUNCED_NAMES_KEPT:
                self._announced.popitem(last=False)
