"""Webhook test doubles: a fake HTTP pool and an in-memory outbox."""

SIGNING_KEY = "test-signing-key"


def user_created(user_id: str):
    """The user.created event of a user with only an id and a creation time."""
    from chalicelib.webhooks.events import user_created_event

    return user_created_event({"id": user_id, "created_at": "2027-01-15T08:00:00.000000Z"})


class FakeResponse:
    def __init__(self, status: int) -> None:
        self.status = status


class FakeHttp:
    """Stands in for urllib3.PoolManager: records requests, answers ``status`` (or raises ``error``)."""

    def __init__(self) -> None:
        self.requests = []
        self.status = 200
        self.error = None

    def request(self, method, url, body=None, headers=None, redirect=True):
        self.requests.append({"method": method, "url": url, "body": body, "headers": headers})
        if self.error is not None:
            raise self.error
        return FakeResponse(self.status)

    def down(self):
        import urllib3

        self.error = urllib3.exceptions.ConnectTimeoutError(None, "timed out")

    def up(self):
        self.error = None
        self.status = 200


class InMemoryOutbox:
    """The webhook outbox port (``chalicelib.webhooks.outbox.OutboxStore``) in memory, held to the
    same contract as the DynamoDB outbox (tests/unit/webhooks/test_outbox_contract.py)."""

    def __init__(self, backoff=None, clock=None, max_attempts: int = 15) -> None:
        import threading
        import time

        from chalicelib.webhooks.outbox import Backoff

        self.backoff = backoff or Backoff()
        self._clock = clock or time.time
        self.max_attempts = max_attempts
        self._entries = {}
        self._lock = threading.Lock()

    def enqueue(self, event, *, claimed=False):
        from chalicelib.webhooks.outbox import PENDING, OutboxEntry

        with self._lock:
            if event.event_id in self._entries:
                return None
            now = self._clock()
            attempts = 1 if claimed else 0
            entry = OutboxEntry(event=event, attempts=attempts,
                                next_attempt_at=now + self.backoff.delay(1) if claimed else now, status=PENDING)
            self._entries[event.event_id] = entry
            return entry

    def get(self, event_id):
        with self._lock:
            return self._entries.get(event_id)

    def due(self, limit, *, all_pending=False):
        from chalicelib.webhooks.outbox import PENDING

        now = self._clock()
        with self._lock:
            pending = sorted((entry for entry in self._entries.values() if entry.status == PENDING
                              and (all_pending or entry.next_attempt_at <= now)), key=lambda e: e.next_attempt_at)
        return pending[:limit]

    def claim(self, entry):
        from dataclasses import replace

        from chalicelib.webhooks.outbox import PENDING

        with self._lock:
            current = self._entries.get(entry.event.event_id)
            if current is None or current.status != PENDING or current.next_attempt_at != entry.next_attempt_at:
                return None
            attempt = entry.attempts + 1
            claimed = replace(current, attempts=attempt, next_attempt_at=self._clock() + self.backoff.delay(attempt))
            self._entries[entry.event.event_id] = claimed
            return claimed

    def release(self, entry, retry_in_seconds):
        from dataclasses import replace

        from chalicelib.webhooks.outbox import PENDING

        with self._lock:
            current = self._entries[entry.event.event_id]
            if current.status == PENDING:
                self._entries[entry.event.event_id] = replace(
                    current, attempts=max(0, entry.attempts - 1), next_attempt_at=self._clock() + retry_in_seconds)

    def mark_delivered(self, event_id):
        from dataclasses import replace

        from chalicelib.webhooks.outbox import DELIVERED

        with self._lock:
            self._entries[event_id] = replace(self._entries[event_id], status=DELIVERED, last_error=None)

    def record_failure(self, entry, error):
        from dataclasses import replace

        from chalicelib.webhooks.outbox import DEAD, PENDING

        with self._lock:
            current = self._entries[entry.event.event_id]
            if current.status != PENDING:
                raise RuntimeError(f"{entry.event.event_id} is {current.status}, not pending")
            status = DEAD if entry.attempts >= self.max_attempts else PENDING
            self._entries[entry.event.event_id] = replace(current, status=status, last_error=error[:500])
            return status
