"""Which DynamoDB errors the caller caused (and so say nothing about DynamoDB's health)."""
from __future__ import annotations

from typing import Any, Optional

CLIENT_ERROR_CODES = frozenset({"ConditionalCheckFailedException", "ValidationException"})
# Codes of TransactWriteItems ``CancellationReasons`` (they have no "Exception" suffix).
CLIENT_CANCELLATION_CODES = frozenset({"ConditionalCheckFailed", "ValidationError"}) | CLIENT_ERROR_CODES


def _error_code(exc: BaseException) -> Optional[str]:
    code = getattr(exc, "cause_response_code", None)  # pynamodb wraps botocore's ClientError
    if code:
        return code
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def _cancellation_codes(exc: BaseException) -> list[Optional[str]]:
    reasons = getattr(exc, "cancellation_reasons", None)  # pynamodb TransactWriteError
    if reasons is not None:
        return [getattr(reason, "code", None) if reason is not None else None for reason in reasons]
    cause = getattr(exc, "cause", None) or exc
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return [(reason or {}).get("Code") for reason in response.get("CancellationReasons", [])]
    return []


def is_client_caused_dynamodb_error(exc: BaseException) -> bool:
    """A failed condition, a validation error, or a transaction cancelled only by conditions.

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
    code = _error_code(exc)
    if code in CLIENT_ERROR_CODES:
        return True
    if code == "TransactionCanceledException":
        codes = [c for c in _cancellation_codes(exc) if c and c != "None"]
        return bool(codes) and all(c in CLIENT_CANCELLATION_CODES for c in codes)
    return False
