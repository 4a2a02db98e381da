"""User storage in PostgreSQL, for the ECS/RDS variant.

Same contract as the DynamoDB provider (the contract tests run against both):
uniqueness comes from the unique index on the lower-cased email, listing is
newest first with an opaque keyset cursor.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from chalicelib.http import strict
from chalicelib.users.model import User, UserPage, is_user_id, is_utc_timestamp, new_user_id
from chalicelib.users.postgres_connection import ANSWER_GRACE_SECONDS, AnswerDeadline
from chalicelib.users.repository import EmailTaken, InvalidCursor, StorageUnavailable, UserMissing
from chalicelib.users.validation import UserInput

# The server formats ids and times as the API returns them (ISO-8601 UTC, microseconds, "Z"):
# converting 100 rows' datetimes and UUIDs in Python took half of a list request's time.
_ISO_UTC = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_COLUMNS = f"id::text, name, email, {_ISO_UTC.format('created_at')}, {_ISO_UTC.format('updated_at')}"
# Why nosec B608: only the constants above are formatted into these; every value is a parameter.
_SELECT_ONE = f"SELECT {_COLUMNS} FROM users WHERE id = %s"  # nosec B608
# Writes carry their deadline (migrations/0002_write_deadline.sql): past it the server refuses them.
_INSERT = ("INSERT INTO users (id, name, email, email_key, created_at) "
           "SELECT %s::uuid, %s, %s, %s, %s::timestamptz WHERE write_deadline(%s)")
# The user and its event in one statement: both are stored or neither (migrations/0003_event_outbox.sql).
_INSERT_WITH_EVENT = (f"WITH new_user AS ({_INSERT} RETURNING id) "  # nosec B608
                      "INSERT INTO event_outbox (event_id, event_type, body) SELECT %s::uuid, %s, %s FROM new_user")
# Events stored long enough ago that the request which stored them would have deleted them (it
# died first), and claimed by no other relay now: each is claimed for ``lease`` seconds.
_CLAIM_SETTLED_EVENTS = (
    "UPDATE event_outbox SET claimed_until = now() + make_interval(secs => %s) WHERE event_id IN ("
    "SELECT event_id FROM event_outbox WHERE stored_at < now() - make_interval(secs => %s) "
    "AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY stored_at LIMIT %s FOR UPDATE SKIP LOCKED) "
    "RETURNING event_id::text, event_type, body")
_DELETE_EVENTS = "DELETE FROM event_outbox WHERE event_id = ANY(%s::uuid[])"
_UPDATE = ("UPDATE users SET name = %s, email = %s, email_key = %s, updated_at = now() "  # nosec B608
           f"WHERE id = %s AND write_deadline(%s) RETURNING {_COLUMNS}")
_DELETE = "DELETE FROM users WHERE id = %s AND write_deadline(%s)"
_FIRST_PAGE = f"SELECT {_COLUMNS} FROM users ORDER BY created_at DESC, id DESC LIMIT %s"  # nosec B608
_NEXT_PAGE = (f"SELECT {_COLUMNS} FROM users WHERE (created_at, id) < (%s, %s) "  # nosec B608
              "ORDER BY created_at DESC, id DESC LIMIT %s")


def _iso(moment: Optional[datetime]) -> Optional[str]:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _to_user(row: tuple) -> User:
    user_id, name, email, created_at, updated_at = row
    return User(id=user_id, name=name, email=email, created_at=created_at, updated_at=updated_at)


def _encode_cursor(user: User) -> str:
    raw = json.dumps({"created_at": user.created_at, "id": user.id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = strict.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, RecursionError):
        raise InvalidCursor(cursor) from None
    # Only a key this listing wrote: a time without its zone would be compared in the server's.
    if (not isinstance(key, dict) or set(key) != {"created_at", "id"} or not is_utc_timestamp(key["created_at"])
            or not isinstance(key["id"], str) or not is_user_id(key["id"])):
        raise InvalidCursor(cursor)
    return datetime.fromisoformat(key["created_at"].replace("Z", "+00:00")), key["id"]


# The users-store faults of chaos experiments (``dynamodb_error``, ``_slowdown``... targeting
# ``database``) name DynamoDB operations; each operation here meets a fault that names one of the
# operations the DynamoDB store makes for the same call, so an experiment acts alike on both stores.
_STORE_OPERATIONS = {"create": ("TransactWriteItems",), "get": ("GetItem",), "list": ("Query",),
                     "update": ("GetItem", "TransactWriteItems"), "delete": ("GetItem", "TransactWriteItems"),
                     "ping": ("GetItem",), "relay": ("Query",)}
FAULT_SERVICE = "dynamodb"  # the service the fault records name (``chalicelib.chaos.active.DynamoDBFaultSwitch``)


class PostgresUserRepository:
    def __init__(self, connect: Callable[[], Any], close: Optional[Callable[[], None]] = None,
                 answer_timeout: Optional[float] = None, faults: Any = None,
                 on_connection_lost: Optional[Callable[[], None]] = None,
                 created_event: Optional[Callable[[User], Any]] = None) -> None:
        """``connect`` returns a new psycopg connection (a pool's ``connection`` works too);
        ``close`` releases what it holds (the pool's ``close``); ``answer_timeout``: seconds a
        statement may wait for the server before its connection is abandoned (None: no bound);
        ``faults``: a ``chalicelib.resilience.faults.FaultInjector`` whose users-store faults each
        statement meets before it is sent (chaos experiments), or None; ``on_connection_lost``:
        called when a statement finds its connection dropped by the server (not abandoned for
        want of an answer), as ``postgres_connection.PoolRecheck``; ``created_event``: the event a new
        user makes (with ``event_id``, ``event_type`` and ``body``), stored with the user in
        ``event_outbox`` until ``forget_event`` or ``relay_events``, or None to store none."""
        self._connect = connect
        self._close = close
        self._answer_timeout = answer_timeout
        self._faults = faults
        self._on_connection_lost = on_connection_lost
        self._created_event = created_event
        # The server refuses a write that starts later than this after it was sent: by then the server
        # has cancelled it itself, or is not answering and the client gives up a grace period later.
        self._write_within = None if answer_timeout is None else max(answer_timeout - ANSWER_GRACE_SECONDS, 0.0)

    def _write_deadline(self) -> Optional[datetime]:
        if self._write_within is None:
            return None
        return datetime.now(timezone.utc) + timedelta(seconds=self._write_within)

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def _meet_fault(self, operation: str) -> None:
        """Below the breaker, as a failing or slow server would be met: an error or a statement with
        no answer is StorageUnavailable (the latter after its wait, at most the answer bound)."""
        fault = None
        for name in _STORE_OPERATIONS[operation]:
            fault = self._faults.triggered(FAULT_SERVICE, name)
            if fault is not None:
                break
        if fault is None:
            return
        if fault.only_slows:
            self._faults.wait(fault.delay_seconds)
            return
        if fault.hang_seconds > 0:
            waited = min(fault.hang_seconds, self._answer_timeout or fault.hang_seconds)
            self._faults.wait(waited)
            raise StorageUnavailable(f"PostgreSQL gave no answer within {waited:g} s (injected fault)")
        raise StorageUnavailable(f"PostgreSQL refused the statement: {fault.error_code} (injected fault)")

    def _run(self, work: Callable[[Any], Any], operation: str) -> Any:
        import psycopg  # the Lambda package does not ship psycopg; only the RDS variant imports it

        # Every operation is one statement, atomic on its own: no BEGIN/COMMIT round trips around it.
        # (On a connection that is not in autocommit mode, leaving the block commits.)
        deadline: Optional[AnswerDeadline] = None
        try:
            with self._connect() as connection:
                if self._faults is not None:  # holding the connection, as a slow or failing server's statement does
                    self._meet_fault(operation)
                try:
                    with AnswerDeadline(connection, self._answer_timeout) as deadline, connection.cursor() as cursor:
                        return work(cursor)
                except psycopg.OperationalError:
                    # Read before the pool takes the connection back: it closes a broken one, which then
                    # no longer reads as broken.
                    if connection.broken and not deadline.expired and self._on_connection_lost is not None:
                        self._on_connection_lost()
                    raise
        except psycopg.errors.UniqueViolation:
            raise
        except psycopg.OperationalError as exc:
            if deadline is not None and deadline.expired:
                raise StorageUnavailable(f"PostgreSQL gave no answer within {self._answer_timeout:g} s") from exc
            raise StorageUnavailable(str(exc)) from exc

    def ensure_schema(self) -> None:
        """Apply pending migrations (deployments run ``python -m chalicelib.users.migrate`` instead)."""
        from chalicelib.users.migrate import migrate

        with self._connect() as connection:
            migrate(connection)

    def create(self, data: UserInput) -> User:
        import psycopg

        user_id = new_user_id()
        now = datetime.now(timezone.utc)
        user = User(id=user_id, name=data.name, email=data.email, created_at=_iso(now))
        statement, event_values = _INSERT, ()
        if self._created_event is not None:
            event = self._created_event(user)
            statement, event_values = _INSERT_WITH_EVENT, (event.event_id, event.event_type, event.body)

        def insert(cursor: Any) -> None:
            # The deadline from now, with a connection in hand: waiting for one is not the server's delay.
            cursor.execute(statement, (user_id, data.name, data.email, data.email_key, now, self._write_deadline(),
                                       *event_values))

        try:
            self._run(insert, "create")
        except psycopg.errors.UniqueViolation:
            raise EmailTaken(data.email_key) from None
        return user

    def forget_event(self, event_id: str) -> None:
        """Delete the stored copy of an event that was delivered or is now in the webhook outbox."""
        self._run(lambda cursor: cursor.execute(_DELETE_EVENTS, ([event_id],)), "relay")

    def relay_events(self, hand_on: Callable[[str, str, str], None], *, settled_seconds: float,
                     lease_seconds: float, limit: int) -> int:
        """Claim up to ``limit`` events stored over ``settled_seconds`` ago, oldest first, hand each to
        ``hand_on(event_id, event_type, body)`` and delete those it took. When ``hand_on`` raises,
        the rest stay stored, for a relay once the claim's ``lease_seconds`` end. Returns how many
        were handed on."""
        def claim(cursor: Any) -> list[tuple[str, str, str]]:
            cursor.execute(_CLAIM_SETTLED_EVENTS, (lease_seconds, settled_seconds, limit))
            return cursor.fetchall()

        handed: list[str] = []
        try:
            for event_id, event_type, body in self._run(claim, "relay"):
                hand_on(event_id, event_type, body)
                handed.append(event_id)
        finally:
            if handed:
                self._run(lambda cursor: cursor.execute(_DELETE_EVENTS, (handed,)), "relay")
        return len(handed)

    def get(self, user_id: str) -> Optional[User]:
        def select(cursor: Any) -> Optional[tuple]:
            cursor.execute(_SELECT_ONE, (user_id,))
            return cursor.fetchone()

        row = self._run(select, "get")
        return _to_user(row) if row else None

    def update(self, user_id: str, data: UserInput) -> User:
        import psycopg

        def update(cursor: Any) -> Optional[tuple]:
            cursor.execute(_UPDATE, (data.name, data.email, data.email_key, user_id, self._write_deadline()))
            return cursor.fetchone()

        try:
            row = self._run(update, "update")
        except psycopg.errors.UniqueViolation:
            raise EmailTaken(data.email_key) from None
        if row is None:
            raise UserMissing(user_id)
        return _to_user(row)

    def delete(self, user_id: str) -> None:
        def delete(cursor: Any) -> int:
            cursor.execute(_DELETE, (user_id, self._write_deadline()))
            return cursor.rowcount

        if self._run(delete, "delete") == 0:
            raise UserMissing(user_id)

    def list_page(self, limit: int, cursor: Optional[str]) -> UserPage:
        after = _decode_cursor(cursor) if cursor else None

        def select(db_cursor: Any) -> list[tuple]:
            if after is None:
                db_cursor.execute(_FIRST_PAGE, (limit + 1,))
            else:
                db_cursor.execute(_NEXT_PAGE, (*after, limit + 1))
            return db_cursor.fetchall()

        rows = self._run(select, "list")
        users = [_to_user(row) for row in rows[:limit]]
        return UserPage(users=users, next_cursor=_encode_cursor(users[-1]) if len(rows) > limit else None)

    def ping(self) -> None:
        self._run(lambda cursor: cursor.execute("SELECT 1"), "ping")
