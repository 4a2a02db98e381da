"""HMAC-SHA256 signatures of outbound webhooks.

The signed message is ``"<timestamp>.<raw body>"``; the header is
``X-Webhook-Signature: sha256=<hex>`` next to ``X-Webhook-Timestamp: <unix seconds>``.
Receivers recompute it with the shared key, compare in constant time and reject
timestamps older than ``TOLERANCE_SECONDS`` (replays).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Mapping, Optional

from chalicelib.http.strict import parse_bounded_int

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
TOLERANCE_SECONDS = 300


def signature(key: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(key: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(key, timestamp, body)}


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    return headers.get(name) or headers.get(name.lower())


def verify(key: str, headers: Mapping[str, str], body: bytes, now: float) -> Optional[str]:
    """None when valid, else what is wrong (safe to return to the sender)."""
    presented = _header(headers, SIGNATURE_HEADER)
    raw_timestamp = _header(headers, TIMESTAMP_HEADER)
    if not presented or not raw_timestamp:
        return f"Missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header"
    timestamp = parse_bounded_int(raw_timestamp, 0, 10**11)
    if timestamp is None:
        return f"{TIMESTAMP_HEADER} must be unix seconds"
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return f"{TIMESTAMP_HEADER} is outside the {TOLERANCE_SECONDS}s tolerance"
    if not hmac.compare_digest(presented.encode("utf-8"), signature(key, timestamp, body).encode("utf-8")):
        return "Signature does not match"
    return None
