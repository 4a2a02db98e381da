"""Reading request bodies strictly: every way a body can be wrong is a 4xx that says why."""
from __future__ import annotations

from typing import Any, Iterable

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


def check_body_size(request: Any) -> bytes:
    raw = _raw_body(request)
    from chalicelib.wiring import current

    limit = current().settings.service.max_body_bytes
    if len(raw) > limit:
        raise ApiError(f"Request body is {len(raw)} bytes; the limit is {limit} bytes", status_code=413)
    return raw


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
        raise ApiError(f"Request body must be a JSON object, not {type(body).__name__}")
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
