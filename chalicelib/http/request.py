"""Reading request bodies strictly: every way a body can be wrong is a 4xx that says why."""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from chalicelib.http import strict
from chalicelib.http.errors import ApiError, ValidationFailed


def _raw_body(request: Any) -> bytes:
    raw = request.raw_body
    if raw is None:
        return b""
    return raw if isinstance(raw, bytes) else str(raw).encode("utf-8")


def check_content_encoding(request: Any) -> None:
    """A compressed body would otherwise be read as text: "not valid UTF-8", which blames the wrong thing."""
    encoding = (request.headers or {}).get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity") and _raw_body(request):
        raise ApiError(f"Content-Encoding {encoding} is not supported; send the body uncompressed", status_code=415)


# JSON is UTF-8 (RFC 8259 8.1), and so are the forms read here: a body declared in another charset
# would be read as UTF-8 all the same, and bytes valid in both would silently change meaning.
UTF8_CHARSETS = ("utf-8", "us-ascii")


def check_content_type(request: Any, accepted: Optional[Sequence[str]]) -> None:
    """The Content-Type as the header states it (Chalice accepted any of its comma- or
    semicolon-separated parts, "text/plain, application/json" or "*/*", and ignored the charset),
    when there is a body to read: without one it describes nothing. A body sent without one is
    read as JSON, as API Gateway and Chalice do."""
    if accepted is None or "*/*" in accepted or not _raw_body(request):
        return
    raw = (request.headers or {}).get("content-type", "application/json")
    accepts = " or ".join(accepted)
    media_type, *parameters = (part.strip() for part in raw.split(";"))
    if not media_type:
        raise ApiError(f"Content-Type is empty; this endpoint accepts {accepts}", status_code=415)
    if media_type.lower() not in (kind.lower() for kind in accepted):
        raise ApiError(f"Unsupported media type: {raw.strip()}; this endpoint accepts {accepts}", status_code=415)
    seen: set[str] = set()
    for parameter in parameters:
        name, equals, value = parameter.partition("=")
        name = name.strip().lower()
        if not name or not equals:  # RFC 9110 5.6.6: parameter = name "=" value
            raise ApiError(f"Content-Type is malformed: {parameter!r} is not a name=value parameter")
        if name in seen:
            raise ApiError(f"Content-Type is malformed: parameter {name!r} is given more than once")
        seen.add(name)
        charset = value.strip().strip('"')
        if name == "charset" and charset.lower() not in UTF8_CHARSETS:
            raise ApiError(f"Charset {charset or '(empty)'} is not supported; send the body as UTF-8 "
                           "(charset=utf-8)", status_code=415)


def check_body_size(request: Any) -> bytes:
    raw = _raw_body(request)
    from chalicelib.wiring import current

    limit = current().settings.service.max_body_bytes
    if len(raw) > limit:
        raise ApiError(f"Request body is {len(raw)} bytes; the limit is {limit} bytes", status_code=413)
    return raw


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words (a client knows no Python type names)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


def json_object(request: Any, *, allowed: Iterable[str] | None = None) -> dict[str, Any]:
    """The body as a JSON object; 413 when too large, 400 when not strict JSON or not an object.

    With ``allowed``, any other top-level field is a validation error.
    """
    raw = check_body_size(request)
    if not raw.strip():
        raise ApiError("Request body is empty; expected a JSON object")
    try:
        body = strict.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError("Request body is not valid UTF-8") from None
    except ValueError as exc:
        raise ApiError(f"Request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError("Request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(f"Request body must be a JSON object, not {json_kind(body)}")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise ApiError("Validation failed", details={name: ["Unknown field."] for name in unknown})
    broken = sorted(name if not strict.holds_lone_surrogate(name) else "(field name)"
                    for name, value in body.items() if strict.holds_lone_surrogate({name: value}))
    if broken:
        raise ValidationFailed({name: ["Must be Unicode text: holds a lone surrogate (\\ud800-\\udfff)."]
                                for name in broken})
    return body


def query_int(params: Any, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole-number query parameter: absent gives ``default``; anything but 1-18 ASCII
    digits within ``[minimum, maximum]`` is a 400 naming the parameter and the range."""
    raw = (params or {}).get(name)
    if raw is None:
        return default
    value = strict.parse_bounded_int(raw, minimum, maximum)
    if value is None:
        raise ValidationFailed({name: [f"Must be a whole number from {minimum} to {maximum}."]})
    return value


def known_query(request: Any, allowed: Iterable[str] = ()) -> dict[str, str]:
    """The query parameters, when each is one the endpoint takes (``allowed``); any other is a 400
    naming it (never silently ignored)."""
    params = dict(request.query_params or {})
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ApiError("Validation failed", details={name: ["Unknown query parameter."] for name in unknown})
    return params


def no_query(request: Any) -> None:
    """An endpoint that takes no query parameters."""
    known_query(request)


def no_body(request: Any) -> None:
    """An endpoint that takes no body: none, or an empty JSON object (JSON's own whitespace around it)."""
    raw = request.raw_body
    if not raw or not raw.strip(b" \t\n\r"):
        return
    if json_object(request):
        raise ApiError("Validation failed", details={"body": ["This endpoint takes no body (or an empty object)."]})
