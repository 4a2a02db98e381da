"""What every DynamoDB store of this service shares, through pynamodb: the table ``Meta``
bound at runtime, the transaction connection, and how an error is classified.

Heavy imports (pynamodb, botocore) happen inside the functions, on first use.
"""
from __future__ import annotations

from typing import Any, Optional

# Fail fast so a slow table trips a breaker or fails a run instead of holding requests.
FAST = {"connect_timeout_seconds": 2, "read_timeout_seconds": 3, "max_retry_attempts": 2}

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
CLIENT_ERROR_CODES = frozenset({CONDITIONAL_CHECK_FAILED, "ValidationException"})
# Codes of TransactWriteItems ``CancellationReasons`` (they have no "Exception" suffix).
CANCELLED_BY_CONDITION = "ConditionalCheckFailed"
CLIENT_CANCELLATION_CODES = frozenset({CANCELLED_BY_CONDITION, "ValidationError"}) | CLIENT_ERROR_CODES


# -- tables ---------------------------------------------------------------------------------------

def table_meta(table_name: str, region: str, **timeouts: float) -> type:
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


def sorted_index(index_name: str, hash_key: str, range_key: str, range_attribute: Any = None) -> Any:
    """A global secondary index projecting every attribute, keyed by the string ``hash_key`` and
    sorted by ``range_key`` (a string unless ``range_attribute``, a pynamodb attribute class, says)."""
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.indexes import GlobalSecondaryIndex

    class_name = "".join(part.title() for part in index_name.split("_"))
    return type(class_name, (GlobalSecondaryIndex,), {
        "Meta": index_meta(index_name),
        hash_key: UnicodeAttribute(hash_key=True),
        range_key: (range_attribute or UnicodeAttribute)(range_key=True),
    })()


def transaction_connection(region: str, **timeouts: float) -> Any:
    """The connection pynamodb transactions go through, with the same timeouts as the models."""
    from pynamodb.connection import Connection

    return Connection(region=region, **{**FAST, **timeouts})


# -- errors ---------------------------------------------------------------------------------------

def storage_errors() -> tuple[type[BaseException], ...]:
    """Exceptions meaning "the table did not answer or refused" (pynamodb, botocore, sockets)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    return (PynamoDBException, BotoCoreError, ClientError, OSError)


def error_code(exc: BaseException) -> Optional[str]:
    code = getattr(exc, "cause_response_code", None)  # pynamodb wraps botocore's ClientError
    if code:
        return code
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def is_conditional_failure(exc: BaseException) -> bool:
    """A conditional put/update/delete whose condition did not hold."""
    return error_code(exc) == CONDITIONAL_CHECK_FAILED


def cancellation_codes(exc: BaseException) -> list[Optional[str]]:
    """Per-item codes of a cancelled transaction, in the order of its items."""
    reasons = getattr(exc, "cancellation_reasons", None)  # pynamodb TransactWriteError
    if reasons is not None:
        return [getattr(reason, "code", None) if reason is not None else None for reason in reasons]
    cause = getattr(exc, "cause", None) or exc
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return [(reason or {}).get("Code") for reason in response.get("CancellationReasons", [])]
    return []


def is_client_caused_error(exc: BaseException) -> bool:
    """A failed condition, a validation error, or a transaction cancelled only by conditions:
    errors the caller caused, which say nothing about DynamoDB's health.

    Wrapped errors count by their cause: a repository's ``raise StorageUnavailable(...) from exc``
    is client-caused when ``exc`` is.
    """
    seen = 0
    current: Optional[BaseException] = exc
    while current is not None and seen < 5:
        if _is_client_caused(current):
            return True
        current, seen = current.__cause__, seen + 1
    return False


def _is_client_caused(exc: BaseException) -> bool:
    code = error_code(exc)
    if code in CLIENT_ERROR_CODES:
        return True
    if code == "TransactionCanceledException":
        codes = [c for c in cancellation_codes(exc) if c and c != "None"]
        return bool(codes) and all(c in CLIENT_CANCELLATION_CODES for c in codes)
    return False
