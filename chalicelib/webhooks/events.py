"""Webhook events: a stable id (the idempotency key) and the exact bytes that get signed."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

USER_CREATED = "user.created"
_EVENT_NAMESPACE = uuid.UUID("6f1c2f63-1f0c-4c55-9d0e-4a5b3c2d1e0f")


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    event_type: str
    body: str  # serialized once, so every retry sends (and signs) the same bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


def user_created_event(user: Mapping[str, Any]) -> WebhookEvent:
    """The event of ``user``'s creation (the API's JSON of the user, with its ``created_at``).

    Made from the user alone, so one user always makes the same id and the same bytes: the entry the
    users store writes in the user's transaction is the one the request then sends.
    """
    event_id = str(uuid.uuid5(_EVENT_NAMESPACE, f"{USER_CREATED}:{user['id']}"))
    body = json.dumps({"id": event_id, "type": USER_CREATED, "occurred_at": user["created_at"],
                       "data": dict(user)}, separators=(",", ":"), sort_keys=True)
    return WebhookEvent(event_id=event_id, event_type=USER_CREATED, body=body)


def new_user_event(user: Any) -> WebhookEvent:
    """``user_created_event`` of a stored ``chalicelib.users.model.User`` (what a users store stages)."""
    return user_created_event(user.to_json())
