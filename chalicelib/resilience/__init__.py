"""Fleet-wide circuit breakers: pybreaker breakers whose state lives in DynamoDB.

``chalicelib.wiring`` builds the process's ``BreakerRegistry`` (each breaker with its
storage and its transition listeners) and the users store's ``DatabaseGuard``::

    breakers = wiring.current().breakers
    breakers.get("database").call(fn, *args)         # BreakerOpenError when open

Heavy pieces (pynamodb, botocore) load on first use, not on import.
"""
from __future__ import annotations

from chalicelib.resilience.breaker import BreakerOpenError, FleetCircuitBreaker
from chalicelib.resilience.fallback import DatabaseGuard, LastKnownGood
from chalicelib.resilience.listeners import TransitionAnnouncer, TransitionListener
from chalicelib.resilience.registry import BreakerRegistry, UnknownBreaker

__all__ = [
    "BreakerOpenError", "BreakerRegistry", "DatabaseGuard", "FleetCircuitBreaker", "LastKnownGood",
    "TransitionAnnouncer", "TransitionListener", "UnknownBreaker",
]
