"""Keeps a long-running server's long-lived objects out of Python's full garbage collections.

A full collection scans every object the process tracks. The local stack's app process holds
about 320,000 that live as long as it does (each AWS service model botocore loads, for every
function the stack hosts), and under load a full collection came every few seconds, each
~200 ms with every request in flight stalled: at 8 clients the list's maximum latency was
300-470 ms, on a heap where a request makes a few thousand short-lived objects. A container
worker serving many threads has the same shape, smaller.

So what survives a full collection is frozen (``gc.freeze``: never scanned again). A round
comes whenever the long-lived objects not yet frozen have grown past a bound (at start, and
when a route or function builds its clients on first use), and every few minutes a round
unfreezes first, so that an object frozen earlier that has since become cyclic garbage is
collected, never kept for good. No library does this; it is three calls of ``gc``.

Not for Lambda: an execution environment serves one request at a time, so no other request waits
on its collections, and its heap is a fraction of these (~80,000 objects for the app with its
DynamoDB and CloudWatch clients: a full collection took ~25 ms here).
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Callable, Optional

log = logging.getLogger(__name__)

CHECK_SECONDS = 10.0
# Long-lived objects not yet frozen that start a round: a service model botocore loads is ~40,000.
GROWTH_OBJECTS = 20_000
FULL_ROUND_SECONDS = 600.0


def freeze_survivors(unfreeze_first: bool = False) -> int:
    """One round: every object that survives a full collection is frozen; returns how many are.

    ``unfreeze_first``: the collection also scans what earlier rounds froze (a longer pause)."""
    if unfreeze_first:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def long_lived_unfrozen() -> int:
    """Objects in the oldest generation: what a full collection would scan besides the young."""
    return len(gc.get_objects(generation=2))


class HeapFreezer:
    """Checks every ``check_seconds`` on a thread of its own whether a round is due, and runs it."""

    def __init__(self, check_seconds: float = CHECK_SECONDS, growth_objects: int = GROWTH_OBJECTS,
                 full_round_seconds: float = FULL_ROUND_SECONDS,
                 long_lived: Callable[[], int] = long_lived_unfrozen,
                 freeze: Callable[[bool], int] = freeze_survivors,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._check_seconds = check_seconds
        self._growth_objects = growth_objects
        self._full_round_seconds = full_round_seconds
        self._long_lived = long_lived
        self._freeze = freeze
        self._clock = clock
        self._last_full_round = clock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heap-freezer", daemon=True)
        self.rounds = 0

    def start(self) -> "HeapFreezer":
        self._thread.start()
        return self

    def stop(self) -> None:
        """No more rounds, and nothing left frozen: the process may go on without them."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self.rounds:
            gc.unfreeze()

    def due(self) -> Optional[str]:
        """The round due now: "full" (unfreeze first), "growth", or None."""
        if self._clock() - self._last_full_round >= self._full_round_seconds:
            return "full"
        if self._long_lived() >= self._growth_objects:
            return "growth"
        return None

    def run_round_if_due(self) -> Optional[str]:
        kind = self.due()
        if kind is None:
            return None
        started = self._clock()
        frozen = self._freeze(kind == "full")
        if kind == "full":
            self._last_full_round = started
        self.rounds += 1
        log.debug("%s round: %d objects frozen, %.0f ms", kind, frozen, (self._clock() - started) * 1000)
        return kind

    def _run(self) -> None:
        while not self._stopped.wait(self._check_seconds):
            self.run_round_if_due()
