"""One thread per process that runs each registered expiry once its deadline passes, unless cancelled.

``deadline = watch().expire_in(seconds, expire)``; ``watch().cancel(deadline)`` before then. The PostgreSQL
store bounds every statement this way (``postgres_connection.AnswerDeadline``).

Written by hand: ``threading.Timer`` starts a thread per deadline (~110 us of CPU for each start and
cancel here, for every statement of every request), and the standard library's ``sched`` runs its
events in the caller's thread. Nearly every deadline is cancelled within milliseconds, so a cancel
drops cancelled deadlines from the front of the heap at once: the thread then sleeps until the
oldest one still pending, about once per bound under steady traffic.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import threading
import time
from typing import Callable, Optional

log = logging.getLogger(__name__)


class Deadline:
    __slots__ = ("due_at", "order", "expire")

    def __init__(self, due_at: float, order: int, expire: Optional[Callable[[], None]]) -> None:
        self.due_at = due_at
        self.order = order
        self.expire = expire  # None once cancelled or run

    def __lt__(self, other: "Deadline") -> bool:
        return (self.due_at, self.order) < (other.due_at, other.order)


class DeadlineWatch:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._due: list[Deadline] = []
        self._changed = threading.Condition()
        self._order = itertools.count()
        self._thread: Optional[threading.Thread] = None
        # When the sleeping thread wakes by itself (inf: not until notified; -inf: it is not asleep
        # and looks at the heap before it sleeps). A later deadline needs no notify, so a steady
        # stream of statements with one bound wakes the thread about once per bound, not per statement.
        self._wakes_at = -math.inf

    def expire_in(self, seconds: float, expire: Callable[[], None]) -> Deadline:
        deadline = Deadline(self._clock() + seconds, next(self._order), expire)
        with self._changed:
            heapq.heappush(self._due, deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadline-watch", daemon=True)
                self._thread.start()
            if deadline.due_at < self._wakes_at:
                self._changed.notify()
        return deadline

    def cancel(self, deadline: Deadline) -> None:
        with self._changed:
            deadline.expire = None
            self._drop_cancelled()

    def pending(self) -> int:
        with self._changed:
            return sum(1 for deadline in self._due if deadline.expire is not None)

    def _drop_cancelled(self) -> None:
        while self._due and self._due[0].expire is None:
            heapq.heappop(self._due)

    def _next_due(self) -> Callable[[], None]:
        with self._changed:
            while True:
                self._drop_cancelled()
                if not self._due:
                    self._sleep(math.inf)
                    continue
                wait = self._due[0].due_at - self._clock()
                if wait > 0:
                    self._sleep(self._due[0].due_at, wait)
                    continue
                deadline = heapq.heappop(self._due)
                expire, deadline.expire = deadline.expire, None
                if expire is not None:
                    return expire

    def _sleep(self, until: float, seconds: Optional[float] = None) -> None:
        self._wakes_at = until
        try:
            self._changed.wait(seconds)
        finally:
            self._wakes_at = -math.inf

    def _run(self) -> None:
        while True:
            expire = self._next_due()
            try:
                expire()
            except Exception:  # one failed expiry must not stop the watch that bounds every other call
                log.warning("a deadline's expiry failed", exc_info=True)


_watch = DeadlineWatch()


def watch() -> DeadlineWatch:
    """This process's watch (a forked child, a gunicorn worker, gets its own: threads do not survive fork)."""
    return _watch


def _new_watch_after_fork() -> None:
    global _watch
    _watch = DeadlineWatch()


os.register_at_fork(after_in_child=_new_watch_after_fork)
