"""What the operating endpoints do: list breakers, and open/close/reset one for mitigation."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chalicelib.http.errors import ApiError, NotFound, ServiceUnavailable
from chalicelib.http.strict import FREE_TEXT_RULE, has_control_characters
from chalicelib.resilience.registry import BreakerRegistry, UnknownBreaker

ACTIONS = ("open", "close", "reset")
REASON_MAX = 200


class BreakerOperations:
    def __init__(self, registry: BreakerRegistry) -> None:
        self.registry = registry

    def names(self) -> list[str]:
        return self.registry.names()

    def list(self) -> dict[str, Any]:
        return {"circuit_breakers": [self.registry.describe(name).to_json() for name in self.registry.names()]}

    def act(self, name: str, action: str, body: Optional[Mapping[str, Any]] = None, *,
            operator: str) -> dict[str, Any]:
        """``operator``: the authenticated name, kept in the breaker's transitions with the reason."""
        if action not in ACTIONS:
            raise NotFound(f"Unknown action '{action}'; use one of: {', '.join(ACTIONS)}")
        reason = _reason(body or {})
        try:
            breaker = self.registry.get(name)
        except UnknownBreaker:
            raise NotFound(f"Unknown circuit breaker '{name}'",
                           details={"known": self.registry.names()}) from None
        actor = operator if reason is None else f"{operator}: {reason}"
        try:
            getattr(breaker, action)(actor=actor)
        except RuntimeError as exc:  # lost five races in a row: the breaker is flapping right now
            raise ServiceUnavailable(str(exc), retry_after_seconds=1) from None
        return self.registry.describe(name).to_json()


def _reason(body: Mapping[str, Any]) -> Optional[str]:
    reason = body.get("reason")
    if reason is None:
        return None
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError("Validation failed", details={"reason": ["Must be a non-empty string."]})
    # As incident text: kept in the transition and shown on the dashboard.
    if has_control_characters(reason):
        raise ApiError("Validation failed", details={"reason": [FREE_TEXT_RULE]})
    if len(reason) > REASON_MAX:
        raise ApiError("Validation failed", details={"reason": [f"At most {REASON_MAX} characters."]})
    return reason.strip()
