"""User storage in DynamoDB through pynamodb.

One table holds two kinds of item: the user (``USER#<id>``) and a claim on its
lower-cased email (``EMAIL#<email>``). Both are written in one transaction with
conditions, so email uniqueness holds under concurrency without read-then-write.
Users carry ``listing``/``created_key`` so the ``by_created`` index lists them
newest first. A new user's events (the webhook outbox's entry) can join its transaction.
"""
from __future__ import annotations

import base64
import json
from typing import Any, Callable, Optional, TypeVar

from chalicelib.http import strict
from chalicelib.dynamodb import cancellation_codes, sorted_index, table_meta, transaction_connection
from chalicelib.users.model import User, UserPage, is_user_id, is_utc_timestamp, new_user_id, utc_now_iso
from chalicelib.users.repository import (EmailTaken, InvalidCursor, StorageUnavailable, UserChangedConcurrently,
                                         UserMissing)
from chalicelib.users.validation import UserInput

LISTING = "USER"
HEALTH_KEY = "HEALTH#probe"
# Reads and transactions a write to one user makes before giving up to writes that keep winning.
CONCURRENT_WRITE_ATTEMPTS = 5
T = TypeVar("T")


class _LostRace(Exception):
    """Another write changed (or deleted) the user between this write's read and its transaction."""


def user_key(user_id: str) -> str:
    return f"USER#{user_id}"


def email_claim_key(email_key: str) -> str:
    return f"EMAIL#{email_key}"


def table_models(table_name: str, region: str) -> Any:
    """The pynamodb classes bound to ``table_name`` (``chalicelib.wiring`` builds them once per process)."""
    # pynamodb.models costs ~100 ms to import; only requests that touch users pay it.
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.models import Model

    TableMeta = table_meta(table_name, region)

    class UserItem(Model):
        Meta = TableMeta
        pk = UnicodeAttribute(hash_key=True)
        id = UnicodeAttribute()
        name = UnicodeAttribute()
        email = UnicodeAttribute()
        email_key = UnicodeAttribute()
        created_at = UnicodeAttribute()
        updated_at = UnicodeAttribute(null=True)
        listing = UnicodeAttribute(default=LISTING)
        created_key = UnicodeAttribute()
        by_created = sorted_index("by_created", "listing", "created_key")

    class EmailClaim(Model):
        Meta = TableMeta
        pk = UnicodeAttribute(hash_key=True)
        user_id = UnicodeAttribute()

    class Models:
        user = UserItem
        claim = EmailClaim
        connection = transaction_connection(region)

    return Models


def _to_user(item: Any) -> User:
    return User(id=item.id, name=item.name, email=item.email, created_at=item.created_at,
                updated_at=item.updated_at)


def _string(item: dict[str, Any], name: str) -> Optional[str]:
    value = item.get(name)
    return value.get("S") if value else None


def _user_from_raw(item: dict[str, Any]) -> User:
    """A user item as DynamoDB answers it, read as ``UserItem`` reads it (``updated_at`` may be absent)."""
    return User(id=item["id"]["S"], name=item["name"]["S"], email=item["email"]["S"],
                created_at=item["created_at"]["S"], updated_at=_string(item, "updated_at"))


# As ``utc_now_iso`` writes it.


def _encode_cursor(item: dict[str, Any]) -> str:
    key = {"pk": item["pk"]["S"], "created_key": item["created_key"]["S"]}
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = strict.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, RecursionError):
        raise InvalidCursor(cursor) from None
    # Only a key this listing wrote: DynamoDB refuses an empty or oversized key value, and another
    # item's key would start the page anywhere.
    if (not isinstance(key, dict) or set(key) != {"pk", "created_key"}
            or not all(isinstance(value, str) for value in key.values())):
        raise InvalidCursor(cursor)
    user_id = key["pk"].removeprefix("USER#")
    created_at, _, key_user_id = key["created_key"].partition("#")
    if (key["pk"] != user_key(user_id) or not is_user_id(user_id) or key_user_id != user_id
            or not is_utc_timestamp(created_at)):
        raise InvalidCursor(cursor)
    return {"pk": {"S": key["pk"]}, "listing": {"S": LISTING}, "created_key": {"S": key["created_key"]}}


class DynamoDBUserRepository:
    def __init__(self, models: Any, created_events: Any = None) -> None:
        """``models``: ``table_models(table_name, region)``; ``created_events``: its ``stage(transaction,
        user)`` adds what a new user's creation must also store to the user's own transaction (the
        webhook outbox's entry, ``chalicelib.webhooks.delivery.UserCreatedStaging``), or None."""
        self._models = models
        self._created_events = created_events

    def _transaction(self, token: Optional[str] = None) -> Any:
        from pynamodb.transactions import TransactWrite

        return TransactWrite(connection=self._models.connection, client_request_token=token)

    def _load(self, user_id: str) -> Any:
        from pynamodb.exceptions import DoesNotExist, PynamoDBException

        try:
            return self._models.user.get(user_key(user_id))
        except DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise StorageUnavailable(str(exc)) from exc

    def create(self, data: UserInput) -> User:
        from pynamodb.exceptions import PynamoDBException, TransactWriteError

        user_id = new_user_id()
        now = utc_now_iso()
        item = self._models.user(user_key(user_id), id=user_id, name=data.name, email=data.email,
                                 email_key=data.email_key, created_at=now, created_key=f"{now}#{user_id}")
        claim = self._models.claim(email_claim_key(data.email_key), user_id=user_id)
        try:
            # The token makes a retried transaction idempotent instead of a false 409.
            with self._transaction(token=user_id) as transaction:
                transaction.save(claim, condition=self._models.claim.pk.does_not_exist())
                transaction.save(item, condition=self._models.user.pk.does_not_exist())
                if self._created_events is not None:
                    self._created_events.stage(transaction, _to_user(item))
        except TransactWriteError as exc:
            if cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                raise EmailTaken(data.email_key) from None
            raise StorageUnavailable(str(exc)) from exc
        except PynamoDBException as exc:
            raise StorageUnavailable(str(exc)) from exc
        return _to_user(item)

    def get(self, user_id: str) -> Optional[User]:
        item = self._load(user_id)
        return _to_user(item) if item is not None else None

    def update(self, user_id: str, data: UserInput) -> User:
        return self._retrying_lost_races(user_id, lambda current: self._update_once(current, data))

    def delete(self, user_id: str) -> None:
        self._retrying_lost_races(user_id, self._delete_once)

    def _retrying_lost_races(self, user_id: str, write: Callable[[Any], T]) -> T:
        """Run ``write`` on the user as stored now; when another write changed the user between
        the read and the transaction (its conditions failed), read again and retry, as
        PostgreSQL's row lock would have queued it. The read also tells a user that is gone (a 404)
        from one that changed; losing every time is a UserChangedConcurrently."""
        for _ in range(CONCURRENT_WRITE_ATTEMPTS):
            current = self._load(user_id)
            if current is None:
                raise UserMissing(user_id)
            try:
                return write(current)
            except _LostRace:
                continue
        if self._load(user_id) is None:
            raise UserMissing(user_id)
        raise UserChangedConcurrently(user_id)

    def _update_once(self, current: Any, data: UserInput) -> User:
        from pynamodb.exceptions import PynamoDBException, TransactWriteError

        user_id = current.id
        user_model, claim_model = self._models.user, self._models.claim
        now = utc_now_iso()
        email_changes = data.email_key != current.email_key
        try:
            with self._transaction() as transaction:
                if email_changes:
                    transaction.save(claim_model(email_claim_key(data.email_key), user_id=user_id),
                                     condition=claim_model.pk.does_not_exist())
                    transaction.delete(claim_model(email_claim_key(current.email_key)),
                                       condition=claim_model.user_id == user_id)
                transaction.update(
                    user_model(user_key(user_id)),
                    actions=[user_model.name.set(data.name), user_model.email.set(data.email),
                             user_model.email_key.set(data.email_key), user_model.updated_at.set(now)],
                    condition=user_model.pk.exists() & (user_model.email_key == current.email_key))
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if "ConditionalCheckFailed" not in codes:
                raise StorageUnavailable(str(exc)) from exc
            new_claim_put = 1  # pynamodb sends deletes first: the old claim's, then this put
            others_failed = [code for index, code in enumerate(codes)
                             if code == "ConditionalCheckFailed" and index != new_claim_put]
            if email_changes and not others_failed:
                raise EmailTaken(data.email_key) from None
            raise _LostRace(str(exc)) from None
        except PynamoDBException as exc:
            raise StorageUnavailable(str(exc)) from exc
        return User(id=user_id, name=data.name, email=data.email, created_at=current.created_at, updated_at=now)

    def _delete_once(self, current: Any) -> None:
        from pynamodb.exceptions import PynamoDBException, TransactWriteError

        user_id = current.id
        user_model, claim_model = self._models.user, self._models.claim
        try:
            with self._transaction() as transaction:
                transaction.delete(user_model(user_key(user_id)),
                                   condition=user_model.email_key == current.email_key)
                transaction.delete(claim_model(email_claim_key(current.email_key)),
                                   condition=claim_model.user_id == user_id)
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in cancellation_codes(exc):
                raise _LostRace(str(exc)) from None
            raise StorageUnavailable(str(exc)) from exc
        except PynamoDBException as exc:
            raise StorageUnavailable(str(exc)) from exc

    def list_page(self, limit: int, cursor: Optional[str]) -> UserPage:
        from pynamodb.exceptions import PynamoDBException
        from pynamodb.pagination import ResultIterator

        start_key = _decode_cursor(cursor) if cursor else None
        try:
            # As ``UserItem.by_created.query`` runs it (pynamodb's pages, each up to DynamoDB's size
            # limit), but the items are read as they come: building a model object per item cost
            # ~0.75 ms of the ~2.2 ms a page of 100 users cost the app, and a user is five strings.
            # One extra item tells whether another page exists.
            items = list(ResultIterator(
                self._models.user._get_connection().query, (LISTING,),
                {"index_name": "by_created", "scan_index_forward": False, "limit": limit + 1,
                 "exclusive_start_key": start_key}, limit=limit + 1))
        except PynamoDBException as exc:
            raise StorageUnavailable(str(exc)) from exc
        page = items[:limit]
        next_cursor = _encode_cursor(page[-1]) if len(items) > limit else None
        return UserPage(users=[_user_from_raw(item) for item in page], next_cursor=next_cursor)

    def ping(self) -> None:
        from pynamodb.exceptions import DoesNotExist, PynamoDBException

        try:
            self._models.claim.get(HEALTH_KEY)
        except DoesNotExist:
            return
        except PynamoDBException as exc:
            raise StorageUnavailable(str(exc)) from exc
