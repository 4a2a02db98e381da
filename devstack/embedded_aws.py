"""The embedded AWS: a moto server in a process of its own (``python -m devstack.embedded_aws``).

In its own process moto no longer shares one interpreter lock with the app, the scheduler
and the metrics forwarder. It is served by gunicorn's threaded worker, which keeps
connections alive (moto's own Werkzeug server closes each one after its answer). What moto
does not do on its own, or does slowly, is added here:

- DynamoDB requests run one at a time. moto's DynamoDB backend is not thread-safe:
  TransactWriteItems deep-copies every table it touches (for its rollback) while other
  request threads change them ("dictionary changed size during iteration"), and a rollback
  would overwrite writes that happened meanwhile.
- A transaction rolls back the items it touched, not whole tables: moto deep-copies every
  table a TransactWriteItems touches before it starts, so each create cost time in
  proportion to the number of users stored (this is safe only with the serialization above).
- Item reads (GetItem, Query, Scan, BatchGetItem) and writes answer with ``json.dumps`` of the
  result: moto's generic serializer walks the botocore shape of every attribute (~0.4 ms per
  item; a page of 100 users cost 45 ms; a write ~0.1 ms), and these results already are
  DynamoDB JSON. Its
  conversion of stored values to that JSON, and the deep copy of every item a Query or Scan
  returns, were the next half of the cost of a page; with requests serialized the answer is
  written before any other request can change the items, so no copy is needed.
- moto keeps every model object it ever creates (for its /moto-api dashboard): each item
  version an update or transaction copies, each metric datum. That grew the process by
  ~8 MiB a minute under light load; only S3's objects are still kept (its reset needs them).
- Items past their table's TTL attribute are deleted, as DynamoDB's TTL does (moto never
  expires them, so TTL'd tables such as the webhook outbox grew without bound under load).
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


# Held by every DynamoDB request and by the TTL sweeper.
DYNAMODB_LOCK = threading.Lock()


def serialize_dynamodb(journal: Optional["Journal"] = None) -> None:
    """One DynamoDB request at a time; with a ``journal``, each successful item write leaves the
    after-images of the items it touched there, taken under the same lock (so in applied order)."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
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


def stop_keeping_every_model_object() -> None:
    from moto.core.common_models import BaseModel

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        instance = object.__new__(cls)
        if cls.__module__.startswith("moto.s3."):  # S3's reset closes the files of the keys it kept
            cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
        return instance

    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]


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


def size_items_directly() -> None:
    """Query and Scan add up each result item's size twice (the 1 MB page limit), through a call per
    attribute to a ``size`` that tests five types before measuring a string or a number; here strings
    and numbers are measured in the loop (other types as moto measures them)."""
    from moto.dynamodb.models.dynamo_type import Item

    def size(self: Any) -> int:
        total = 0
        for name, value in self.attrs.items():
            total += len(name.encode("utf-8"))
            if value.type == "S" and type(value.value) is str:
                total += len(value.value.encode("utf-8"))
            elif value.type == "N":
                total += len(str(value.value))
            else:
                total += value.size()
        return total

    Item.size = size


def stored_items(table: Any) -> list[Any]:
    """Every item of a moto table, in no particular order (``items``: hash key -> item, or hash
    key -> range key -> item)."""
    if table.range_key_attr:
        return [item for hash_set in table.items.values() for item in hash_set.values()]
    return list(table.items.values())


def sort_by_key_values() -> None:
    """moto sorts a table's items (for every Query and Scan), and again a Query's matches, with
    ``DynamoType`` keys: each comparison is two Python-level calls (``__eq__`` then ``__lt__``),
    each reading ``cast_value``, and a page of 100 users out of a few hundred items cost ~1.8 ms
    in comparisons. Sorting by the ``cast_value``s themselves orders the same way (``__lt__`` and
    ``__eq__`` compare exactly those; a key attribute has one type in every item), once per item."""
    from moto.dynamodb.models.table import Table

    def all_items(self: Any) -> list[Any]:
        return sorted(stored_items(self), key=lambda x: ((x.hash_key.cast_value, x.range_key.cast_value)
                                                         if x.range_key else x.hash_key.cast_value))

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[Optional[str]],
                     items: list[Any]) -> list[Any]:
        attributes = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda x: tuple([x.attrs[name].cast_value for name in attributes]))
        return items

    Table.all_items = all_items
    Table.sorted_items = sorted_items


def query_only_what_can_match() -> None:
    """moto's Query starts from ``all_items()``: every item of the table, sorted by key. It then keeps
    the matches and sorts them again, so each query cost grew with the whole table (the SLO
    evaluator's reads of its minute buckets grew through a soak as the tables filled). Within a
    Query the first sort decides nothing (an index query sorts its matches by the index keys, then
    the table's keys: a total order; a table query's matches share one hash key and are sorted by
    range key), and a table query can only match its hash key's items: inside a Query,
    ``all_items`` answers those, or for an index query every item unsorted. Scans are unchanged."""
    import inspect

    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    parameters = inspect.signature(original_query)
    scope = threading.local()

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = parameters.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if arguments.get("index_name"):
            scope.query = (self, None)
        elif isinstance(hash_key, DynamoType):
            scope.query = (self, hash_key)
        else:
            return original_query(self, *args, **kwargs)
        try:
            return original_query(self, *args, **kwargs)
        finally:
            scope.query = None

    def all_items(self: Any) -> list[Any]:
        table, hash_key = getattr(scope, "query", None) or (None, None)
        if table is not self:
            return original_all_items(self)
        if hash_key is None:
            return stored_items(self)
        hash_set = self.items.get(hash_key)
        if hash_set is None:
            return []
        return list(hash_set.values()) if self.range_key_attr else [hash_set]

    Table.query = query
    Table.all_items = all_items


def cache_handler_method_names() -> None:
    """Every call lists the handler class's methods (``inspect.getmembers``, ~0.1 ms) to check the
    action is implemented; a class's methods do not change while the server runs."""
    import functools

    from moto.core import responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)


def skip_request_id_rewrite_without_xml() -> None:
    """moto rewrites ``<RequestId>`` in every answer body with a regular expression (a lookbehind
    tried at each position: ~0.4 ms for a page of 100 users); JSON answers never hold the tag."""
    from moto.core.responses import BaseResponse
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    original = BaseResponse._enrich_response

    def enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if isinstance(body, str) and "<RequestId>" not in body:
            if "status" in headers:
                headers["status"] = str(headers["status"])
            gen_amzn_requestid_long(headers)
            return headers, body
        return original(headers, body)

    BaseResponse._enrich_response = staticmethod(enrich_response)


class MetricIndex:
    """moto's stored datapoints (``CloudWatchBackend.metric_data``, a list it only appends to), also
    kept per metric name in time order and once per distinct metric; brought up to date from moto's
    list on each read, under a lock (the server's threads read at once)."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self.seen = 0
        self.by_name: dict[str, list[tuple[Any, int, Any]]] = {}
        self.distinct: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def of(cls, backend: Any) -> "MetricIndex":
        import bisect

        with cls._lock:
            stored = backend.metric_data
            index = backend.__dict__.get("_metric_index")
            if index is None or index.seen > len(stored):
                index = backend._metric_index = cls()
            for sequence in range(index.seen, len(stored)):
                datum = stored[sequence]
                bisect.insort(index.by_name.setdefault(datum.name, []), (datum.timestamp, sequence, datum))
                index.distinct.setdefault(metric_identity(datum), datum)
            index.seen = len(stored)
            return index


def metric_identity(datum: Any) -> tuple[Any, ...]:
    return (datum.namespace, datum.name, frozenset((dimension.name, dimension.value) for dimension in datum.dimensions))


def find_metric_data_by_name_and_time() -> None:
    """moto's GetMetricData lists every stored datapoint, then for each period of each query scans
    all those in the time range again: an SLO evaluator run read 25 hours of one-minute periods in
    ~7 s, and over a day of traffic each run grew with the datapoints stored. Here a query takes its
    metric's time range from ``MetricIndex`` by bisection, matches the same way moto does, and puts
    each match in its period once. Answers are moto's, datapoint for datapoint and in its order
    (tests/unit/devstack compare them); Metrics Insights queries go to moto's own code."""
    import bisect
    from datetime import timedelta

    from moto.cloudwatch import models as cloudwatch

    original = cloudwatch.CloudWatchBackend.get_metric_data

    def matches(index: MetricIndex, provided: list[Any], start: Any, end: Any, namespace: str, name: str,
                dimensions: list[Any], unit: Any) -> list[Any]:
        """``provided``: the datapoints moto's metric providers compute on each read, placed after
        the stored ones as moto places them."""
        points = index.by_name.get(name, [])
        low = bisect.bisect_left(points, (start, -1))
        high = bisect.bisect_left(points, (end, -1))
        in_range = [datum for _, _, datum in sorted(points[low:high], key=lambda point: point[1])]
        in_range += [datum for datum in provided if datum.name == name and start <= datum.timestamp < end]
        if dimensions:  # moto ignores the namespace of a query with dimensions
            found = [datum for datum in in_range if sorted(datum.dimensions) == sorted(dimensions)]
        else:
            found = [datum for datum in in_range if datum.namespace == namespace]
        return [datum for datum in found if datum.unit == unit] if unit else found

    def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: Any, end_time: Any,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        if any(query.get("Expression", "").startswith("SELECT") for query in queries):
            return original(self, queries, start_time, end_time, scan_by)
        start_time, end_time = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        if start_time >= end_time:
            return original(self, [], start_time, end_time, scan_by)  # moto's own refusal
        index, provided = MetricIndex.of(self), self.aws_metric_data
        results, results_to_return = [], []
        for query in [query for query in queries if "MetricStat" in query]:
            stat_query, metric = query["MetricStat"], query["MetricStat"]["Metric"]
            delta = timedelta(seconds=int(stat_query["Period"]))
            dimensions = [cloudwatch.Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", [])]
            periods: dict[int, list[Any]] = {}
            for datum in matches(index, provided, start_time, end_time, metric["Namespace"], metric["MetricName"],
                                 dimensions, stat_query.get("Unit")):
                periods.setdefault((datum.timestamp - start_time) // delta, []).append(datum)
            values, timestamps = [], []
            for number in sorted(periods):
                statistics = cloudwatch.Statistics([stat_query["Stat"]], start_time + number * delta)
                statistics.metric_data = periods[number]
                values.append(statistics.get_statistics_for_type(stat_query["Stat"]))
                timestamps.append(statistics.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                timestamps.reverse()
            result = {"id": query["Id"], "label": query.get("Label") or f"{metric['MetricName']} {stat_query['Stat']}",
                      "values": values, "timestamps": timestamps, "status_code": "Complete"}
            results.append(result)
            if query.get("ReturnData", True):
                results_to_return.append(dict(result))
        for query in [query for query in queries if "Expression" in query]:
            values, timestamps = cloudwatch.parse_expression(query["Expression"], results)
            results_to_return.append({"id": query["Id"], "label": query.get("Label") or query["Id"],
                                      "values": values, "timestamps": timestamps, "status_code": "Complete"})
        return results_to_return

    cloudwatch.CloudWatchBackend.get_metric_data = get_metric_data


def list_each_metric_once() -> None:
    """ListMetrics answers each metric (namespace, name, dimensions) once, as CloudWatch does. moto
    means to, but its duplicate check compares every dimension of one datapoint with every
    dimension of the other, so a metric with two different dimensions is listed once per datapoint,
    each call compares each datapoint with all those listed before it (quadratic in the datapoints
    stored: the dashboard lists its routes this way, 0.11 s after an hour of five routes' metrics,
    0.44 s after four, 3 ms here), and the pages past the first are kept, never read, per call.
    Here the metrics come from ``MetricIndex``, filtered by moto's own ``filter``."""
    from moto.cloudwatch import models as cloudwatch

    def get_filtered_metrics(self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]) -> list[Any]:
        found, identities = [], set()
        for datum in [*MetricIndex.of(self).distinct.values(), *self.aws_metric_data]:
            identity = metric_identity(datum)
            if identity not in identities and datum.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
                identities.add(identity)
                found.append(datum)
        return found

    cloudwatch.CloudWatchBackend.get_filtered_metrics = get_filtered_metrics


# DynamoDB deletes expired items within days, usually minutes; locally within this many seconds.
TTL_SWEEP_SECONDS = 30.0
SERVER_THREADS = 32
ITEM_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})
JSON_ANSWERS = ITEM_READS | ITEM_WRITES


def _binary_as_base64(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not DynamoDB JSON")


def answer_items_as_json() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in JSON_ANSWERS:
            headers = {"Content-Type": "application/x-amz-json-1.0"}  # the request id is added after this
            headers.update(self.response_headers)
            return 200, headers, json.dumps(result, default=_binary_as_base64)
        return original(self, action_result)

    DynamoHandler.serialized = serialized


PLAIN_TYPES = frozenset({"S", "N", "BOOL", "NULL", "SS", "NS"})
SCALARS = (str, int, float, bool, type(None))


def convert_stored_values_directly() -> None:
    """moto turns each stored value into DynamoDB JSON through a generic walk that asks every
    object for ``to_json`` first; values of the plain types are their own JSON."""
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType

    general = responses.dynamo_to_dict

    def dynamo_to_dict(value: Any) -> Any:
        kind = type(value)
        if kind is DynamoType:
            value_type = value.type
            if value_type in PLAIN_TYPES:
                return {value_type: value.value}
            if value_type == "L":
                return {"L": [dynamo_to_dict(element) for element in value.value]}
            if value_type == "M":
                return {"M": {key: dynamo_to_dict(element) for key, element in value.value.items()}}
            return general(value)  # binary values: moto decodes them for its serializer
        if isinstance(value, dict):
            return {key: dynamo_to_dict(element) for key, element in value.items()}
        if kind is list:
            return [dynamo_to_dict(element) for element in value]
        if isinstance(value, SCALARS):
            return value
        return general(value)

    responses.dynamo_to_dict = dynamo_to_dict


def answer_reads_without_copying_items() -> None:
    """Query and Scan deep-copy every item they return; with requests serialized nothing changes
    the stored items before the answer is written, and indexes and projections build new items."""
    from moto.dynamodb.models import table
    from moto.dynamodb.models.dynamo_type import Item

    class CopyKeepingItems:
        """Stands in for the ``copy`` module inside moto's table model: result items are not copied."""

        copy = staticmethod(copy.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Item):
                return value
            if type(value) is list and all(isinstance(element, Item) for element in value):
                return list(value)
            return copy.deepcopy(value, memo)  # table backups and restores copy for real

    table.copy = CopyKeepingItems


# DynamoDB leaves alone a TTL value more than five years in the past (it takes it for not epoch seconds).
TTL_IGNORED_AGE_SECONDS = 5 * 365 * 24 * 3600


def expired_keys(table: Any, now: float) -> list[tuple[Any, Any]]:
    """The (hash, range) keys of ``table``'s items whose TTL attribute (epoch seconds) is past."""
    if table.ttl.get("TimeToLiveStatus") != "ENABLED" or not table.ttl.get("AttributeName"):
        return []
    attribute = table.ttl["AttributeName"]
    expired = []
    for item in stored_items(table):
        value = item.attrs.get(attribute)
        if value is None or value.type != "N":
            continue
        try:
            expires_at = float(value.value)
        except ValueError:
            continue
        if now - TTL_IGNORED_AGE_SECONDS <= expires_at < now:
            expired.append((item.hash_key, item.range_key))
    return expired


def expire_ttl_items(now: Optional[float] = None, journal: Optional["Journal"] = None) -> int:
    """Delete every item past its table's TTL in every account and region; returns how many.
    With a ``journal``, the deletions are journaled as item writes are (a replay does not bring them back)."""
    from moto.dynamodb.models import dynamodb_backends

    now = time.time() if now is None else now
    deleted = 0
    with DYNAMODB_LOCK:
        for account, regions in list(dynamodb_backends.items()):
            for region, backend in list(regions.items()):
                for table in list(backend.tables.values()):
                    images = []
                    for hash_key, range_key in expired_keys(table, now):
                        table.delete_item(hash_key, range_key)  # also the stream's REMOVE record
                        key = {table.hash_key_attr: hash_key.to_json()}
                        if table.range_key_attr:
                            key[table.range_key_attr] = range_key.to_json()
                        images.append({"table": table.name, "key": _binary_tagged(key), "item": None})
                    if images and journal is not None:
                        journal.append({"action": "dynamodb.items", "account": account, "region": region,
                                        "items": images})
                    deleted += len(images)
    return deleted


def sweep_ttl(interval_seconds: float, journal: Optional["Journal"] = None) -> threading.Thread:
    def sweep() -> None:
        while True:
            time.sleep(interval_seconds)
            try:
                expire_ttl_items(journal=journal)
            except Exception:  # one failed sweep must not end the sweeping; the traceback is logged
                log.exception("TTL sweep failed")

    thread = threading.Thread(target=sweep, name="ttl-sweeper", daemon=True)
    thread.start()
    return thread


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


def prepare_moto(dispatch_url: str, ttl_sweep_seconds: float, journal_path: Optional[str] = None) -> Any:
    """moto with the changes above, and the WSGI application serving every service."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    stop_keeping_every_model_object()
    application: Any = CachingDispatcher.create(DomainDispatcherApplication, create_backend_app)
    journal = None
    if journal_path:
        started = time.monotonic()
        replayed = replay_journal(application, journal_path)  # before the DynamoDB hooks: nothing re-journaled
        if replayed:
            print(f"embedded AWS: {replayed} writes replayed from {journal_path} in "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        journal = Journal(journal_path)
        application = StateJournal(application, journal)
    serialize_dynamodb(journal)
    roll_back_transactions_by_item()
    compare_strings_directly()
    size_items_directly()
    answer_items_as_json()
    convert_stored_values_directly()
    answer_reads_without_copying_items()
    sort_by_key_values()
    query_only_what_can_match()
    cache_handler_method_names()
    skip_request_id_rewrite_without_xml()
    find_metric_data_by_name_and_time()
    list_each_metric_once()
    forward_lambda_invocations(dispatch_url.rstrip("/"))
    sweep_ttl(ttl_sweep_seconds, journal)
    return application


class CachingDispatcher:
    """moto finds the service of every request by listing its package folder and matching ~200 URL
    patterns against the host (a sixth of a DynamoDB call's cost); the answer for a host never changes.
    moto also runs each service's Flask app in debug mode, where every request with a body defines a
    new class (a cycle only the full garbage collection frees: memory grew with the request count)."""

    @staticmethod
    def create(dispatcher_class: type, create_app: Any) -> Any:
        class Dispatcher(dispatcher_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._backends_by_host: dict[Optional[str], Any] = {}

            def get_backend_for_host(self, host: Optional[str]) -> Any:
                try:
                    return self._backends_by_host[host]
                except KeyError:
                    backend = self._backends_by_host[host] = super().get_backend_for_host(host)
                    return backend

        def create_app_without_debug(service: Any) -> Any:
            app = create_app(service)
            app.debug = False
            return app

        return Dispatcher(create_app_without_debug)


def serve(host: str, port: int, dispatch_url: str, ttl_sweep_seconds: float, threads: int,
          journal_path: Optional[str] = None) -> None:
    """moto's own server is Werkzeug's development server, which closes the connection after every
    answer (a TCP handshake and a TIME-WAIT socket per AWS call); gunicorn's threaded worker keeps
    connections alive. One worker process: moto's state lives in it."""
    from gunicorn.app.base import BaseApplication

    class EmbeddedAws(BaseApplication):
        def load_config(self) -> None:
            settings = {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread", "threads": threads,
                        # above botocore's and requests' idle times: the client closes an idle connection first
                        "keepalive": 120,
                        # a restarted worker would be an empty AWS: never restart it for a slow request
                        "timeout": 0, "graceful_timeout": 5, "accesslog": None, "loglevel": "warning",
                        "proc_name": "serverless-sre-embedded-aws"}
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:  # in the worker process
            return prepare_moto(dispatch_url, ttl_sweep_seconds, journal_path)

    EmbeddedAws().run()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.embedded_aws", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dispatch-url", required=True, help="the local stack's control API")
    parser.add_argument("--journal", help="keep the state in this file across restarts (replayed at start)")
    parser.add_argument("--ttl-sweep-seconds", type=float, default=TTL_SWEEP_SECONDS,
                        help=f"how often items past their TTL are deleted (default {TTL_SWEEP_SECONDS:g})")
    parser.add_argument("--threads", type=int, default=SERVER_THREADS,
                        help=f"requests served at once (default {SERVER_THREADS}; SQS long polls hold one each)")
    args = parser.parse_args(argv)

    # moto's Step Functions call back into this server through MOTO_PORT.
    os.environ["MOTO_PORT"] = str(args.port)
    exit_with_parent(os.getppid())
    serve(args.host, args.port, args.dispatch_url, args.ttl_sweep_seconds, args.threads, args.journal)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
