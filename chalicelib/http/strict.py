"""Strict parsing of what clients send: integers in query strings and links, JSON bodies.

Python's ``str.isdigit`` accepts ``²`` and other Unicode digits that ``int`` rejects, and
``int`` refuses strings longer than 4300 digits; both used to escape as 500s. JSON's
``NaN``/``Infinity`` are not JSON (RFC 8259) yet ``json.loads`` accepts them, and a
duplicate key silently keeps the last value. Everything here answers "no" instead.
"""
from __future__ import annotations

import json
import math
import re
import sys
from typing import Any, Iterator, Optional

# Enough for any bound this service uses (epoch seconds, page sizes), far below int()'s limit.
MAX_INTEGER_DIGITS = 18
_ASCII_DIGITS = re.compile(r"[0-9]{1,%d}" % MAX_INTEGER_DIGITS)


def parse_bounded_int(raw: Optional[str], minimum: int, maximum: int) -> Optional[int]:
    """``raw`` as an int in ``[minimum, maximum]`` when it is 1-18 ASCII digits; None otherwise."""
    if not isinstance(raw, str) or not _ASCII_DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None


class StrictJsonError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as inf
        shown = text if len(text) <= 32 else f"a number of {len(text)} characters"  # not 16 KiB echoed back
        raise StrictJsonError(f"{shown} is out of range for a JSON number")
    return value


# A double's largest value has 309 digits; anything longer is beyond it without converting it
# (int() refuses over 4300 digits with advice about sys.set_int_max_str_digits for the client).
_DOUBLE_DIGITS = len(str(int(sys.float_info.max)))


def _int_within_double(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _DOUBLE_DIGITS or abs(value := int(text)) > sys.float_info.max:
        raise StrictJsonError(f"an integer of {digits} digits is out of range for a JSON number")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise StrictJsonError(f"duplicate key {key!r}")
        result[key] = value
    return result


def loads(text: str) -> Any:
    """``json.loads`` that rejects NaN, Infinity, numbers beyond a float and duplicate object keys.

    Raises ``ValueError`` (``json.JSONDecodeError`` or ``StrictJsonError``) and ``RecursionError``.
    """
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_int_within_double,
                      object_pairs_hook=_no_duplicate_keys)


def dumps(value: Any) -> str:
    """Compact JSON that refuses NaN and Infinity (``ValueError``) instead of writing invalid JSON."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _strings(value: Any) -> Iterator[tuple[list[Any], str]]:
    """Every string and key in a parsed JSON value, in document order, with its path (keys and
    indexes). A loop, not recursion: a body nested as deep as the parser allows stays a 4xx."""
    pending: list[tuple[list[Any], Any]] = [([], value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            yield path, item
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                pending.append(([*path, key], inner))
                pending.append(([*path, key], key))
        elif isinstance(item, list):
            pending.extend(([*path, index], inner) for index, inner in reversed(list(enumerate(item))))


def holds_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds, in any string or key, a lone surrogate: ``"\\ud800"`` is
    valid JSON but no Unicode text, and fails later where it is encoded as UTF-8 (DynamoDB, SNS)."""
    return any(_SURROGATE.search(text) for _, text in _strings(value))


# What free text (an incident's title or summary, a breaker's reason, an experiment's title) may not
# hold: C0 controls but tab and newline (it may span lines), DEL and the C1 controls (terminal escape
# sequences in a console or a log), the line and paragraph separators, and the bidirectional
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a page or the
# dashboard show text in an order other than the one it holds. The OpenAPI patterns say the same.
_REFUSED_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")
FREE_TEXT_RULE = "Must not contain control characters, line separators or bidirectional overrides."


def has_control_characters(text: str) -> bool:
    """Whether free text ``text`` holds a character it may not (``_REFUSED_IN_FREE_TEXT``)."""
    return _REFUSED_IN_FREE_TEXT.search(text) is not None


def first_string_with_control_characters(value: Any) -> Optional[list[Any]]:
    """The path (keys and indexes) of the first string or key in a parsed JSON value that
    ``has_control_characters``, or None."""
    return next((path for path, text in _strings(value) if has_control_characters(text)), None)
