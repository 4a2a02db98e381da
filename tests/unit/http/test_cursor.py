"""The SRE lists' page cursors: what one names, and every way a cursor is refused."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.http.cursor import (CursorRejected, Position, decode_cursor, encode_cursor, page,
                                    read_cursor)
from chalicelib.incidents.model import is_incident_id

AT, ID = "2026-01-05T09:00:00.000000Z", "inc-0123456789abcdef"
FILTERS = {"status": "resolved", "severity": None}


def _raw(document) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode("utf-8")).decode("ascii").rstrip("=")


def _document(**changes):
    return {"v": 1, "list": "incidents", "at": AT, "id": ID, "filters": {"status": "resolved"}, **changes}


def test_a_cursor_names_the_position_it_was_made_from():
    cursor = encode_cursor("incidents", Position(AT, ID), FILTERS)
    assert cursor.isascii() and "=" not in cursor
    assert decode_cursor(cursor, "incidents", FILTERS, is_incident_id) == Position(AT, ID)


def test_a_page_longer_than_the_limit_gives_the_cursor_of_its_last_shown_entry():
    entries = [Position(AT, f"inc-000000000000000{digit}") for digit in "321"]
    shown, cursor = page(entries, 2, lambda entry: entry, "incidents", FILTERS)
    assert shown == entries[:2]
    assert decode_cursor(cursor, "incidents", FILTERS, is_incident_id) == entries[1]
    assert page(entries, 3, lambda entry: entry, "incidents", FILTERS) == (entries, None)


@pytest.mark.parametrize("raw, says", [
    (_raw(_document(list="chaos experiments")), "another list"),
    (_raw(_document(v=0)), "older format"),
    (_raw(_document(v=True)), "older format"),
    (_raw({"created_at": AT, "id": ID}), "Not a cursor of this list"),  # the users list's cursor
    (_raw(_document(extra=1)), "Not a cursor of this list"),
    (_raw(_document(filters={})), "other filters"),
    (_raw(_document(filters=["status", "resolved"])), "filters are malformed"),
    (_raw(_document(filters={"status": 1})), "filters are malformed"),
    (_raw(_document(filters={"status": "resolved", "severity": "P1"})), "other filters"),
    # What a forged DynamoDB start key would need: another item's key, another partition's.
    (_raw(_document(id="FP#breaker:database")), "malformed"),
    (_raw(_document(id={"S": ID})), "malformed"),
    (_raw(_document(at={"S": "INCIDENT"})), "malformed"),
    (_raw(_document(at="2026-02-30T09:00:00Z")), "malformed"),
    (_raw(_document(at="2026-01-05 09:00:00")), "malformed"),
    (_raw(_document(at=AT + "x" * 1000)), "Longer than maximum length"),
    (_raw([AT, ID]), "Not a cursor of this list"),
    (_raw(_document())[:-6], "does not decode"),  # truncated
    ("A" * 5000, "Longer than maximum length"),
    ("not base64!", "Not a cursor"),
    ("bm90IGpzb24", "does not decode"),  # "not json"
    ("_-8", "does not decode"),  # not UTF-8
    ("A", "does not decode"),  # not a whole base64 quantum
    ("Y3Vyc29y\u00e9", "Not a cursor"),
    ("\u202eY3Vyc29y", "Not a cursor"),
    ("Y3Vy\ud800c29y", "Not a cursor"),
    ("Y3Vy\x00c29y", "Not a cursor"),
    ("\uff21\uff22", "Not a cursor"),  # full-width letters: isalnum(), not base64url
])
def test_a_cursor_not_given_out_by_this_list_for_these_filters_is_refused(raw, says):
    with pytest.raises(CursorRejected) as rejected:
        decode_cursor(raw, "incidents", FILTERS, is_incident_id)
    assert says in str(rejected.value)


def test_duplicate_keys_and_non_finite_numbers_are_refused():
    for text in ('{"v":1,"v":1,"list":"incidents","at":"%s","id":"%s","filters":{}}' % (AT, ID),
                 '{"v":NaN,"list":"incidents","at":"%s","id":"%s","filters":{}}' % (AT, ID)):
        raw = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        with pytest.raises(CursorRejected):
            decode_cursor(raw, "incidents", {}, is_incident_id)


def test_no_cursor_or_an_empty_one_is_the_first_page_and_a_refused_one_is_noted_under_cursor():
    errors: dict[str, list[str]] = {}
    assert read_cursor(None, "incidents", FILTERS, is_incident_id, errors) is None
    assert read_cursor("", "incidents", FILTERS, is_incident_id, errors) is None
    assert errors == {}
    assert read_cursor("nope!", "incidents", FILTERS, is_incident_id, errors) is None
    assert list(errors) == ["cursor"]
