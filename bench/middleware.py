"""Middleware overhead: the same route with and without the request middleware, in-process.

Run: `python -m bench.middleware [requests]` (default 5000). Output (EMF records and
logs) goes to /dev/null, as a write to stdout costs the same in Lambda.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from typing import Any, Callable

from bench._figures import record

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# No AWS here: the chaos fault lookup reads an (empty) in-memory store.
os.environ.setdefault("CHAOS_FAULT_STORE", "memory")


def api_gateway_event(path: str) -> dict[str, Any]:
    return {"resource": path, "path": path, "httpMethod": "GET", "headers": {"Host": "localhost"},
            "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": path, "httpMethod": "GET", "requestId": "bench", "path": path,
                               "stage": "api"}}


class Context:
    aws_request_id = "bench"
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30000


def bare_app() -> Callable[..., Any]:
    from chalice import Chalice

    from chalicelib import health

    bare = Chalice(app_name="bench-bare")

    @bare.route("/health/live", methods=["GET"])
    def health_live():
        return health.live()

    return bare


def time_requests(handler: Callable[..., Any], count: int) -> float:
    event, context = api_gateway_event("/health/live"), Context()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for _ in range(200):
            handler(event, context)
        started = time.perf_counter()
        for _ in range(count):
            response = handler(event, context)
        elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response
    return elapsed / count


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 5000
    from app import app as instrumented

    bare = bare_app()
    rounds = {"bare": [], "instrumented": []}
    for _ in range(5):  # interleaved rounds, so machine noise hits both sides alike
        rounds["bare"].append(time_requests(bare, count))
        rounds["instrumented"].append(time_requests(instrumented, count))
    bare_us = statistics.median(rounds["bare"]) * 1e6
    instrumented_us = statistics.median(rounds["instrumented"]) * 1e6
    added = instrumented_us - bare_us
    ratio = instrumented_us / bare_us
    print(f"middleware overhead, {count} requests x 5 rounds, GET /health/live in-process (median per request)")
    print(f"  without middleware: {bare_us:8.1f} us")
    print(f"  with middleware:    {instrumented_us:8.1f} us")
    print(f"  ratio {ratio:.2f}x, added {added:.1f} us/request "
          f"(target: <= 1.15x or < 100 us added: {'met' if ratio <= 1.15 or added < 100 else 'NOT met'})")
    record("middleware", ratio=round(ratio, 3), added_us=round(added, 1), met=ratio <= 1.15 or added < 100)
    return 0


if __name__ == "__main__":
    from bench._command import run_benchmark

    sys.exit(run_benchmark("bench.middleware", __doc__, main, count='requests (default 5000)'))
