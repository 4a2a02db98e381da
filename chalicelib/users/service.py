"""The user-management use cases: validation, uniqueness, storage faults, freshness."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Protocol, TypeVar

from chalicelib.http.errors import ApiError, Conflict, NotFound, ServiceUnavailable
from chalicelib.http.request import query_int
from chalicelib.observability.request_context import record_data_query
from chalicelib.users.model import User, UserPage, is_user_id
from chalicelib.users.repository import (EmailTaken, InvalidCursor, StorageUnavailable, UserChangedConcurrently,
                                         UserMissing, UserRepository)
from chalicelib.users.validation import validate_user

T = TypeVar("T")
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 100, 1000


class StorageGuard(Protocol):
    """How calls reach the store: directly, or through a breaker with a fallback."""

    def read(self, cache_key: str, call: Callable[[], T]) -> tuple[T, bool]:
        """The value and whether it is fresh (False when served from a fallback)."""

    def write(self, call: Callable[[], T], *, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> T:
        """Run a write; ``keys`` and ``prefixes`` name the read cache keys it may change."""


class DirectStorage:
    def read(self, cache_key: str, call: Callable[[], T]) -> tuple[T, bool]:
        return call(), True

    def write(self, call: Callable[[], T], *, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> T:
        return call()


class UserEvents(Protocol):
    def user_created(self, user: User) -> None: ...


LIST_KEY_PREFIX = "list:"


def _user_key(user_id: str) -> str:
    return f"user:{user_id}"


def _unavailable(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable("User store is unavailable; retry later")


def _changed_concurrently() -> Conflict:
    return Conflict("User was changed by concurrent requests; read it again and retry")


class UserService:
    def __init__(self, repository: UserRepository, guard: Optional[StorageGuard] = None,
                 events: Optional[UserEvents] = None) -> None:
        self._repository = repository
        self._guard = guard or DirectStorage()
        self._events = events

    def _read(self, cache_key: str, call: Callable[[], T]) -> T:
        try:
            value, fresh = self._guard.read(cache_key, call)
        except StorageUnavailable as exc:
            raise _unavailable(exc) from None
        record_data_query(fresh=fresh)
        return value

    def _write(self, call: Callable[[], T], user_id: Optional[str] = None) -> T:
        # Every write can change any page of the listing; update and delete change the user too.
        keys = [_user_key(user_id)] if user_id else []
        try:
            return self._guard.write(call, keys=keys, prefixes=[LIST_KEY_PREFIX])
        except StorageUnavailable as exc:
            raise _unavailable(exc) from None

    def create(self, body: Mapping[str, Any]) -> User:
        data = validate_user(body)
        try:
            user = self._write(lambda: self._repository.create(data))
        except EmailTaken:
            raise Conflict("Email already exists") from None
        if self._events is not None:
            self._events.user_created(user)
        return user

    def get(self, user_id: str) -> User:
        if not is_user_id(user_id):
            raise NotFound("User not found")
        user = self._read(_user_key(user_id), lambda: self._repository.get(user_id))
        if user is None:
            raise NotFound("User not found")
        return user

    def update(self, user_id: str, body: Mapping[str, Any]) -> User:
        if not is_user_id(user_id):
            raise NotFound("User not found")
        data = validate_user(body)
        try:
            return self._write(lambda: self._repository.update(user_id, data), user_id)
        except UserMissing:
            raise NotFound("User not found") from None
        except EmailTaken:
            raise Conflict("Email already exists") from None
        except UserChangedConcurrently:
            raise _changed_concurrently() from None

    def delete(self, user_id: str) -> None:
        if not is_user_id(user_id):
            raise NotFound("User not found")
        try:
            self._write(lambda: self._repository.delete(user_id), user_id)
        except UserMissing:
            raise NotFound("User not found") from None
        except UserChangedConcurrently:
            raise _changed_concurrently() from None

    def list_page(self, limit: Optional[str] = None, cursor: Optional[str] = None) -> UserPage:
        size = _page_size(limit)
        try:
            return self._read(f"{LIST_KEY_PREFIX}{size}:{cursor or ''}",
                              lambda: self._repository.list_page(size, cursor))
        except InvalidCursor:
            raise ApiError("Invalid cursor: pass the value of the previous response's X-Next-Cursor header",
                           details={"cursor": ["Not a valid cursor."]}) from None

    def ping(self) -> None:
        self._repository.ping()


def _page_size(raw: Optional[str]) -> int:
    params = {} if raw is None else {"limit": raw}
    return query_int(params, "limit", default=PAGE_SIZE_DEFAULT, minimum=1, maximum=PAGE_SIZE_MAX)

