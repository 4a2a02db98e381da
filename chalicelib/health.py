"""Health endpoints: liveness needs nothing; health and readiness make a real round trip."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable

from chalice.app import Response

from chalicelib.observability.request_context import record_failure_cause
from chalicelib.users.repository import StorageUnavailable


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def health(ping: Callable[[], None], open_breakers: Callable[[], list[dict[str, Any]]] = lambda: [],
           fallback_breaker: str = "database") -> Response:
    """200 while the process can serve: ``healthy``, or ``degraded`` with the open breakers and
    why. 503 only when the user table fails and no open breaker has switched to the fallback
    yet (requests would fail, not degrade)."""
    started = time.perf_counter()
    failure, cause = None, None
    try:
        ping()
    except StorageUnavailable as exc:
        failure = f"user table round trip failed: {type(exc.__cause__ or exc).__name__}"
        cause = exc
    breakers = open_breakers()
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    database = "disconnected" if failure else "connected"
    serving_fallback = any(breaker["name"] == fallback_breaker for breaker in breakers)
    if failure and not serving_fallback:
        record_failure_cause(f"user table round trip failed: {cause!r} <- {cause.__cause__!r}")
        return Response(status_code=503, body={
            "status": "unhealthy", "timestamp": _now_iso(), "database": database, "reason": failure,
            "open_breakers": breakers, "response_time_ms": elapsed})
    if failure or breakers:
        reasons = [f"circuit breaker {breaker['name']} is {breaker['state']} ({breaker['reason']})"
                   for breaker in breakers]
        if serving_fallback:
            reasons.append("reads are served from last known good data and writes answer 503")
        if failure:
            reasons.insert(0, failure)
        return Response(status_code=200, body={
            "status": "degraded", "timestamp": _now_iso(), "database": database, "reason": "; ".join(reasons),
            "open_breakers": breakers, "response_time_ms": elapsed})
    return Response(status_code=200, body={
        "status": "healthy", "timestamp": _now_iso(), "database": database, "open_breakers": [],
        "response_time_ms": elapsed})


def ready(ping: Callable[[], None]) -> Response:
    try:
        ping()
    except StorageUnavailable as exc:
        record_failure_cause(f"user table round trip failed: {exc!r} <- {exc.__cause__!r}")
        return Response(status_code=503, body={"status": "not ready", "reason": "user table is unreachable"})
    return Response(status_code=200, body={"status": "ready"})


def live() -> Response:
    return Response(status_code=200, body={"status": "alive"})
