"""The Lambda-style figures the local stack can measure for its own invocations.

Deployed, Lambda publishes AWS/Lambda ``Invocations``, ``Duration`` and ``ConcurrentExecutions``
per ``FunctionName``. Locally each HTTP request the app serves and each scheduled function run
is one invocation: this module measures them and hands them to the same EMF forwarder as the
app's own metrics, under the same namespace, names and dimension, so the capacity collector
reads them with the code it runs deployed. Throttles, the timeout and the concurrency limits
have no local counterpart; the collector says "not available locally" for those.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

EmfRecord = dict[str, Any]


def invocation_record(function_name: str, duration_ms: float, concurrent: int, timestamp_ms: int) -> EmfRecord:
    """One EMF record with the AWS/Lambda figures of one invocation."""
    return {
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{
            "Namespace": "AWS/Lambda", "Dimensions": [["FunctionName"]],
            "Metrics": [{"Name": "Invocations", "Unit": "Count"}, {"Name": "Duration", "Unit": "Milliseconds"},
                        {"Name": "ConcurrentExecutions", "Unit": "Count"}]}]},
        "FunctionName": function_name, "Invocations": 1.0, "Duration": round(duration_ms, 3),
        "ConcurrentExecutions": float(concurrent),
    }


class InvocationMeter:
    """Counts invocations in flight per function; each one's record carries the concurrency it ran at."""

    def __init__(self, emit: Callable[[EmfRecord], None], clock: Callable[[], float] = time.perf_counter) -> None:
        self._emit = emit
        self._clock = clock
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def invocation(self, function_name: str) -> Iterator[None]:
        with self._lock:
            concurrent = self._in_flight[function_name] = self._in_flight.get(function_name, 0) + 1
        started = self._clock()
        try:
            yield
        finally:
            duration_ms = (self._clock() - started) * 1000
            with self._lock:
                self._in_flight[function_name] -= 1
            self._emit(invocation_record(function_name, duration_ms, concurrent, int(time.time() * 1000)))

    def http_middleware(self, function_name: str) -> Callable[[Any, Any], Any]:
        """A Chalice HTTP middleware: every request the app serves is one invocation of the API function."""
        def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
            with self.invocation(function_name):
                return get_response(event)

        return middleware
