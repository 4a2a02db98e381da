"""What happens on every breaker transition: a metric, a structured log, and the breaker's listeners.

A transition listener is any callable ``(breaker_name, old_state, new_state, details)``.
``details`` is a dict with at least ``reason`` (``failures``, ``probe``, ``probe_failed``,
``probe_succeeded``, ``operator``, ``reset``), ``at`` (epoch seconds), ``failures``,
``opened_at`` and ``shared`` (False when the transition happened on in-process fallback
state). Listeners are called only by the process that won the conditional write, so one
transition is reported once by the whole fleet. ``chalicelib.wiring`` gives each breaker
its listeners (the incident flow's among them).

A listener that raises is logged and skipped: observability never breaks the protected call.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Protocol


class TransitionListener(Protocol):
    def __call__(self, breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None: ...


TransitionAnnouncement = Callable[[str, str, str, Mapping[str, Any]], None]


class MetricCounter(Protocol):
    def count(self, name: str, dimensions: dict[str, str], value: float = 1) -> None: ...


class TransitionAnnouncer:
    """Metric, log, then each listener, for one breaker's transitions."""

    def __init__(self, listeners: Iterable[TransitionListener], counters: MetricCounter, logger: Any) -> None:
        self.listeners = tuple(listeners)
        self._counters = counters
        self._logger = logger

    def __call__(self, breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None:
        try:
            self._counters.count("circuit_breaker_transitions", {"breaker": breaker_name, "to_state": new_state})
        except Exception:  # a metrics sink failing must not fail the protected call
            self._logger.exception("Breaker transition metric not emitted", extra={"breaker": breaker_name})
        log = self._logger.warning if new_state != "closed" else self._logger.info
        log("Circuit breaker transition", extra={
            "breaker": breaker_name, "old_state": old_state, "new_state": new_state, **dict(details)})
        for listener in self.listeners:
            try:
                listener(breaker_name, old_state, new_state, details)
            except Exception:  # one broken listener must not stop the others or the call
                self._logger.exception("Breaker transition listener failed",
                                       extra={"breaker": breaker_name, "listener": repr(listener)})

    def storage_fallback(self, breaker_name: str, entered: bool, error: BaseException | None) -> None:
        """The breaker table stopped (``entered``) or resumed answering for ``breaker_name``."""
        if entered:
            self._logger.warning("Breaker storage unreachable; using in-process state", extra={
                "breaker": breaker_name, "error": type(error).__name__ if error else None})
        else:
            self._logger.info("Breaker storage answering again; using shared state", extra={"breaker": breaker_name})
        try:
            self._counters.count("circuit_breaker_storage_fallback" if entered else "circuit_breaker_storage_recovered",
                                 {"breaker": breaker_name})
        except Exception:  # see __call__
            self._logger.exception("Breaker storage metric not emitted", extra={"breaker": breaker_name})


def ignore_transition(breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None:
    """For breakers built outside the wiring (tools, tests) that announce to nobody."""
