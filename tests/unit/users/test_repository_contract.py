"""One contract, run against every user store: DynamoDB (moto) and PostgreSQL (a real server)."""
import threading

import pytest

from chalicelib.users.repository import EmailTaken, InvalidCursor, UserChangedConcurrently, UserMissing
from chalicelib.users.validation import validate_user

MISSING_ID = "0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1"


def user_input(name="Ada", email="ada@example.com"):
    return validate_user({"name": name, "email": email})


def test_a_created_user_can_be_read_back(repository):
    created = repository.create(user_input())
    assert repository.get(created.id) == created


def test_an_unknown_id_reads_as_none(repository):
    assert repository.get(MISSING_ID) is None


def test_an_email_is_unique_ignoring_case(repository):
    repository.create(user_input(email="ada@example.com"))
    with pytest.raises(EmailTaken):
        repository.create(user_input(email="ADA@example.com"))


def test_concurrent_creates_with_one_email_store_one_user(repository):
    outcomes = []

    def create(index):
        try:
            repository.create(user_input(name=f"Racer {index}", email="race@example.com"))
            outcomes.append("created")
        except EmailTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=create, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["taken"] * 9
    assert len(repository.list_page(100, None).users) == 1


def test_update_changes_fields_and_keeps_created_at(repository):
    created = repository.create(user_input())
    updated = repository.update(created.id, user_input(name="Countess", email="countess@example.com"))
    assert (updated.name, updated.email, updated.created_at) == ("Countess", "countess@example.com",
                                                                 created.created_at)
    assert updated.updated_at
    assert repository.get(created.id).email == "countess@example.com"


def test_update_to_a_taken_email_is_refused_and_changes_nothing(repository):
    repository.create(user_input(email="taken@example.com"))
    mine = repository.create(user_input(email="mine@example.com"))
    with pytest.raises(EmailTaken):
        repository.update(mine.id, user_input(name="New", email="taken@example.com"))
    assert repository.get(mine.id) == mine


def test_update_frees_the_old_email(repository):
    created = repository.create(user_input(email="old@example.com"))
    repository.update(created.id, user_input(email="new@example.com"))
    repository.create(user_input(email="old@example.com"))


def test_update_of_a_missing_user_raises(repository):
    with pytest.raises(UserMissing):
        repository.update(MISSING_ID, user_input())


def test_delete_removes_the_user_and_frees_the_email(repository):
    created = repository.create(user_input())
    repository.delete(created.id)
    assert repository.get(created.id) is None
    repository.create(user_input())


def test_delete_of_a_missing_user_raises(repository):
    with pytest.raises(UserMissing):
        repository.delete(MISSING_ID)


def test_a_listed_user_reads_as_a_read_by_id_answers_it(repository):
    updated = repository.create(user_input(name="Ada", email="ada@example.com"))
    repository.update(updated.id, user_input(name="Countess", email="countess@example.com"))
    untouched = repository.create(user_input(name="Grace", email="grace@example.com"))
    assert repository.list_page(10, None).users == [repository.get(untouched.id), repository.get(updated.id)]
    assert repository.get(untouched.id).updated_at is None


def test_pages_list_every_user_once_newest_first(repository):
    made = [repository.create(user_input(email=f"u{index}@example.com")).id for index in range(7)]
    seen, cursor = [], None
    while True:
        page = repository.list_page(3, cursor)
        seen.extend(user.id for user in page.users)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_a_forged_cursor_is_rejected(repository):
    with pytest.raises(InvalidCursor):
        repository.list_page(10, "bm90LWEtY3Vyc29y")


# The last four have the shape of a store's own cursor with values no page ends at: DynamoDB
# refuses an empty or oversized key value (a 5xx), and any other key starts the page anywhere.
FORGED_CURSORS = [b"mem:" + b"9" * 5000, b"[" * 50000, b'{"pk": NaN}', b"\xff\xfe",
                  b'{"pk":"USER#x","created_key":"x"}', b'{"pk":"USER#","created_key":""}',
                  b'{"pk":"USER#%s","created_key":"2026-01-01T00:00:00.000000Z#%s"}' % (b"a" * 3000, b"a" * 3000),
                  b'{"created_at":"2026-01-01T00:00:00.000000Z","id":"not-a-user-id"}',
                  # PostgreSQL's shape with a time no listing writes: a date alone or a time without
                  # its zone (compared in the server's time zone), or another offset than UTC's.
                  b'{"created_at":"2026-01-01","id":"0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1"}',
                  b'{"created_at":"2026-01-01T00:00:00","id":"0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1"}',
                  b'{"created_at":"2026-01-01T00:00:00.000000+23:59","id":"0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1"}',
                  b'{"created_at":"2026-01-01T00:00:00.000000Z","id":"0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1","x":1}']


@pytest.mark.parametrize("decoded", FORGED_CURSORS)
def test_a_cursor_that_decodes_to_anything_odd_is_rejected_not_a_crash(repository, decoded):
    import base64

    with pytest.raises(InvalidCursor):
        repository.list_page(10, base64.urlsafe_b64encode(decoded).decode().rstrip("="))


def test_ping_succeeds_when_the_store_answers(repository):
    repository.ping()


def run_at_once(work, count):
    """``work(index)`` on ``count`` threads started together; each outcome, in index order."""
    outcomes = [None] * count
    start = threading.Barrier(count)

    def run(index):
        start.wait()
        outcomes[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_updates_of_one_user_each_succeed_or_conflict_and_leave_one_email_claimed(repository):
    user = repository.create(user_input(email="start@example.com"))
    emails = [f"update{index}@example.com" for index in range(8)]

    def update(index):
        try:
            repository.update(user.id, user_input(name=f"Writer {index}", email=emails[index]))
            return "updated"
        except UserChangedConcurrently:
            return "changed"

    outcomes = run_at_once(update, len(emails))
    assert "updated" in outcomes and set(outcomes) <= {"updated", "changed"}
    final = repository.get(user.id)
    assert final.email in [email for email, outcome in zip(emails, outcomes) if outcome == "updated"]
    for email in ["start@example.com", *emails]:  # every other email's claim was released
        if email != final.email:
            repository.create(user_input(email=email))
    with pytest.raises(EmailTaken):
        repository.create(user_input(email=final.email))


def test_concurrent_updates_and_deletes_of_one_user_delete_it_once_and_free_every_email(repository):
    user = repository.create(user_input(email="start@example.com"))

    def update_or_delete(index):
        try:
            if index % 2:
                repository.delete(user.id)
                return "deleted"
            repository.update(user.id, user_input(email=f"update{index}@example.com"))
            return "updated"
        except UserMissing:
            return "missing"
        except UserChangedConcurrently:
            return "changed"

    outcomes = run_at_once(update_or_delete, 8)
    assert outcomes.count("deleted") == 1 and set(outcomes) <= {"deleted", "updated", "missing", "changed"}
    assert repository.get(user.id) is None
    for email in ["start@example.com", *(f"update{index}@example.com" for index in range(0, 8, 2))]:
        repository.create(user_input(email=email))
