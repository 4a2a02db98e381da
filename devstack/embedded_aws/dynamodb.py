"""DynamoDB in the embedded AWS: requests one at a time, transactions rolled back by item, and
what moto does slowly (sorting, sizing, serializing items) done directly. Each saving answers
exactly as stock moto does (tests/unit/devstack/embedded_aws compares them)."""
from __future__ import annotations

import base64
import copy
import json
import threading
from typing import TYPE_CHECKING, Any, Optional

import orjson  # a dev requirement, as the embedded AWS is: never in the Lambda package

if TYPE_CHECKING:
    from devstack.embedded_aws.journal import Journal

# Held by every DynamoDB request and by the TTL sweeper.
DYNAMODB_LOCK = threading.Lock()


class StateVersion:
    """Counts the changes to DynamoDB's state. Moved on after every request whose action may change
    it (a failed one too; under ``DYNAMODB_LOCK``, as is each deletion the TTL sweep makes), by a
    journal replay and after a change through moto's own API. What a read answered while the count
    was ``n`` throughout is still the answer while it is ``n``."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()  # moto's API moves it outside DYNAMODB_LOCK: no move may be lost

    def move_on(self) -> None:
        with self._lock:
            self.value += 1


STATE_VERSION = StateVersion()


def serialize_dynamodb(journal: Optional["Journal"] = None) -> None:
    """One DynamoDB request at a time; with a ``journal``, each successful item write leaves the
    after-images of the items it touched there, taken under the same lock (so in applied order)."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            try:
                result = original(self)
            finally:  # a write that failed midway may have changed something
                if self._get_action() not in READ_ONLY_ACTIONS:
                    STATE_VERSION.move_on()
            if journal is not None and self._get_action() in ITEM_WRITES and result[0] == 200:
                journal.append({"action": "dynamodb.items", "account": self.current_account, "region": self.region,
                                "items": item_images(self.dynamodb_backend, self._get_action(), _params(self.body))})
            return result

    DynamoHandler.call_action = call_action


def _params(body: Any) -> dict[str, Any]:
    """moto hands DynamoDB handlers the request already parsed; older versions the JSON text."""
    return body if isinstance(body, dict) else json.loads(body)


ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
ITEM_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})
JSON_ANSWERS = ITEM_READS | ITEM_WRITES
# Every other action counts as a change of state (``STATE_VERSION``): an unknown one too.
READ_ONLY_ACTIONS = ITEM_READS | frozenset({
    "TransactGetItems", "DescribeTable", "ListTables", "DescribeTimeToLive", "ListTagsOfResource",
    "DescribeContinuousBackups", "DescribeEndpoints", "DescribeLimits"})


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
        images.append({"table": table_name, "key": binary_tagged(key),
                       "item": binary_tagged(item.to_json()["Attributes"]) if item else None})
    return images


BINARY_TAG = "$base64"  # moto keeps B and BS values as bytes; JSON has no bytes


def binary_tagged(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {BINARY_TAG: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: binary_tagged(item) for key, item in value.items()}
    if isinstance(value, list):
        return [binary_tagged(item) for item in value]
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
    STATE_VERSION.move_on()
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


def _binary_as_base64(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not DynamoDB JSON")


def items_json(result: dict[str, Any]) -> str:
    """orjson writes a page of 100 users in ~0.05 ms where ``json.dumps`` took ~0.8 ms (a fifth of the
    embedded AWS's time per list). It refuses what ``json`` writes: strings holding lone surrogates
    (DynamoDB JSON in may escape them) and integers beyond 64 bits; those answers take ``json``."""
    try:
        return orjson.dumps(result, default=_binary_as_base64).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(result, default=_binary_as_base64)


def answer_items_as_json() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in JSON_ANSWERS:
            headers = {"Content-Type": "application/x-amz-json-1.0"}  # the request id is added after this
            headers.update(self.response_headers)
            return 200, headers, items_json(result)
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
