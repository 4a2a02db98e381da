"""A user store in this process's memory: the contract's reference fake, and the benchmark's ceiling.

Not for deployment: nothing is shared between Lambda instances and nothing survives a restart.
"""
from __future__ import annotations

import base64
import bisect
import threading
from typing import Optional

from chalicelib.http.strict import parse_bounded_int
from chalicelib.users.model import User, UserPage, new_user_id, utc_now_iso
from chalicelib.users.repository import EmailTaken, InvalidCursor, UserMissing
from chalicelib.users.validation import UserInput

_CURSOR_PREFIX = "mem:"


def _encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{sequence}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError):
        raise InvalidCursor(cursor) from None
    sequence = parse_bounded_int(text[len(_CURSOR_PREFIX):], 0, 10**18) if text.startswith(_CURSOR_PREFIX) else None
    if sequence is None:
        raise InvalidCursor(cursor)
    return sequence


class InMemoryUserRepository:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._sequence_of: dict[str, int] = {}
        self._order: list[int] = []  # creation sequence numbers, ascending
        self._id_at: dict[int, str] = {}
        self._emails: dict[str, str] = {}  # email_key -> user id
        self._email_of: dict[str, str] = {}  # user id -> email_key
        self._next = 0

    def create(self, data: UserInput) -> User:
        with self._lock:
            if data.email_key in self._emails:
                raise EmailTaken(data.email_key)
            user = User(id=new_user_id(), name=data.name, email=data.email, created_at=utc_now_iso())
            self._next += 1
            self._users[user.id] = user
            self._sequence_of[user.id] = self._next
            self._order.append(self._next)
            self._id_at[self._next] = user.id
            self._emails[data.email_key] = user.id
            self._email_of[user.id] = data.email_key
            return user

    def get(self, user_id: str) -> Optional[User]:
        return self._users.get(user_id)

    def update(self, user_id: str, data: UserInput) -> User:
        with self._lock:
            current = self._users.get(user_id)
            if current is None:
                raise UserMissing(user_id)
            holder = self._emails.get(data.email_key)
            if holder is not None and holder != user_id:
                raise EmailTaken(data.email_key)
            del self._emails[self._email_of[user_id]]
            self._emails[data.email_key] = user_id
            self._email_of[user_id] = data.email_key
            updated = User(id=user_id, name=data.name, email=data.email, created_at=current.created_at,
                           updated_at=utc_now_iso())
            self._users[user_id] = updated
            return updated

    def delete(self, user_id: str) -> None:
        with self._lock:
            if user_id not in self._users:
                raise UserMissing(user_id)
            del self._users[user_id]
            sequence = self._sequence_of.pop(user_id)
            self._order.pop(bisect.bisect_left(self._order, sequence))
            del self._id_at[sequence]
            del self._emails[self._email_of.pop(user_id)]

    def list_page(self, limit: int, cursor: Optional[str]) -> UserPage:
        before = _decode_cursor(cursor) if cursor else None
        with self._lock:
            end = bisect.bisect_left(self._order, before) if before is not None else len(self._order)
            sequences = self._order[max(0, end - limit - 1):end][::-1]  # newest first, one extra
            users = [self._users[self._id_at[sequence]] for sequence in sequences]
        page = users[:limit]
        next_cursor = _encode_cursor(sequences[limit - 1]) if len(users) > limit else None
        return UserPage(users=page, next_cursor=next_cursor)

    def ping(self) -> None:
        return None
