"""What every pynamodb model of this service shares: its table bound at runtime, short timeouts."""
from __future__ import annotations

from typing import Any

# Fail fast so a slow table trips a breaker or fails a run instead of holding requests.
FAST = {"connect_timeout_seconds": 2, "read_timeout_seconds": 3, "max_retry_attempts": 2}


def table_meta(table_name: str, region: str, **timeouts: int) -> type:
    """A pynamodb ``Meta`` for ``table_name``; ``timeouts`` override the fast defaults."""
    settings = {**FAST, **timeouts}

    class TableMeta:
        pass

    TableMeta.table_name = table_name
    TableMeta.region = region
    for name, value in settings.items():
        setattr(TableMeta, name, value)
    return TableMeta


def index_meta(index_name: str) -> type:
    """A global secondary index ``Meta`` projecting every attribute."""
    from pynamodb.indexes import AllProjection

    class IndexMeta:
        projection = AllProjection()

    IndexMeta.index_name = index_name
    return IndexMeta


def transaction_connection(region: str, **timeouts: int) -> Any:
    """The connection pynamodb transactions go through, with the same timeouts as the models."""
    from pynamodb.connection import Connection

    return Connection(region=region, **{**FAST, **timeouts})
