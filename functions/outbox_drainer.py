"""Scheduled (rate(1 minute)): deliver due webhook events from the outbox, with backoff.

Event ``{"all_pending": true}`` retries every pending event now, ignoring backoff (after an
endpoint recovers; see runbooks/breaker-webhook.md).
"""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: Any, context: Any) -> dict[str, int]:
    all_pending = bool(isinstance(event, dict) and event.get("all_pending") is True)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    time_left = (lambda: remaining() / 1000.0) if remaining else (lambda: float("inf"))
    return wiring.current().webhook_delivery.drain(all_pending=all_pending, time_left=time_left)
