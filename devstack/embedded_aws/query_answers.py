"""Answers to DynamoDB Query requests, kept while DynamoDB's state has not changed.

moto answers an index Query by reading every item of the table, then sorting what matches, and
each request first passes Flask's dispatch: a page of 100 users cost the embedded AWS 3-5 ms of
CPU, about what the app's own process spends on ``GET /api/users``. Real DynamoDB reads only
the matching items, and a page read twice with nothing written between is the same page. So
the same Query (same caller's credential scope, same body), asked again before any change of
DynamoDB's state (``dynamodb.STATE_VERSION``), gets the answer it got, with a new request id.
Any action not known to be read-only, on any table, ends every kept answer: simple enough to
be obviously right, and the reads that matter (lists, SLO and incident queries) run in calm
periods between writes.
"""
from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Iterable

from devstack.embedded_aws.dynamodb import STATE_VERSION, StateVersion

QUERY_TARGET = "DynamoDB_20120810.Query"
MAX_KEPT_ANSWERS = 512
REQUEST_ID_HEADERS = frozenset({"x-amzn-requestid", "x-amz-request-id"})


@dataclass(frozen=True)
class KeptAnswer:
    version: int
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def credential_scope(authorization: str) -> str:
    """``Credential=<access key>/<date>/<region>/<service>/aws4_request``: moto picks the account by
    the access key and the region by the scope, so two callers' equal bodies may ask different tables."""
    return authorization.partition(",")[0]


class QueryAnswers:
    """WSGI middleware in front of moto's server; see the module's docstring."""

    def __init__(self, app: Any, version: StateVersion = STATE_VERSION, max_kept: int = MAX_KEPT_ANSWERS) -> None:
        self.app = app
        self.version = version
        self.max_kept = max_kept
        self._kept: dict[tuple[str, bytes], KeptAnswer] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if environ.get("HTTP_X_AMZ_TARGET") != QUERY_TARGET or not length:  # a chunked body: not kept
            result = self.app(environ, start_response)
            if environ.get("PATH_INFO", "").startswith("/moto-api/") and environ.get("REQUEST_METHOD") != "GET":
                # A reset or seeding of moto's state, done now: moved on after it, so that a Query
                # answered while it was under way is not kept (it read the version before the move).
                self.version.move_on()
            return result
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        key = (credential_scope(environ.get("HTTP_AUTHORIZATION", "")), body)
        # Read before the request runs: what it answers is at least this version's state.
        version = self.version.value
        kept = self._kept.get(key)
        if kept is not None and kept.version == version:
            start_response(kept.status, [(name, str(uuid.uuid4()) if name.lower() in REQUEST_ID_HEADERS else value)
                                         for name, value in kept.headers])
            return [kept.body]
        return self._answer_and_keep(environ, start_response, key, version)

    def _answer_and_keep(self, environ: dict[str, Any], start_response: Any, key: tuple[str, bytes],
                         version: int) -> Iterable[bytes]:
        answered: list[tuple[str, list[tuple[str, str]]]] = []

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.append((status, headers))
            return start_response(status, headers, exc_info)

        result = self.app(environ, remember)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if answered and answered[0][0].startswith("200") and self.version.value == version:
            with self._lock:
                if len(self._kept) >= self.max_kept:
                    self._kept.pop(next(iter(self._kept)))
                self._kept[key] = KeptAnswer(version, answered[0][0], tuple(answered[0][1]), body)
        return [body]
