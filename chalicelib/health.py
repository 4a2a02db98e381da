"""Health endpoints: liveness needs nothing; health and readiness make a real round trip."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable

from chalice.app import Response

from chalicelib.observability.request_context import record_failure_cause
from chalicelib.users.repository import StorageUnavailable


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def health(ping: Callable[[], None]) -> Response:
    started = time.perf_counter()
    try:
        ping()
    except StorageUnavailable as exc:
        record_failure_cause(f"user table round trip failed: {exc!r} <- {exc.__cause__!r}")
        return Response(status_code=503, body={
            "status": "unhealthy", "timestamp": _now_iso(), "database": "disconnected",
            "reason": f"user table round trip failed: {type(exc.__cause__ or exc).__name__}",
            "response_time_ms": round((time.perf_counter() - started) * 1000, 2)})
    return Response(status_code=200, body={
        "status": "healthy", "timestamp": _now_iso(), "database": "connected",
        "response_time_ms": round((time.perf_counter() - started) * 1000, 2)})


def ready(ping: Callable[[], None]) -> Response:
    try:
        ping()
    except StorageUnavailable as exc:
        record_failure_cause(f"user table round trip failed: {exc!r} <- {exc.__cause__!r}")
        return Response(status_code=503, body={"status": "not ready", "reason": "user table is unreachable"})
    return Response(status_code=200, body={"status": "ready"})


def live() -> Response:
    return Response(status_code=200, body={"status": "alive"})
