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
"""
from __future__ import annotations

import argparse
import base64
import copy
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, Optional

from devstack.resources import definitions
from devstack.statemachines import FUNCTION_PREFIX


def function_key(function_name: str) -> Optional[str]:
    """The infra/functions.json key of a function name or ARN (with or without qualifier), if it is ours."""
    name = function_name.split(":function:", 1)[1] if ":function:" in function_name else function_name
    name = name.split(":", 1)[0]
    if not name.startswith(FUNCTION_PREFIX):
        return None
    key = name[len(FUNCTION_PREFIX):]
    return key if key in definitions("functions") else None


def serialize_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action


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
    args = parser.parse_args(argv)

    # moto's Step Functions call back into this server through MOTO_PORT.
    os.environ["MOTO_PORT"] = str(args.port)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one line per AWS call
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class RequestHandler(MotoRequestHandler):
        disable_nagle_algorithm = True  # keep-alive answers without the 40 ms delayed-ACK stall

    serialize_dynamodb()
    roll_back_transactions_by_item()
    compare_strings_directly()
    answer_item_reads_as_json()
    forward_lambda_invocations(args.dispatch_url.rstrip("/"))
    exit_with_parent(os.getppid())
    server = make_server(args.host, args.port, DomainDispatcherApplication(create_backend_app), threaded=True,
                         request_handler=RequestHandler)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the stack stops us in order
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
