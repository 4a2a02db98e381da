"""Hands the webhook outbox the events the PostgreSQL users store kept with their users.

The ECS variant's store writes a new user and its user.created event in one statement
(``event_outbox``); the request then delivers the event, or puts it in the webhook outbox
(DynamoDB), and deletes the stored copy (``WebhookDelivery``, kept). When its process dies in
between, the copy stays: each container worker runs this relay, which puts such copies in the
outbox once they are ``settled_seconds`` old, for the drainer. Putting an event in the outbox is
idempotent (its id), so a copy handed on twice is still one event; receivers deduplicate a
delivery made twice.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from chalicelib.webhooks.events import WebhookEvent


class StoredEventRelay:
    def __init__(self, store: Any, outbox: Any, logger: Any, *, settled_seconds: float = 60.0,
                 lease_seconds: float = 60.0, batch_size: int = 25) -> None:
        """``store``: has ``relay_events`` (``PostgresUserRepository``); ``outbox``: has ``enqueue``."""
        self._store = store
        self._outbox = outbox
        self._log = logger
        self.settled_seconds = settled_seconds
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size

    def _hand_on(self, event_id: str, event_type: str, body: str) -> None:
        self._outbox.enqueue(WebhookEvent(event_id, event_type, body))

    def relay_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Hand on the settled copies, a batch at a time, until none is left; returns how many."""
        total = 0
        while not stopping():
            handed = self._store.relay_events(self._hand_on, settled_seconds=self.settled_seconds,
                                              lease_seconds=self.lease_seconds, limit=self.batch_size)
            total += handed
            if handed < self.batch_size:
                break
        if total:
            self._log.warning("Webhook events handed to the outbox by the relay (their request did not finish)",
                              extra={"events": total})
        return total


class RelayLoop:
    """Runs ``relay()`` every ``interval_seconds`` on a daemon thread until ``stop``. ``relay`` gets the
    relay each round (building it may fail while the database or its secret is unreachable: the
    worker still boots and serves, and the round is tried again)."""

    def __init__(self, relay: Callable[[], StoredEventRelay], logger: Any, interval_seconds: float = 15.0) -> None:
        self._relay = relay
        self._log = logger
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_seconds):
            try:
                self._relay().relay_once(self._stopping.is_set)
            except Exception as exc:  # the store or the outbox is down: the copies stay for the next round
                self._log.warning("Webhook event relay failed; retrying next round", extra={
                    "error": type(exc).__name__, "retry_in_seconds": self.interval_seconds})

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhook-event-relay", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_seconds)
