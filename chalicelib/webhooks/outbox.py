"""The durable outbox of webhook events (DynamoDB through pynamodb).

Pending items carry ``pending_shard = "pending"`` and ``next_attempt_at``; the sparse
``by_due`` index on those two attributes lists exactly the items due for delivery.
Delivered and dead items drop ``pending_shard`` (leaving the index) and expire by TTL.
Every state change is a conditional write, so two drainers never both claim one item.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

from chalicelib.dynamodb import is_conditional_failure, sorted_index, table_meta
from chalicelib.webhooks.events import WebhookEvent

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
KEEP_FINISHED_SECONDS = 7 * 24 * 3600


def outbox_model(table_name: str, region: str) -> Any:
    """The pynamodb model of the outbox table (``chalicelib.wiring`` builds it once per process)."""
    # pynamodb.models imports botocore (~100 ms): only paid when a webhook is sent or drained.
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class OutboxItem(Model):
        Meta = table_meta(table_name, region)

        event_id = UnicodeAttribute(hash_key=True)
        event_type = UnicodeAttribute()
        body = UnicodeAttribute()
        status = UnicodeAttribute()
        pending_shard = UnicodeAttribute(null=True)
        next_attempt_at = NumberAttribute()
        attempts = NumberAttribute(default=0)
        created_at = NumberAttribute()
        delivered_at = NumberAttribute(null=True)
        last_error = UnicodeAttribute(null=True)
        expires_at = NumberAttribute(null=True)
        by_due = sorted_index("by_due", "pending_shard", "next_attempt_at", NumberAttribute)

    return OutboxItem


@dataclass(frozen=True)
class OutboxEntry:
    event: WebhookEvent
    attempts: int
    next_attempt_at: Optional[float]  # None: as staged in another write, not read back (never claimed by it)
    status: str
    last_error: Optional[str] = None


class Backoff:
    """Exponential backoff with jitter: ``base * 2^(attempt-1)``, capped, times a factor in [0.5, 1]."""

    def __init__(self, base_seconds: float = 30, max_seconds: float = 3600,
                 rand: Callable[[], float] = random.random) -> None:
        self.base = base_seconds
        self.max = max_seconds
        self._rand = rand

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max, self.base * 2 ** max(0, attempt - 1))
        return ceiling * (0.5 + 0.5 * self._rand())


class OutboxStore(Protocol):
    """The outbox port the delivery works through (contract: tests/unit/webhooks/test_outbox_contract.py)."""

    def enqueue(self, event: WebhookEvent, *, claimed: bool = False) -> Optional[OutboxEntry]: ...

    def get(self, event_id: str) -> Optional[OutboxEntry]: ...

    def due(self, limit: int, *, all_pending: bool = False) -> list[OutboxEntry]: ...

    def claim(self, entry: OutboxEntry) -> Optional[OutboxEntry]: ...

    def release(self, entry: OutboxEntry, retry_in_seconds: float) -> None: ...

    def mark_delivered(self, event_id: str) -> None: ...

    def record_failure(self, entry: OutboxEntry, error: str) -> str: ...


class Outbox:
    """The outbox in DynamoDB."""

    def __init__(self, model: Any, backoff: Optional[Backoff] = None,
                 clock: Callable[[], float] = time.time, max_attempts: int = 15,
                 keep_finished_seconds: float = KEEP_FINISHED_SECONDS) -> None:
        self.model = model
        self.backoff = backoff or Backoff()
        self._clock = clock
        self.max_attempts = max_attempts
        self.keep_finished_seconds = keep_finished_seconds

    def _entry(self, item: Any) -> OutboxEntry:
        return OutboxEntry(event=WebhookEvent(item.event_id, item.event_type, item.body),
                           attempts=int(item.attempts or 0), next_attempt_at=float(item.next_attempt_at),
                           status=item.status, last_error=item.last_error)

    def _pending(self, event: WebhookEvent, claimed: bool) -> tuple[Any, OutboxEntry]:
        now = self._clock()
        attempts = 1 if claimed else 0
        next_at = now + self.backoff.delay(1) if claimed else now
        item = self.model(event.event_id, event_type=event.event_type, body=event.body, status=PENDING,
                          pending_shard=PENDING, next_attempt_at=next_at, attempts=attempts, created_at=now)
        return item, OutboxEntry(event=event, attempts=attempts, next_attempt_at=next_at, status=PENDING)

    def enqueue(self, event: WebhookEvent, *, claimed: bool = False) -> Optional[OutboxEntry]:
        """Store ``event`` as pending; None if it was already stored (same idempotency key).

        ``claimed``: the caller makes the first attempt itself right away, so the entry is
        stored as attempt 1 and drainers leave it alone until that attempt's backoff ends.
        """
        from pynamodb.exceptions import PutError

        item, entry = self._pending(event, claimed)
        try:
            item.save(condition=self.model.event_id.does_not_exist())
        except PutError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return entry

    def stage(self, transaction: Any, event: WebhookEvent, *, claimed: bool = False) -> OutboxEntry:
        """Add ``event``, as ``enqueue`` stores it, to ``transaction`` (a pynamodb ``TransactWrite`` of
        another table's write): stored if and only if that write is."""
        item, entry = self._pending(event, claimed)
        transaction.save(item, condition=self.model.event_id.does_not_exist())
        return entry

    def get(self, event_id: str) -> Optional[OutboxEntry]:
        model = self.model
        try:
            return self._entry(model.get(event_id, consistent_read=True))
        except model.DoesNotExist:
            return None

    def due(self, limit: int, *, all_pending: bool = False) -> list[OutboxEntry]:
        model = self.model
        range_condition = None if all_pending else model.next_attempt_at <= self._clock()
        items = model.by_due.query(PENDING, range_condition, limit=limit)
        return [self._entry(item) for item in items]

    def claim(self, entry: OutboxEntry) -> Optional[OutboxEntry]:
        """Take ``entry`` for one attempt: attempts+1 and the next attempt pushed out by the backoff."""
        from pynamodb.exceptions import UpdateError

        model = self.model
        attempt = entry.attempts + 1
        next_at = self._clock() + self.backoff.delay(attempt)
        item = model(entry.event.event_id)
        try:
            item.update(actions=[model.attempts.set(attempt), model.next_attempt_at.set(next_at)],
                        condition=(model.status == PENDING) & (model.next_attempt_at == entry.next_attempt_at))
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return None  # another drainer (or the direct send) has it
            raise
        return self._entry(item)

    def release(self, entry: OutboxEntry, retry_in_seconds: float) -> None:
        """Give back a claimed entry that was not attempted (breaker open): the attempt does not count."""
        model = self.model
        model(entry.event.event_id).update(actions=[
            model.attempts.set(max(0, entry.attempts - 1)),
            model.next_attempt_at.set(self._clock() + retry_in_seconds)], condition=model.status == PENDING)

    def mark_delivered(self, event_id: str) -> None:
        model = self.model
        now = self._clock()
        model(event_id).update(actions=[
            model.status.set(DELIVERED), model.delivered_at.set(now), model.pending_shard.remove(),
            model.last_error.remove(), model.expires_at.set(int(now + self.keep_finished_seconds))],
            condition=model.event_id.exists())

    def record_failure(self, entry: OutboxEntry, error: str) -> str:
        """Note why ``entry``'s attempt failed; gives up (``dead``) after ``max_attempts``. Returns the status."""
        model = self.model
        actions = [model.last_error.set(error[:500])]
        status = PENDING
        if entry.attempts >= self.max_attempts:
            status = DEAD
            actions += [model.status.set(DEAD), model.pending_shard.remove(),
                        model.expires_at.set(int(self._clock() + self.keep_finished_seconds))]
        model(entry.event.event_id).update(actions=actions, condition=model.status == PENDING)
        return status
