"""``--journal FILE``: the embedded AWS's state survives a restart (or a crash) of its process.
Every successful write to DynamoDB, Secrets Manager and CloudWatch metrics is appended to the file
before its answer leaves; a new process started with the same file replays it, in order, before it
serves anything."""
from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import threading
from typing import Any, Optional

from devstack.embedded_aws.dynamodb import apply_item_images

log = logging.getLogger("devstack.embedded_aws")

# Writes whose effect is state the service reads back; by signing name (the credential scope's service).
JOURNALED_ACTIONS: dict[str, frozenset[str]] = {
    # Item writes are journaled as after-images by serialize_dynamodb (replaying them is ~100x faster).
    "dynamodb": frozenset({"CreateTable", "DeleteTable", "UpdateTable", "UpdateTimeToLive", "TagResource",
                           "UntagResource"}),
    "secretsmanager": frozenset({"CreateSecret", "PutSecretValue", "UpdateSecret", "DeleteSecret",
                                 "RestoreSecret", "UpdateSecretVersionStage", "TagResource", "UntagResource"}),
    "monitoring": frozenset({"PutMetricData"}),
}
_CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_FORM_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z]+)")


def journaled_action(environ: dict[str, Any], body: bytes) -> Optional[str]:
    """``service.Action`` of a request whose success must be journaled, else None."""
    match = _CREDENTIAL_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else None
    if service not in JOURNALED_ACTIONS:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    path = environ.get("PATH_INFO", "")
    if target:  # JSON protocols: "DynamoDB_20120810.PutItem"
        action = target.rsplit(".", 1)[-1]
    elif "/operation/" in path:  # Smithy RPC v2 CBOR (CloudWatch): /service/<name>/operation/<Action>
        action = path.rsplit("/operation/", 1)[1].strip("/")
    else:  # query protocol: Action=... in the form body
        found = _FORM_ACTION.search(body)
        action = found.group(1).decode() if found else ""
    return f"{service}.{action}" if action in JOURNALED_ACTIONS[service] else None


class Journal:
    """The append-only file of writes; each line is in the OS before the write's answer leaves,
    so a crash of this process keeps every write it acknowledged."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")  # open for the server's lifetime
        self.entries = 0

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            self.entries += 1


class StateJournal:
    """WSGI middleware: journals each successful write of ``JOURNALED_ACTIONS`` as its request.

    A journaled request holds one lock from dispatch to append, so writes are journaled in the
    order moto applied them.
    """

    def __init__(self, app: Any, journal: Journal) -> None:
        self.app = app
        self.journal = journal
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if not length:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        action = journaled_action(environ, body)
        if action is None:
            return self.app(environ, start_response)
        answered: list[str] = []

        def remember_status(status: str, headers: Any, exc_info: Any = None) -> Any:
            answered.append(status)
            return start_response(status, headers, exc_info)

        with self._lock:
            result = self.app(environ, remember_status)
            if answered and answered[0].startswith("2"):
                headers = {key: value for key, value in environ.items()
                           if key.startswith("HTTP_") or key == "CONTENT_TYPE"}
                self.journal.append({"action": action, "method": environ["REQUEST_METHOD"],
                                     "path": environ.get("PATH_INFO", "/"), "query": environ.get("QUERY_STRING", ""),
                                     "environ": headers, "body": base64.b64encode(body).decode("ascii")})
        return result


def replay_journal(app: Any, path: str) -> int:
    """Apply the journal's writes to a fresh moto, in order; returns how many were applied."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    if not os.path.exists(path):
        return 0
    applied = 0
    with open(path, encoding="utf-8") as journal:
        for line in journal:
            try:
                entry = json.loads(line)
            except ValueError:  # a line cut short by a crash: its write was never answered
                continue
            applied += 1
            if entry["action"] == "dynamodb.items":
                apply_item_images(entry)
                continue
            builder = EnvironBuilder(path=entry["path"], method=entry["method"], query_string=entry["query"],
                                     data=base64.b64decode(entry["body"]))
            environ = builder.get_environ()
            environ.update(entry["environ"])
            _, status, _ = run_wsgi_app(app, environ, buffered=True)
            if not status.startswith("2"):
                log.warning("journal replay: %s answered %s", entry["action"], status)
    return applied
