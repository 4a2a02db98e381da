"""Chaos fault lookup with nothing active: what it adds to a request, side by side.

The same app and route (``GET /health/live``, which touches no AWS) with the fault lookup as
deployed (the ``ActiveFaults`` cache over an empty store, read at most once per cache period)
against the middleware whose lookup answers "no fault" without looking. Interleaved rounds, median per request.

Run: `python -m bench.chaos_lookup [requests]` (default 5000).
"""
from __future__ import annotations

import os
import statistics
import sys

from bench._figures import record

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["CHAOS_FAULT_STORE"] = "memory"


class NoLookup:
    """The middleware without the fault lookup: answers at once, never reads anything."""

    def route_fault(self, route: str) -> None:
        return None


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 5000
    from app import app
    from bench.middleware import time_requests
    from chalicelib import wiring
    from chalicelib.chaos.active import ActiveFaults
    from chalicelib.chaos.store import MemoryFaultStore

    wired = wiring.current()
    store = MemoryFaultStore()
    lookup = ActiveFaults(store, cache_seconds=wired.settings.chaos.cache_seconds)
    rounds: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(5):  # interleaved, so machine noise hits both sides alike
        wired.__dict__["chaos_faults"] = NoLookup()
        rounds["without"].append(time_requests(app, count))
        wired.__dict__["chaos_faults"] = lookup
        rounds["with"].append(time_requests(app, count))
    without_us = statistics.median(rounds["without"]) * 1e6
    with_us = statistics.median(rounds["with"]) * 1e6
    added = with_us - without_us
    print(f"chaos fault lookup, nothing active: {count} requests x 5 rounds, GET /health/live in-process")
    print(f"  middleware without the lookup: {without_us:8.2f} us/request")
    print(f"  middleware with the lookup:    {with_us:8.2f} us/request")
    print(f"  ratio {with_us / without_us:.3f}x, added {added:.2f} us/request; store reads: {store.reads} "
          f"(target: < 5 us added: {'met' if added < 5 else 'NOT met'})")
    record("chaos_lookup", ratio=round(with_us / without_us, 4), added_us=round(added, 2), met=added < 5)
    return 0


if __name__ == "__main__":
    from bench._command import run_benchmark

    sys.exit(run_benchmark("bench.chaos_lookup", __doc__, main, count='requests (default 5000)'))
