"""``UserEvents`` that counts registrations (the dashboard's ``users_registered``) before passing
each event on."""
from __future__ import annotations

from typing import Any, Optional

USERS_REGISTERED = "users_registered"


class CountedUserEvents:
    def __init__(self, counters: Any, then: Optional[Any] = None) -> None:
        self._counters = counters
        self._then = then

    def user_created(self, user: Any) -> None:
        self._counters.count(USERS_REGISTERED, {})
        if self._then is not None:
            self._then.user_created(user)
