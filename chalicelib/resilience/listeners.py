"""What happens on every breaker transition: a metric, a structured log, and listeners.

A transition listener is any callable ``(breaker_name, old_state, new_state, details)``.
``details`` is a dict with at least ``reason`` (``failures``, ``probe``, ``probe_failed``,
``probe_succeeded``, ``operator``, ``reset``), ``at`` (epoch seconds), ``failures``,
``opened_at`` and ``shared`` (False when the transition happened on in-process fallback
state). Listeners are called only by the process that won the conditional write, so one
transition is reported once by the whole fleet.

The incident flow hooks in here: ``register_transition_listener(open_or_resolve_incident)``
(open a deduplicated incident when ``new_state == "open"``, resolve it on ``"closed"``).
A listener that raises is logged and skipped: observability never breaks the protected call.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Protocol

from chalicelib.settings import get_settings


class TransitionListener(Protocol):
    def __call__(self, breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None: ...


_listeners: list[TransitionListener] = []
_lock = threading.Lock()


def register_transition_listener(listener: TransitionListener) -> TransitionListener:
    """Call ``listener`` on every breaker transition of this process; returns it (usable as a decorator)."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)
    return listener


def unregister_transition_listener(listener: TransitionListener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def transition_listeners() -> tuple[TransitionListener, ...]:
    with _lock:
        return tuple(_listeners)


def emit_metric(name: str, dimensions: Mapping[str, str], value: float = 1) -> None:
    """One EMF record through the app's metrics emitter (which the local stack also sends to CloudWatch)."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    from chalicelib.observability import metrics

    settings = get_settings()
    provider = AmazonCloudWatchEMFProvider(namespace=settings.metrics_namespace, service=settings.service_name)
    provider.add_dimensions(service=settings.service_name, **dict(dimensions))
    provider.add_metric(name=name, unit="Count", value=value)
    metrics.emit(provider.serialize_metric_set())


def _logger() -> Any:
    from chalicelib.observability.logging import get_logger

    return get_logger()


def announce_transition(breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None:
    """Metric, log, then every registered listener."""
    try:
        emit_metric("circuit_breaker_transitions", {"breaker": breaker_name, "to_state": new_state})
    except Exception:  # a metrics sink failing must not fail the protected call
        _logger().exception("Breaker transition metric not emitted", extra={"breaker": breaker_name})
    log = _logger().warning if new_state != "closed" else _logger().info
    log("Circuit breaker transition", extra={
        "breaker": breaker_name, "old_state": old_state, "new_state": new_state, **dict(details)})
    for listener in transition_listeners():
        try:
            listener(breaker_name, old_state, new_state, details)
        except Exception:  # one broken listener must not stop the others or the call
            _logger().exception("Breaker transition listener failed",
                                extra={"breaker": breaker_name, "listener": repr(listener)})


def announce_storage_fallback(breaker_name: str, entered: bool, error: BaseException | None) -> None:
    """The breaker table stopped (``entered``) or resumed answering for ``breaker_name``."""
    if entered:
        _logger().warning("Breaker storage unreachable; using in-process state", extra={
            "breaker": breaker_name, "error": type(error).__name__ if error else None})
    else:
        _logger().info("Breaker storage answering again; using shared state", extra={"breaker": breaker_name})
    try:
        emit_metric("circuit_breaker_storage_fallback" if entered else "circuit_breaker_storage_recovered",
                    {"breaker": breaker_name})
    except Exception:  # see announce_transition
        _logger().exception("Breaker storage metric not emitted", extra={"breaker": breaker_name})


TransitionAnnouncer = Callable[[str, str, str, Mapping[str, Any]], None]
