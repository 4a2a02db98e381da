"""The embedded AWS: a moto server in a process of its own (``python -m devstack.embedded_aws``).

In its own process moto no longer shares one interpreter lock with the app, the scheduler
and the metrics forwarder. Two things moto does not do on its own are added here:

- DynamoDB requests run one at a time. moto's DynamoDB backend is not thread-safe:
  TransactWriteItems deep-copies every table it touches (for its rollback) while other
  request threads change them ("dictionary changed size during iteration"), and a rollback
  would overwrite writes that happened meanwhile.
- A transaction rolls back the items it touched, not whole tables: moto deep-copies every
  table a TransactWriteItems touches before it starts, so each create cost time in
  proportion to the number of users stored (this is safe only with the serialization above).
- Item reads (GetItem, Query, Scan, BatchGetItem) answer with ``json.dumps`` of the result:
  moto's generic serializer walks the botocore shape of every attribute (~0.4 ms per item;
  a page of 100 users cost 45 ms), and these results already are DynamoDB JSON.
- Lambda functions of ``infra/functions.json`` that a state machine invokes run in the
  local stack's process: the invocation is forwarded to its control API
  (``POST /lambda/<key>/invoke``), which answers what Lambda would.
- ``--journal FILE``: the state survives a restart (or a crash) of this process. Every
  successful write to DynamoDB, Secrets Manager and CloudWatch metrics is appended to the
  file before its answer leaves (``StateJournal``); a new process started with the same file
  replays it, in order, before it serves anything. Everything else (topics, queues and their
  subscriptions, functions, state machines) is provisioned again from infra/*.json by the
  local stack (``LocalStack.restart_embedded_aws``); what is lost is what was in flight
  there: queued messages and running Step Functions executions. moto's own recorder
  (``MOTO_ENABLE_RECORDING``) replays every request, reads and Step Functions starts
  included, over HTTP, which would run workflows and send pages a second time.
"""
from __future__ import annotations

import argparse
import base64
import copy
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from typing import Any, Optional

from devstack.resources import definitions
from devstack.statemachines import FUNCTION_PREFIX

log = logging.getLogger("devstack.embedded_aws")


def function_key(function_name: str) -> Optional[str]:
    """The infra/functions.json key of a function name or ARN (with or without qualifier), if it is ours."""
    name = function_name.split(":function:", 1)[1] if ":function:" in function_name else function_name
    name = name.split(":", 1)[0]
    if not name.startswith(FUNCTION_PREFIX):
        return None
    key = name[len(FUNCTION_PREFIX):]
    return key if key in definitions("functions") else None


def serialize_dynamodb(journal: Optional["Journal"] = None) -> None:
    """One DynamoDB request at a time; with a ``journal``, each successful item write leaves the
    after-images of the items it touched there, taken under the same lock (so in applied order)."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            result = original(self)
            if journal is not None and self._get_action() in ITEM_WRITES and result[0] == 200:
                journal.append({"action": "dynamodb.items", "account": self.current_account, "region": self.region,
                                "items": item_images(self.dynamodb_backend, self._get_action(), _params(self.body))})
            return result

    DynamoHandler.call_action = call_action


def _params(body: Any) -> dict[str, Any]:
    """moto hands DynamoDB handlers the request already parsed; older versions the JSON text."""
    return body if isinstance(body, dict) else json.loads(body)


ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


def written_keys(action: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(table name, item or key attributes) of every item a successful write touched."""
    if action == "PutItem":
        return [(body["TableName"], body["Item"])]
    if action in ("UpdateItem", "DeleteItem"):
        return [(body["TableName"], body["Key"])]
    if action == "TransactWriteItems":
        touched = []
        for entry in body["TransactItems"]:
            for kind in ("Put", "Update", "Delete"):
                if kind in entry:
                    touched.append((entry[kind]["TableName"], entry[kind]["Item" if kind == "Put" else "Key"]))
        return touched
    if action == "BatchWriteItem":
        return [(table, request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"])
                for table, requests in body["RequestItems"].items() for request in requests]
    return []


def _key_values(table: Any, attributes: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return DynamoType(attributes[table.hash_key_attr]), range_value


def item_images(backend: Any, action: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    images = []
    for table_name, attributes in written_keys(action, body):
        table = backend.get_table(table_name)
        key = {name: attributes[name] for name in (table.hash_key_attr, table.range_key_attr) if name}
        item = table.get_item(*_key_values(table, key))
        images.append({"table": table_name, "key": _binary_tagged(key),
                       "item": _binary_tagged(item.to_json()["Attributes"]) if item else None})
    return images


BINARY_TAG = "$base64"  # moto keeps B and BS values as bytes; JSON has no bytes


def _binary_tagged(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {BINARY_TAG: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: _binary_tagged(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_binary_tagged(item) for item in value]
    return value


def _binary_untagged(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {BINARY_TAG}:
            return base64.b64decode(value[BINARY_TAG])
        return {key: _binary_untagged(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_binary_untagged(item) for item in value]
    return value


def apply_item_images(entry: dict[str, Any]) -> None:
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[entry["account"]][entry["region"]]
    for image in _binary_untagged(entry["items"]):
        table = backend.get_table(image["table"])
        if image["item"] is None:
            table.delete_item(*_key_values(table, image["key"]))
        else:
            table.put_item(image["item"])


def roll_back_transactions_by_item() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class CopyKeepingTables:
        """Stands in for the ``copy`` module inside moto's DynamoDB backend: tables are not copied."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def touched_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
        saved = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = (op.get("Item") if op_type == "Put" else op.get("Key")) if table is not None else None
            if not key or table.hash_key_attr not in key:
                continue  # moto refuses it before changing anything
            if table.range_key_attr and table.range_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        return saved

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = touched_items(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                if item is not None:
                    _restore(table, hash_value, range_value, item)
                elif table.get_item(hash_value, range_value) is not None:
                    table.delete_item(hash_value, range_value)
            raise

    models.copy = CopyKeepingTables
    models.DynamoDBBackend.transact_write_items = transact_write_items


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item


def compare_strings_directly() -> None:
    """moto sorts query results by comparing ``cast_value``, which tests five other types before
    answering a string's own value; index keys here are strings, so a query's sort dominated its cost."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    general = DynamoType.cast_value.fget

    def cast_value(self: Any) -> Any:
        return self.value if self.type == "S" else general(self)

    DynamoType.cast_value = property(cast_value)


ITEM_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})


def _binary_as_base64(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not DynamoDB JSON")


def answer_item_reads_as_json() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in ITEM_READS:
            headers = {"Content-Type": "application/x-amz-json-1.0"}  # the request id is added after this
            headers.update(self.response_headers)
            return 200, headers, json.dumps(result, default=_binary_as_base64)
        return original(self, action_result)

    DynamoHandler.serialized = serialized


def forward_lambda_invocations(dispatch_url: str) -> None:
    import requests
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke
    session = requests.Session()

    def invoke(backend: Any, function_name: str, qualifier: Optional[str], body: Any, headers: Any,
               response_headers: Any) -> Any:
        key = function_key(function_name)
        if key is None:
            return original(backend, function_name, qualifier, body, headers, response_headers)
        timeout = int(definitions("functions")[key].get("timeout_seconds", 60)) + 5
        payload = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        response = session.post(f"{dispatch_url}/lambda/{key}/invoke", data=payload, timeout=timeout)
        error = response.headers.get("X-Amz-Function-Error")
        if error:
            response_headers["x-amz-function-error"] = error
        return response.content

    LambdaSimpleBackend.invoke = invoke


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


def exit_with_parent(parent_pid: int) -> None:
    """A stack killed without a chance to stop us must not leave this server holding its port."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.embedded_aws", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dispatch-url", required=True, help="the local stack's control API")
    parser.add_argument("--journal", help="keep the state in this file across restarts (replayed at start)")
    args = parser.parse_args(argv)

    # moto's Step Functions call back into this server through MOTO_PORT.
    os.environ["MOTO_PORT"] = str(args.port)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one line per AWS call
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class RequestHandler(MotoRequestHandler):
        disable_nagle_algorithm = True  # keep-alive answers without the 40 ms delayed-ACK stall

    application: Any = DomainDispatcherApplication(create_backend_app)
    journal = None
    if args.journal:
        started = time.monotonic()
        replayed = replay_journal(application, args.journal)  # before the DynamoDB hooks: nothing re-journaled
        if replayed:
            print(f"embedded AWS: {replayed} writes replayed from {args.journal} in "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        journal = Journal(args.journal)
        application = StateJournal(application, journal)
    serialize_dynamodb(journal)
    roll_back_transactions_by_item()
    compare_strings_directly()
    answer_item_reads_as_json()
    forward_lambda_invocations(args.dispatch_url.rstrip("/"))
    exit_with_parent(os.getppid())
    server = make_server(args.host, args.port, application, threaded=True, request_handler=RequestHandler)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the stack stops us in order
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
