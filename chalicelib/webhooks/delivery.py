"""At-least-once delivery of webhook events: stored first, then a direct attempt, then the drainer.

``WebhookDelivery.notify_user_created(user_dict)`` runs after a user is created
(``WebhookUserEvents``, the users service's events port). The event is durable before it is
sent, in one of three ways:

- **staged** (users in DynamoDB): the users store wrote the outbox entry, as attempt 1, in the
  user's own transaction (``UserCreatedStaging``); the request makes that attempt and marks the
  entry delivered, or leaves it pending for the drainer;
- **kept** (users in PostgreSQL): the users store keeps the event with the user (``event_outbox``)
  until ``forget_kept`` deletes it. The request sends it first: delivered, nothing more is stored;
  not delivered, it goes to the outbox for the drainer. Either way the kept copy is then deleted.
  Should the request die before that, the store's relay (``chalicelib.webhooks.relay``) puts the
  copy in the outbox;
- otherwise (a store that keeps no event, as the tests' in-memory one) the request puts it in the
  outbox, as attempt 1, before the attempt.

The direct attempt goes through the ``webhook`` breaker with the short sender timeout; the
``outbox-drainer`` schedule retries what is pending with exponential backoff until delivered or
``OUTBOX_MAX_ATTEMPTS`` is reached (then ``dead``, logged and counted).

It never raises and never waits longer than one sender timeout: the user's request does
not fail because of the webhook. Receivers deduplicate on the ``Idempotency-Key`` header.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Optional

from chalicelib.resilience.breaker import BreakerOpenError
from chalicelib.resilience.listeners import MetricCounter
from chalicelib.webhooks.events import WebhookEvent, new_user_event, user_created_event
from chalicelib.webhooks.outbox import DEAD, PENDING, Outbox, OutboxEntry, OutboxStore
from chalicelib.webhooks.sender import WebhookSender


class WebhookDelivery:
    def __init__(self, outbox: OutboxStore, sender: WebhookSender, breaker: Any, counters: MetricCounter, logger: Any,
                 *, batch_size: int = 50, clock: Callable[[], float] = time.time,
                 staged_by_store: bool = False, forget_kept: Optional[Callable[[str], None]] = None) -> None:
        """``staged_by_store``: the users store writes each user.created outbox entry itself (staged,
        above); ``forget_kept(event_id)``: the users store keeps each event until this deletes it (kept)."""
        self.outbox = outbox
        self._staged_by_store = staged_by_store
        self._forget_kept = forget_kept
        self.sender = sender
        self.breaker = breaker
        self._counters = counters
        self._log = logger
        self.batch_size = batch_size
        self._clock = clock

    def _count(self, name: str, value: float = 1) -> None:
        try:
            self._counters.count(name, {"webhook": "user.created"}, value)
        except Exception:  # metrics are best effort here: the delivery path must not fail on them
            self._log.exception("Webhook metric not emitted", extra={"metric": name})

    # ------------------------------------------------------------------ producing
    def notify_user_created(self, user: Mapping[str, Any]) -> Optional[str]:
        """Queue and try to deliver ``user.created``; returns the event id, None when disabled. Never raises."""
        try:
            if not self.sender.enabled:
                return None
            event = user_created_event(user)
        except Exception:  # a misconfiguration must not fail the user's create
            self._log.exception("Webhook not prepared", extra={"user_id": user.get("id")})
            return None
        if self._staged_by_store:
            self._attempt(OutboxEntry(event=event, attempts=1, next_attempt_at=None, status=PENDING))
        elif self._forget_kept is not None:
            self._deliver_kept(event)
        else:
            self._queue_and_attempt(event)
        return event.event_id

    def _deliver_kept(self, event: WebhookEvent) -> None:
        problem = self._send(event, 1)
        if problem is None:
            self._count("webhook_deliveries")
        else:
            try:
                entry = self.outbox.enqueue(event, claimed=True)
            except Exception as exc:  # the store keeps its copy: its relay puts it in the outbox later
                self._log.warning("Webhook event not delivered and not queued; the users store keeps it",
                                  extra={"event_id": event.event_id, "error": type(exc).__name__})
                return
            if entry is not None:
                self._record(entry, problem)
        try:
            self._forget_kept(event.event_id)
        except Exception as exc:  # the copy stays: the relay queues it, and queuing one event twice is one entry
            self._log.warning("Kept copy of a handled webhook event not deleted",
                              extra={"event_id": event.event_id, "error": type(exc).__name__})

    def _queue_and_attempt(self, event: WebhookEvent) -> None:
        try:
            entry = self.outbox.enqueue(event, claimed=True)
        except Exception as exc:  # outbox unreachable: still try the direct send below
            self._log.error("Webhook outbox write failed; trying a direct send only",
                            extra={"event_id": event.event_id, "error": type(exc).__name__})
            self._count("webhook_outbox_write_failures")
            if self._send(event, 1) is None:
                self._log.error("Webhook event lost: not stored and not delivered", extra={"event_id": event.event_id})
                self._count("webhook_events_lost")
            return
        if entry is not None:  # None: queued by an earlier call, which the drainer owns
            self._attempt(entry)

    # ------------------------------------------------------------------ sending
    def _send(self, event: WebhookEvent, attempt: int) -> Optional[str]:
        """None when delivered; otherwise why not (``"open"`` when the breaker refused)."""
        try:
            self.breaker.call(self.sender.send, event, attempt)
        except BreakerOpenError:
            return "open"
        except Exception as exc:  # any send failure leaves the event pending for the drainer
            return str(exc) or type(exc).__name__
        return None

    def _attempt(self, entry: OutboxEntry) -> str:
        """One delivery attempt of a claimed entry; returns delivered / pending / dead / refused."""
        return self._record(entry, self._send(entry.event, entry.attempts))

    def _record(self, entry: OutboxEntry, problem: Optional[str]) -> str:
        """Store the outcome of ``entry``'s attempt (``problem``: as ``_send`` answers)."""
        try:
            if problem is None:
                self.outbox.mark_delivered(entry.event.event_id)
                self._count("webhook_deliveries")
                return "delivered"
            if problem == "open":
                self.outbox.release(entry, self._retry_after())
                return "refused"
            status = self.outbox.record_failure(entry, problem)
        except Exception as exc:  # the outbox write failing leaves the item pending: retried, never lost
            self._log.warning("Webhook outbox update failed", extra={
                "event_id": entry.event.event_id, "error": type(exc).__name__})
            return "pending"
        self._count("webhook_delivery_failures")
        if status == DEAD:
            self._log.error("Webhook event given up after max attempts", extra={
                "event_id": entry.event.event_id, "attempts": entry.attempts, "last_error": problem})
            self._count("webhook_events_dead")
        return status

    def _retry_after(self) -> float:
        left = self.breaker.seconds_until_half_open()
        return max(1.0, left if left is not None else float(self.breaker.reset_timeout))

    # ------------------------------------------------------------------ draining
    def drain(self, *, all_pending: bool = False, limit: Optional[int] = None,
              time_left: Callable[[], float] = lambda: float("inf")) -> dict[str, int]:
        """Attempt every due entry (``all_pending``: every pending one) until done, out of time or refused."""
        counts = {"due": 0, "delivered": 0, "pending": 0, "dead": 0, "refused": 0, "skipped": 0}
        if not self.sender.enabled:
            return counts
        entries = self.outbox.due(limit or self.batch_size, all_pending=all_pending)
        counts["due"] = len(entries)
        for entry in entries:
            if time_left() < self.sender.timeout_seconds * 2 + 1:
                break
            claimed = self.outbox.claim(entry)
            if claimed is None:
                counts["skipped"] += 1
                continue
            outcome = self._attempt(claimed)
            counts[outcome] += 1
            if outcome == "refused":
                break  # the breaker is open: the rest would be refused too
        return counts



class UserCreatedStaging:
    """What the DynamoDB users store writes in a new user's transaction: its user.created outbox entry,
    claimed for the direct attempt the request makes after the write (``staged_by_store``)."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def stage(self, transaction: Any, user: Any) -> None:
        self._outbox.stage(transaction, new_user_event(user), claimed=True)


class WebhookUserEvents:
    """The users service's ``UserEvents`` port: queue ``user.created`` and try it once. Never raises."""

    def __init__(self, delivery: WebhookDelivery, logger: Any) -> None:
        self._delivery = delivery
        self._logger = logger

    def user_created(self, user: Any) -> None:
        body = user.to_json() if hasattr(user, "to_json") else dict(user)
        try:
            self._delivery.notify_user_created(body)
        except Exception:  # the promise to callers: a webhook problem never fails their request
            self._logger.exception("Webhook notification failed unexpectedly", extra={"user_id": body.get("id")})
