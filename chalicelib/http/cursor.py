"""Opaque page cursors of the SRE lists (incidents, chaos experiments).

A list is read newest first by its index: a sort key (the time an entry was opened or started)
and the entry's id, which orders entries of the same microsecond (the index orders such ties by
the table's key, the id). A cursor is the ``Position`` of the last entry a page showed; the next
page starts strictly after it, so entries sharing a time are neither skipped nor shown twice,
and an entry added meanwhile (newer, hence before the position) never shifts what follows.

On the wire a cursor is base64url (no padding) of compact JSON naming the list, the format
version, the position and the filters of the request that produced it. It is not signed:
everything in it is checked strictly (types, formats, lengths, this list, these filters), and
the store builds its DynamoDB start key from the checked position and its own constant
partition, so a cursor a client made by hand can only start a page of the same list at a
position it names, as a ``before=`` query would; it cannot carry any other key.
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Callable, Mapping, NamedTuple, Optional, Sequence, TypeVar

from chalicelib.http import strict

CURSOR_VERSION = 1
# A cursor this module writes is ~150-250 characters; anything much longer is not one.
MAX_CURSOR_CHARS = 512
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# The times the lists are sorted by: ISO 8601 UTC as the services write them (seconds, or a
# fraction of up to six digits, then Z).
_UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_FIELDS = {"v", "list", "at", "id", "filters"}
START_AGAIN = "start again from the first page (no cursor)"

Entry = TypeVar("Entry")


class Position(NamedTuple):
    """Where a page ended: the sort key (ISO time) and id of its last entry."""

    at: str
    id: str


class CursorRejected(ValueError):
    """The cursor is not one this list gave out for these filters; the message says why."""


def _filters(filters: Mapping[str, Optional[str]]) -> dict[str, str]:
    return {name: value for name, value in filters.items() if value is not None}


def encode_cursor(listing: str, position: Position, filters: Mapping[str, Optional[str]]) -> str:
    document = {"v": CURSOR_VERSION, "list": listing, "at": position.at, "id": position.id,
                "filters": _filters(filters)}
    return base64.urlsafe_b64encode(strict.dumps(document).encode("utf-8")).decode("ascii").rstrip("=")


def _is_utc_time(value: object) -> bool:
    if not isinstance(value, str) or not _UTC_TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # 2026-02-30 and the like
        return False
    return True


def decode_cursor(raw: str, listing: str, filters: Mapping[str, Optional[str]],
                  is_id: Callable[[str], bool]) -> Position:
    """The position ``raw`` names; raises CursorRejected unless this list wrote it for ``filters``."""
    if len(raw) > MAX_CURSOR_CHARS:
        raise CursorRejected(f"Longer than maximum length {MAX_CURSOR_CHARS}: not a cursor of this list; "
                             f"{START_AGAIN}.")
    if not raw.isascii() or not _BASE64URL.fullmatch(raw):
        raise CursorRejected("Not a cursor: pass the next_cursor of the previous page as it was "
                             "(letters, digits, '-' and '_').")
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8")
        document = strict.loads(text)
    except (binascii.Error, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise CursorRejected(f"Not a cursor of this list (it does not decode); {START_AGAIN}.") from None
    if not isinstance(document, dict) or set(document) != _FIELDS:
        raise CursorRejected(f"Not a cursor of this list; {START_AGAIN}.")
    if type(document["v"]) is not int or document["v"] != CURSOR_VERSION:
        raise CursorRejected(f"A cursor of an older format; {START_AGAIN}.")
    if document["list"] != listing:
        raise CursorRejected(f"A cursor of another list, not of {listing}; {START_AGAIN}.")
    at, entry_id = document["at"], document["id"]
    if not _is_utc_time(at) or not isinstance(entry_id, str) or not is_id(entry_id):
        raise CursorRejected(f"Not a cursor of this list (its position is malformed); {START_AGAIN}.")
    sent, wanted = document["filters"], _filters(filters)
    if not isinstance(sent, dict) or not all(isinstance(value, str) for value in sent.values()):
        raise CursorRejected(f"Not a cursor of this list (its filters are malformed); {START_AGAIN}.")
    if sent != wanted:
        shown = ", ".join(f"{name}={value}" for name, value in sorted(wanted.items())) or "no filter"
        raise CursorRejected(f"This cursor was given out for other filters; send it with the same filters as "
                             f"the request that returned it (this request has {shown}), or {START_AGAIN}.")
    return Position(at, entry_id)


def read_cursor(raw: Optional[str], listing: str, filters: Mapping[str, Optional[str]],
                is_id: Callable[[str], bool], errors: dict[str, list[str]]) -> Optional[Position]:
    """The position of the ``cursor`` query parameter (absent or empty: the first page, None); a
    rejected cursor is noted in ``errors`` under ``cursor``."""
    if not raw:
        return None
    try:
        return decode_cursor(raw, listing, filters, is_id)
    except CursorRejected as rejected:
        errors["cursor"] = [str(rejected)]
        return None


def page(entries: Sequence[Entry], limit: int, position_of: Callable[[Entry], Position], listing: str,
         filters: Mapping[str, Optional[str]]) -> tuple[Sequence[Entry], Optional[str]]:
    """``entries`` read with ``limit + 1``: the page to show and the cursor of the next one (None
    when nothing follows, so the last page says so without an empty page after it)."""
    if len(entries) <= limit:
        return entries, None
    shown = entries[:limit]
    return shown, encode_cursor(listing, position_of(shown[-1]), filters)
