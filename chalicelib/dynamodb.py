"""What every DynamoDB store of this service shares, through pynamodb: the table ``Meta``
bound at runtime, the transaction connection, and how an error is classified.

Heavy imports (pynamodb, botocore) happen inside the functions, on first use.
"""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.errors import error_chain

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


def with_client_built(model: Any) -> Any:
    """``model`` (a pynamodb model class), its connection's botocore client built now.

    pynamodb builds it on first use, and first uses by several threads at once (a server's) each
    build one: ~50 ms of CPU and a service model's ~40,000 objects apiece, the first burst of creates
    after a start building eight. Call where a lock is held, as in the wiring's cached properties."""
    model._get_connection().connection.client  # noqa: B018 - built now, once
    return model


def parse_attribute_values_directly(connection: Any) -> None:
    """Build ``connection``'s botocore client (a pynamodb ``Connection``) with the parser below.

    Call before the connection's client is first used: pynamodb builds it from the calling
    thread's botocore session, where the parser factory is registered here."""
    connection.session.register_component("response_parser_factory", _attribute_value_parser_factory())
    connection.client  # noqa: B018 - built now, from this session


def _attribute_value_parser_factory() -> Any:
    """botocore's parser factory, with a JSON parser that converts ``AttributeValue``s directly.

    Written by hand because botocore parses each attribute value of a result as a generic tagged
    union: it copies the value, lists the union's ten member names to check the tag is known, then
    looks up each of the ten members; that was ~2.4 ms of the ~4 ms a page of 100 users cost the
    app. Here a value with one known tag and a value of the expected JSON type is converted as
    botocore converts it (strings, numbers, booleans and null as they are, binaries through the
    parser's own blob parser, sets and lists element by element keeping nulls, maps and lists of
    values recursively), and so is an item's map of names to values; an item whose values are all
    plain scalars is already what botocore would build and is kept as it is (a page of 101 users
    parsed in 1.43 ms, now 0.53, of which 0.26-0.39 ms is ``json.loads``); anything else goes to
    botocore's own parsing (tests/unit compare the two on every kind of value)."""
    from botocore.parsers import JSONParser, ResponseParserFactory

    class AttributeValueJSONParser(JSONParser):
        def _handle_map(self, shape: Any, value: Any) -> Any:
            # An item (name -> value): names are strings, which botocore's JSON parser keeps as they are.
            if shape.value.name == "AttributeValue" and shape.key.type_name == "string" and type(value) is dict:
                if _holds_plain_values_only(value):
                    return value  # already what botocore would build (the answer's JSON is ours alone)
                value_shape = shape.value
                return {name: self._handle_structure(value_shape, element) for name, element in value.items()}
            return super()._handle_map(shape, value)

        def _handle_structure(self, shape: Any, value: Any) -> Any:
            if shape.name == "AttributeValue" and type(value) is dict and len(value) == 1:
                [(tag, raw)] = value.items()
                converted = self._attribute_value(shape, tag, raw)
                if converted is not None:
                    return converted
            return super()._handle_structure(shape, value)

        def _attribute_value(self, shape: Any, tag: str, raw: Any) -> Optional[dict[str, Any]]:
            if raw is None:
                return None
            if tag in _PLAIN_ATTRIBUTE_TAGS:
                return {tag: raw}
            if type(raw) is list:
                if tag in _PLAIN_SET_TAGS:
                    return {tag: list(raw)}
                if tag == "BS":
                    return {tag: [None if element is None else self._blob_parser(element) for element in raw]}
                if tag == "L":
                    return {tag: [None if element is None else self._handle_structure(shape, element)
                                  for element in raw]}
                return None
            if tag == "M" and type(raw) is dict:
                return {tag: {key: None if element is None else self._handle_structure(shape, element)
                              for key, element in raw.items()}}
            if tag == "B":
                return {tag: self._blob_parser(raw)}
            return None

    class AttributeValueParserFactory(ResponseParserFactory):
        def create_parser(self, protocol_name: str) -> Any:
            if protocol_name == "json":
                return AttributeValueJSONParser(**self._defaults)
            return super().create_parser(protocol_name)

    return AttributeValueParserFactory()


_PLAIN_ATTRIBUTE_TAGS = frozenset({"S", "N", "BOOL", "NULL"})
_PLAIN_SET_TAGS = frozenset({"SS", "NS"})


def _holds_plain_values_only(item: dict[str, Any]) -> bool:
    """Whether every value of ``item`` is one string, number, boolean or null, tagged: botocore
    parses such a value into an equal dict, so the item needs no copy (a user is all strings)."""
    for element in item.values():
        if type(element) is not dict or len(element) != 1:
            return False
        for tag, raw in element.items():
            if tag not in _PLAIN_ATTRIBUTE_TAGS or raw is None:
                return False
    return True


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
    # Not the implicit chain: an error raised while a refused condition was being handled is not the client's.
    return any(_is_client_caused(seen) for seen in error_chain(exc, implicit=False))


def _is_client_caused(exc: BaseException) -> bool:
    code = error_code(exc)
    if code in CLIENT_ERROR_CODES:
        return True
    if code == "TransactionCanceledException":
        codes = [c for c in cancellation_codes(exc) if c and c != "None"]
        return bool(codes) and all(c in CLIENT_CANCELLATION_CODES for c in codes)
    return False
