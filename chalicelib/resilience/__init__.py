"""Fleet-wide circuit breakers: pybreaker breakers whose state lives in DynamoDB.

Public API::

    from chalicelib import resilience

    resilience.get("database").call(fn, *args)        # BreakerOpenError when open
    @resilience.protected("webhook")                   # decorator form
    def send(...): ...
    resilience.register_transition_listener(listener)  # (name, old_state, new_state, details)
    resilience.database_guard()                        # users StorageGuard: stale reads, 503 writes

Heavy pieces (pynamodb, botocore) load on first use, not on import.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from chalicelib.resilience.breaker import BreakerOpenError, FleetCircuitBreaker
from chalicelib.resilience.fallback import DatabaseGuard, LastKnownGood, database_guard, reset_database_guard
from chalicelib.resilience.listeners import (TransitionListener, register_transition_listener,
                                             unregister_transition_listener)
from chalicelib.resilience.registry import BreakerRegistry, UnknownBreaker, get, get_registry, set_registry

F = TypeVar("F", bound=Callable[..., Any])


def protected(breaker_name: str) -> Callable[[F], F]:
    """Decorator: every call of the function goes through the named breaker."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return get(breaker_name).call(fn, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


__all__ = [
    "BreakerOpenError", "BreakerRegistry", "DatabaseGuard", "FleetCircuitBreaker", "LastKnownGood",
    "TransitionListener", "UnknownBreaker", "database_guard", "get", "get_registry", "protected",
    "register_transition_listener", "reset_database_guard", "set_registry", "unregister_transition_listener",
]
