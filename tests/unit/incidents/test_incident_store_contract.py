"""One contract for the incident store port, run against the DynamoDB store and the in-memory one."""
from __future__ import annotations

import pytest

from chalicelib.incidents.model import IncidentMissing, TimelineEvent, TransitionRejected
from tests.support.golden import golden

AT = "2026-01-05T09:00:00.000000Z"


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        from tests.support.incidents import InMemoryIncidentStore

        return InMemoryIncidentStore()
    return request.getfixturevalue("incidents_table")


def incident(id="inc-0123456789abcdef", fingerprint="breaker:database", opened_at=AT, **fields):
    from dataclasses import replace

    from chalicelib.incidents.model import Incident

    base = Incident.from_json(golden("incident"))
    return replace(base, id=id, fingerprint=fingerprint, opened_at=opened_at, status="triggered",
                   acknowledged_at=None, acknowledged_by=None, mitigated_at=None, resolved_at=None,
                   resolved_by=None, escalation_level=0, escalation_status="not_started", escalation_execution=None,
                   open_signals=(fingerprint,), timeline=base.timeline[:1], **fields)


def event(kind="note", at="2026-01-05T09:01:00.000000Z", actor=None):
    return TimelineEvent(at=at, kind=kind, message=kind, actor=actor)


def test_a_created_incident_reads_back_as_it_was_written(store):
    created, new = store.create(incident())
    assert new and store.get(created.id) == created


def test_one_open_incident_per_fingerprint(store):
    first, _ = store.create(incident())
    again, created = store.create(incident(id="inc-fedcba9876543210"))
    assert (created, again.id) == (False, first.id)
    assert store.open_incident_for("breaker:database").id == first.id


def test_resolving_frees_the_fingerprint(store):
    store.create(incident())
    resolved, changed = store.transition("inc-0123456789abcdef", "resolved", event("resolved"), "alice")
    assert changed and resolved.resolved_by == "alice" and resolved.mitigated_at == resolved.resolved_at
    assert store.open_incident_for("breaker:database") is None
    _, created = store.create(incident(id="inc-fedcba9876543210"))
    assert created


def test_moving_back_or_out_of_resolved_is_refused_or_a_no_op(store):
    store.create(incident())
    store.transition("inc-0123456789abcdef", "mitigated", event("mitigated"), "alice")
    same, changed = store.transition("inc-0123456789abcdef", "acknowledged", event("acknowledged"), "bob")
    assert not changed and same.acknowledged_by == "alice"
    store.transition("inc-0123456789abcdef", "resolved", event("resolved"), "alice")
    with pytest.raises(TransitionRejected):
        store.transition("inc-0123456789abcdef", "acknowledged", event("acknowledged"), "bob")


def test_a_missing_incident_is_reported(store):
    with pytest.raises(IncidentMissing):
        store.get("inc-0000000000000000")
    with pytest.raises(IncidentMissing):
        store.transition("inc-0000000000000000", "acknowledged", event(), "alice")


def test_append_adds_to_the_timeline_and_sets_fields(store):
    store.create(incident())
    updated = store.append("inc-0123456789abcdef", event("paged"), escalation_level=2, escalation_status="paging")
    assert updated.timeline[-1].kind == "paged" and (updated.escalation_level, updated.escalation_status) == (
        2, "paging")


def test_a_retrigger_counts_and_adds_its_signal_only_while_open(store):
    store.create(incident())
    updated = store.record_retrigger("inc-0123456789abcdef", event("retriggered"), "alert-2")
    assert updated.trigger_count == 2 and set(updated.open_signals) == {"breaker:database", "alert-2"}
    store.transition("inc-0123456789abcdef", "resolved", event("resolved"), "alice")
    assert store.record_retrigger("inc-0123456789abcdef", event("retriggered"), "alert-3") is None


def test_clearing_a_signal_keeps_the_others(store):
    store.create(incident())
    store.record_retrigger("inc-0123456789abcdef", event("retriggered"), "alert-2")
    updated = store.clear_signal("inc-0123456789abcdef", "breaker:database", event("recovered"))
    assert updated.open_signals == ("alert-2",)


def test_the_ack_token_is_stored_only_while_triggered(store):
    store.create(incident())
    waiting = store.await_ack("inc-0123456789abcdef", event("awaiting_ack"), "token-1", "arn:exec")
    assert (waiting.task_token, waiting.escalation_status) == ("token-1", "awaiting_ack")
    store.transition("inc-0123456789abcdef", "acknowledged", event("acknowledged"), "alice")
    assert store.await_ack("inc-0123456789abcdef", event("awaiting_ack"), "token-2", None) is None


def test_an_ack_link_is_used_once(store):
    store.create(incident())
    assert store.use_ack_link("inc-0123456789abcdef", "a" * 16) is True
    assert store.use_ack_link("inc-0123456789abcdef", "a" * 16) is False


def test_whether_an_ack_link_was_used_is_read_without_using_it(store):
    store.create(incident())
    assert store.ack_link_used("inc-0123456789abcdef", "a" * 16) is False
    store.use_ack_link("inc-0123456789abcdef", "a" * 16)
    assert store.ack_link_used("inc-0123456789abcdef", "a" * 16) is True
    assert store.ack_link_used("inc-0123456789abcdef", "b" * 16) is False


def test_a_released_ack_link_may_be_used_again(store):
    store.create(incident())
    store.use_ack_link("inc-0123456789abcdef", "a" * 16)
    store.use_ack_link("inc-0123456789abcdef", "b" * 16)
    store.release_ack_link("inc-0123456789abcdef", "a" * 16)
    assert store.use_ack_link("inc-0123456789abcdef", "a" * 16) is True
    assert store.use_ack_link("inc-0123456789abcdef", "b" * 16) is False


def test_listing_is_newest_first_and_filters(store):
    store.create(incident(id="inc-000000000000000a", fingerprint="a", opened_at="2026-01-05T09:00:00.000000Z"))
    store.create(incident(id="inc-000000000000000b", fingerprint="b", opened_at="2026-01-05T10:00:00.000000Z",
                          severity="P1"))
    store.transition("inc-000000000000000a", "resolved", event("resolved"), "alice")
    assert [i.id for i in store.list()] == ["inc-000000000000000b", "inc-000000000000000a"]
    assert [i.id for i in store.list(status="resolved")] == ["inc-000000000000000a"]
    assert [i.id for i in store.list(severity="P1")] == ["inc-000000000000000b"]
    assert [i.id for i in store.list(since="2026-01-05T09:30:00.000000Z")] == ["inc-000000000000000b"]
    assert len(store.list(limit=1)) == 1


def test_open_before_lists_only_unresolved_incidents_opened_before_the_time(store):
    for letter, hour in (("a", "08"), ("b", "09"), ("c", "10"), ("d", "11")):
        store.create(incident(id=f"inc-000000000000000{letter}", fingerprint=letter,
                              opened_at=f"2026-01-05T{hour}:00:00.000000Z"))
    store.transition("inc-000000000000000b", "resolved", event("resolved"), "alice")
    store.transition("inc-000000000000000c", "acknowledged", event("acknowledged"), "alice")
    assert [i.id for i in store.open_before("2026-01-05T11:00:00.000000Z")] == [
        "inc-000000000000000c", "inc-000000000000000a"]


# Opened in one microsecond (as every incident is under a frozen clock) and created out of id order:
# the index orders ties by id, highest first, and so must every store.
TIE = "2026-01-05T10:00:00.000000Z"
PAGED = (("inc-00000000000000c1", "2026-01-05T11:00:00.000000Z"), ("inc-00000000000000b2", TIE),
         ("inc-00000000000000f3", TIE), ("inc-00000000000000a4", TIE), ("inc-00000000000000d5", TIE),
         ("inc-00000000000000e6", "2026-01-05T09:00:00.000000Z"))
NEWEST_FIRST = ["inc-00000000000000c1", "inc-00000000000000f3", "inc-00000000000000d5", "inc-00000000000000b2",
                "inc-00000000000000a4", "inc-00000000000000e6"]


def _create_paged(store):
    for incident_id, opened_at in PAGED:
        store.create(incident(id=incident_id, fingerprint=incident_id, opened_at=opened_at))


def _page_through(store, limit, after=None, **filters):
    """The ids of every page from ``after`` on, each read with ``limit`` (the last one is shorter)."""
    from chalicelib.http.cursor import Position

    seen = []
    while True:
        page = store.list(limit=limit, after=after, **filters)
        seen += [found.id for found in page]
        if len(page) < limit:
            return seen
        after = Position(page[-1].opened_at, page[-1].id)


def test_paging_yields_every_incident_once_newest_first_ties_by_id(store):
    _create_paged(store)
    assert [found.id for found in store.list()] == NEWEST_FIRST
    assert _page_through(store, 2) == NEWEST_FIRST
    assert _page_through(store, 4) == NEWEST_FIRST


def test_filters_apply_on_every_page(store):
    _create_paged(store)
    for incident_id in ("inc-00000000000000f3", "inc-00000000000000a4", "inc-00000000000000e6"):
        store.transition(incident_id, "resolved", event("resolved"), "alice")
    assert _page_through(store, 1, status="resolved") == [
        "inc-00000000000000f3", "inc-00000000000000a4", "inc-00000000000000e6"]


def test_an_incident_opened_between_pages_neither_repeats_nor_skips_older_ones(store):
    from chalicelib.http.cursor import Position

    _create_paged(store)
    first = store.list(limit=3)
    # Newer than the whole list, and one in the tie that sorts before the page's end (so "newer").
    store.create(incident(id="inc-0000000000000007", fingerprint="new", opened_at="2026-01-05T12:00:00.000000Z"))
    store.create(incident(id="inc-00000000000000ff", fingerprint="tie", opened_at=TIE))
    rest = _page_through(store, 2, after=Position(first[-1].opened_at, first[-1].id))
    assert [found.id for found in first] + rest == NEWEST_FIRST


def test_a_position_older_than_since_lists_nothing(store):
    from chalicelib.http.cursor import Position

    _create_paged(store)
    assert store.list(since=TIE, after=Position("2026-01-05T09:30:00.000000Z", "inc-00000000000000e6")) == []
    assert [found.id for found in store.list(since=TIE, after=Position(TIE, "inc-00000000000000d5"))] == [
        "inc-00000000000000b2", "inc-00000000000000a4"]


def test_a_lost_escalation_is_taken_over_once_and_only_while_triggered(store):
    lost = "arn:aws:states:us-east-1:123456789012:execution:escalation:lost"
    created, _ = store.create(incident())
    store.await_ack(created.id, event("awaiting_ack"), "token", lost)
    taken = store.take_over_escalation(created.id, lost, event("escalation_lost"))
    assert (taken.escalation_status, taken.task_token, taken.timeline[-1].kind) == (
        "resuming", None, "escalation_lost")
    store.append(created.id, event("escalation_started"), escalation_execution=f"{lost}-again")
    assert store.take_over_escalation(created.id, lost, event("escalation_lost")) is None  # taken already
    store.transition(created.id, "acknowledged", event("acknowledged", actor="alice"), "alice")
    assert store.take_over_escalation(created.id, f"{lost}-again", event("escalation_lost")) is None
