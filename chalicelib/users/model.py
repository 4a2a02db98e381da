"""The user as the domain sees it, independent of storage."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


# What utc_now_iso writes, and PostgreSQL's listing too: the only form a page's cursor holds.
_UTC_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def is_utc_timestamp(value: Any) -> bool:
    return isinstance(value, str) and _UTC_TIMESTAMP.fullmatch(value) is not None


def new_user_id() -> str:
    return str(uuid.uuid4())


def is_user_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, AttributeError, TypeError):
        return False


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    created_at: str
    updated_at: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        body = {"id": self.id, "name": self.name, "email": self.email, "created_at": self.created_at}
        if self.updated_at:
            body["updated_at"] = self.updated_at
        return body


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    next_cursor: Optional[str]
