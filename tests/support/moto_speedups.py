"""The in-process moto of the unit suite, with the embedded AWS's CPU savings (devstack.embedded_aws).

Each saving answers exactly as stock moto does (tests/unit/devstack/embedded_aws compares
the two, with ``stock_moto`` in force), so unit tests meet the moto the local stack runs, minus
what assumes serialized requests. Without them moto's sorts, serializer and metric scans were most of
the SLO tests' time (a query's sort compared ``DynamoType``s through five type checks per value).
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

_STOCK: dict[tuple[Any, str], Any] = {}


def _patched_attributes() -> list[tuple[Any, str]]:
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.core import responses as core_responses
    from moto.core.responses import BaseResponse
    from moto.dynamodb import responses as dynamodb_responses
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    return [(DynamoType, "cast_value"), (Item, "size"), (Table, "all_items"), (Table, "sorted_items"), (Table, "query"),
            (core_responses, "method_names_from_class"), (BaseResponse, "_enrich_response"),
            (DynamoHandler, "serialized"), (dynamodb_responses, "dynamo_to_dict"),
            (CloudWatchBackend, "get_metric_data")]


def apply() -> None:
    from devstack.embedded_aws import cloudwatch, core, dynamodb

    for key in _patched_attributes():
        _STOCK[key] = _current(key)
    dynamodb.compare_strings_directly()
    dynamodb.size_items_directly()
    dynamodb.sort_by_key_values()
    dynamodb.query_only_what_can_match()
    core.cache_handler_method_names()
    core.skip_request_id_rewrite_without_xml()
    dynamodb.answer_items_as_json()
    dynamodb.convert_stored_values_directly()
    cloudwatch.find_metric_data_by_name_and_time()


@contextlib.contextmanager
def stock_moto() -> Iterator[None]:
    """moto as released, for tests that compare a saving with what it replaces."""
    current = {key: _current(key) for key in _STOCK}
    for key, value in _STOCK.items():
        _set(key, value)
    try:
        yield
    finally:
        for key, value in current.items():
            _set(key, value)


def _current(key: tuple[Any, str]) -> Any:
    """A module's attribute, or what a class itself defines (None: inherited)."""
    owner, name = key
    return owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name)


def _set(key: tuple[Any, str], value: Any) -> None:
    owner, name = key
    if value is None and isinstance(owner, type):
        if name in owner.__dict__:
            delattr(owner, name)
    else:
        setattr(owner, name, value)
