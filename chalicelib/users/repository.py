"""The storage interface the user service is handed."""
from __future__ import annotations

from typing import Optional, Protocol

from chalicelib.users.model import User, UserPage
from chalicelib.users.validation import UserInput


class EmailTaken(Exception):
    """Another user already holds this email (case-insensitive)."""


class UserMissing(Exception):
    pass


class InvalidCursor(Exception):
    pass


class UserChangedConcurrently(Exception):
    """Other writes to this user kept winning the race; the caller may retry."""


class UserRepository(Protocol):
    def create(self, data: UserInput) -> User: ...

    def get(self, user_id: str) -> Optional[User]: ...

    def update(self, user_id: str, data: UserInput) -> User: ...

    def delete(self, user_id: str) -> None: ...

    def list_page(self, limit: int, cursor: Optional[str]) -> UserPage: ...

    def ping(self) -> None:
        """One real round trip to the store; raises when it cannot be reached."""


class StorageUnavailable(Exception):
    """The store could not be reached or did not answer; the operation may be retried."""


# What a store raises for the caller's mistakes: no sign of the store's health.
CLIENT_CAUSED_ERRORS: tuple[type[Exception], ...] = (EmailTaken, UserMissing, InvalidCursor, UserChangedConcurrently)
