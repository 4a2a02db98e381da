"""One contract for every experiment journal: the in-memory fake and DynamoDB."""
import time
from dataclasses import replace

import pytest

from chalicelib.chaos.journal import (ExperimentFinished, ExperimentMissing, ExperimentRecord, MemoryJournal,
                                      TargetBusy)
from tests.support.golden import check_golden, golden


@pytest.fixture(params=["memory", "dynamodb"])
def journal(request):
    if request.param == "memory":
        return MemoryJournal()
    request.getfixturevalue("tables")
    return request.getfixturevalue("wired").chaos_journal


def record(experiment_id="exp-000000000001", targets=("database",), ends_in=300.0, started_at="2026-12-05T02:00:00Z"):
    return ExperimentRecord.from_json({**golden("chaos_experiment"), "id": experiment_id, "targets": list(targets),
                                       "status": "running", "ends_by": time.time() + ends_in,
                                       "started_at": started_at})


def test_the_journal_record_matches_its_golden_json():
    produced = ExperimentRecord.from_json(golden("chaos_experiment"))
    check_golden("chaos_experiment", produced.to_json())


def test_a_created_record_reads_back_and_holds_its_targets(journal):
    created = record()
    journal.create(created, time.time())
    assert journal.get(created.id) == created
    assert journal.running_on(time.time()) == {"database": created.id}


def test_a_second_experiment_on_a_held_target_is_refused(journal):
    journal.create(record(), time.time())
    with pytest.raises(TargetBusy) as busy:
        journal.create(record("exp-000000000002", targets=("webhook", "database")), time.time())
    assert (busy.value.target, busy.value.experiment_id) == ("database", "exp-000000000001")
    with pytest.raises(ExperimentMissing):
        journal.get("exp-000000000002")


def test_an_expired_lock_frees_its_target_even_if_nobody_released_it(journal):
    journal.create(record(ends_in=-1), time.time())
    assert journal.running_on(time.time()) == {}
    journal.create(record("exp-000000000002"), time.time())


def test_released_targets_are_free_and_someone_elses_lock_stays(journal):
    first = record()
    journal.create(first, time.time())
    journal.release(first)
    second = record("exp-000000000002")
    journal.create(second, time.time())
    journal.release(first)
    assert journal.running_on(time.time()) == {"database": second.id}


def test_saved_changes_are_read_back_and_listed_newest_first(journal):
    older, newer = record(started_at="2026-12-05T01:00:00Z"), record("exp-000000000002", targets=("webhook",))
    journal.create(older, time.time())
    journal.create(newer, time.time())
    journal.update(older.id, lambda stored: replace(stored, status="completed", reason="fine"))
    assert journal.get(older.id).status == "completed"
    assert [r.id for r in journal.listing(10)] == [newer.id, older.id]
    assert [r.id for r in journal.listing(1)] == [newer.id]


# Started in one instant and created out of id order: the index's started_at#id orders ties by id.
TIE = "2026-12-05T02:00:00Z"
PAGED = (("exp-0000000000c1", "2026-12-05T03:00:00Z"), ("exp-0000000000b2", TIE), ("exp-0000000000f3", TIE),
         ("exp-0000000000a4", TIE), ("exp-0000000000e5", "2026-12-05T01:00:00.50Z"))
NEWEST_FIRST = ["exp-0000000000c1", "exp-0000000000f3", "exp-0000000000b2", "exp-0000000000a4", "exp-0000000000e5"]


def _page_through(journal, limit, after=None):
    """The ids of every page from ``after`` on, each read with ``limit`` (the last one is shorter)."""
    from chalicelib.http.cursor import Position

    seen = []
    while True:
        page = journal.listing(limit, after)
        seen += [found.id for found in page]
        if len(page) < limit:
            return seen
        after = Position(page[-1].started_at, page[-1].id)


def test_paging_yields_every_experiment_once_newest_first_ties_by_id(journal):
    for experiment_id, started_at in PAGED:
        journal.create(record(experiment_id, targets=(experiment_id,), started_at=started_at), time.time())
    assert [found.id for found in journal.listing(10)] == NEWEST_FIRST
    assert _page_through(journal, 2) == NEWEST_FIRST


def test_an_experiment_started_between_pages_neither_repeats_nor_skips_older_ones(journal):
    from chalicelib.http.cursor import Position

    for experiment_id, started_at in PAGED:
        journal.create(record(experiment_id, targets=(experiment_id,), started_at=started_at), time.time())
    first = journal.listing(2)
    journal.create(record("exp-0000000000ff", targets=("new",), started_at=TIE), time.time())
    rest = _page_through(journal, 2, Position(first[-1].started_at, first[-1].id))
    assert [found.id for found in first] + rest == NEWEST_FIRST


def test_an_unknown_experiment_is_missing(journal):
    with pytest.raises(ExperimentMissing):
        journal.get("exp-ffffffffffff")


def test_a_finished_record_is_not_changed_by_a_late_writer(journal):
    created = record()
    journal.create(created, time.time())
    journal.update(created.id, lambda stored: replace(stored, status="aborted", reason="stopped by ops"))
    with pytest.raises(ExperimentFinished) as finished:
        journal.update(created.id, lambda stored: stored.with_event("2026-12-05T02:01:00Z", "injected"))
    assert finished.value.record.status == "aborted"
    assert (journal.get(created.id).status, journal.get(created.id).timeline) == ("aborted", created.timeline)


def test_the_finisher_may_still_add_to_the_record_it_finished(journal):
    created = record()
    journal.create(created, time.time())
    journal.update(created.id, lambda stored: replace(stored, status="aborted"))
    journal.update(created.id, lambda stored: stored.with_event("2026-12-05T02:01:00Z", "rolled_back"),
                   while_status="aborted")
    assert journal.get(created.id).timeline[-1]["event"] == "rolled_back"


def test_a_writer_that_read_before_another_wrote_redoes_its_change_on_what_was_written(tables, wired):
    # DynamoDB only: the in-memory journal changes a record under one lock, so no writer gets in between.
    journal = wired.chaos_journal
    created = record()
    journal.create(created, time.time())
    seen = []

    def note_execution(stored):
        seen.append(stored.execution_arn)
        if len(seen) == 1:  # another writer gets in between this read and this write
            journal.update(created.id, lambda other: other.with_event("2026-12-05T02:00:05Z", "steady_state_before"))
        return replace(stored, execution_arn="arn:execution")

    journal.update(created.id, note_execution)
    stored = journal.get(created.id)
    assert len(seen) == 2
    assert (stored.execution_arn, stored.timeline[-1]["event"]) == ("arn:execution", "steady_state_before")
