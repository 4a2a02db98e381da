"""The local stack's webhook receiver: verifies signatures and keeps what arrived, in memory.

Only for seeing (and testing) the flow locally: ``devstack.local_routes`` registers it on the
local stack's app, never deployed. An outage switch makes it answer 503 so the outbox and
the ``webhook`` breaker can be watched at work.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any, Callable, Mapping

from chalicelib.http.errors import ApiError, ServiceUnavailable, Unauthorized
from chalicelib.webhooks.sender import IDEMPOTENCY_HEADER
from chalicelib.webhooks.signing import verify

MAX_KEPT = 1000
RECEIVER_PATH = "/_local/webhook-receiver"


class WebhookReceiver:
    def __init__(self, key_reader: Callable[[], str], clock: Callable[[], float] = time.time) -> None:
        self._key_reader = key_reader
        self._clock = clock
        self._lock = threading.Lock()
        self.deliveries: list[dict[str, Any]] = []
        self._kept_keys: Counter[str] = Counter()  # idempotency key -> deliveries of it kept: no scan per arrival
        self.outage = False

    def receive(self, headers: Mapping[str, str], raw_body: bytes) -> dict[str, Any]:
        if self.outage:
            raise ServiceUnavailable("Receiver outage switched on", retry_after_seconds=30)
        try:
            key = self._key_reader()
        except Exception as exc:  # no key, no verification: refuse retryably rather than 500
            raise ServiceUnavailable("Signing key cannot be read right now") from exc
        problem = verify(key, headers, raw_body, self._clock())
        if problem:
            raise Unauthorized(problem)
        try:
            payload = json.loads(raw_body)
        except ValueError:
            raise ApiError("Body is not JSON") from None
        key = headers.get(IDEMPOTENCY_HEADER.lower()) or headers.get(IDEMPOTENCY_HEADER)
        if not isinstance(payload, dict) or not key:
            raise ApiError(f"Expected a JSON object and an {IDEMPOTENCY_HEADER} header")
        with self._lock:
            duplicate = self._kept_keys[key] > 0
            self.deliveries.append({"idempotency_key": key, "type": payload.get("type"),
                                    "attempt": headers.get("x-webhook-attempt"), "received_at": self._clock(),
                                    "duplicate": duplicate, "event": payload})
            self._kept_keys[key] += 1
            for dropped in self.deliveries[:-MAX_KEPT]:
                self._kept_keys[dropped["idempotency_key"]] -= 1
                if not self._kept_keys[dropped["idempotency_key"]]:
                    del self._kept_keys[dropped["idempotency_key"]]
            del self.deliveries[:-MAX_KEPT]
        return {"received": key, "duplicate": duplicate}

    def listing(self) -> dict[str, Any]:
        with self._lock:
            deliveries = list(self.deliveries)
        return {"outage": self.outage, "deliveries": len(deliveries),
                "unique_events": len({d["idempotency_key"] for d in deliveries}), "events": deliveries}

    def set_outage(self, body: Mapping[str, Any]) -> dict[str, Any]:
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise ApiError("Validation failed", details={"enabled": ["Must be true or false."]})
        self.outage = enabled
        return {"outage": self.outage}

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self._kept_keys.clear()

