"""Named breakers built from configuration, one instance per name per process."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

import pybreaker

from chalicelib.resilience.breaker import FleetCircuitBreaker
from chalicelib.resilience.config import BreakerConfig
from chalicelib.resilience.listeners import TransitionAnnouncement, ignore_transition
from chalicelib.resilience.records import BreakerDescription

StorageFactory = Callable[[BreakerConfig], pybreaker.CircuitBreakerStorage]
FallbackListener = Callable[[str, bool, Optional[BaseException]], None]


class UnknownBreaker(KeyError):
    pass


def dynamodb_storage_factory(model: Any, *, cache_seconds: float, retry_seconds: float,
                             on_fallback: Optional[FallbackListener] = None,
                             clock: Callable[[], float] = time.time) -> StorageFactory:
    from chalicelib.resilience.storage import DynamoDBCircuitStorage

    return lambda config: DynamoDBCircuitStorage(config.name, model=model, cache_seconds=cache_seconds,
                                                 retry_seconds=retry_seconds, clock=clock, on_fallback=on_fallback)


def memory_storage_factory(config: BreakerConfig) -> pybreaker.CircuitBreakerStorage:
    return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)


class BreakerRegistry:
    """Named breakers, each built on first use with its storage and its announcer."""

    def __init__(self, configs: dict[str, BreakerConfig], storage_factory: StorageFactory = memory_storage_factory,
                 announcer: Callable[[str], TransitionAnnouncement] = lambda name: ignore_transition,
                 clock: Callable[[], float] = time.time) -> None:
        self.configs = configs
        self._storage_factory = storage_factory
        self._announcer = announcer
        self._clock = clock
        self._breakers: dict[str, FleetCircuitBreaker] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self.configs)

    def get(self, name: str) -> FleetCircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is not None:
            return breaker
        config = self.configs.get(name)
        if config is None:
            raise UnknownBreaker(name)
        with self._lock:
            if name not in self._breakers:
                self._breakers[name] = FleetCircuitBreaker(
                    name, fail_max=config.fail_max, reset_timeout=config.reset_timeout_seconds,
                    success_threshold=config.success_threshold, exclude=config.exclusions(),
                    probe_lease_seconds=config.probe_lease_seconds,
                    state_storage=self._storage_factory(config), clock=self._clock,
                    announce=self._announcer(name))
            return self._breakers[name]

    def describe(self, name: str) -> BreakerDescription:
        """What ``GET /sre/circuit-breakers`` shows for one breaker."""
        breaker = self.get(name)
        record = breaker.store.refresh()
        left = breaker.seconds_until_half_open(record)
        return BreakerDescription(
            name=name, state=record.state, forced_open=record.forced, failure_count=record.failures,
            success_count=record.successes, thresholds=self.configs[name].describe(),
            opened_at=_iso(record.opened_at), seconds_until_half_open=None if left is None else round(left, 3),
            probe_lease_until=_iso(record.probe_lease_until) if record.state == "half-open" else None,
            shared_state=breaker.store.shared,
            recent_transitions=tuple({**entry, "at": _iso(entry.get("at"))} for entry in reversed(record.transitions)))


    def open_breakers(self) -> list[dict[str, Any]]:
        """Breakers not closed (open, forced open or half-open), with when and why they opened."""
        found = []
        for name in self.names():
            record = self.get(name).store.refresh()
            if record.state == "closed":
                continue
            opened = next((entry for entry in reversed(record.transitions) if entry.get("to") == "open"), {})
            found.append({"name": name, "state": record.state, "forced_open": record.forced,
                          "opened_at": _iso(record.opened_at), "reason": opened.get("reason") or "failures"})
        return found


def _iso(epoch: Optional[float]) -> Optional[str]:
    if epoch is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(float(epoch), tz=timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")

