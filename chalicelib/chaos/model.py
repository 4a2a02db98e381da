"""Fault records: what an experiment asks every process of the service to do, until it expires.

A fault names a kind, a target, a magnitude, a blast radius (the percentage of matching calls
it touches), the experiment that wrote it and an expiry (epoch seconds) after which every
process ignores it, even when nobody deletes it (a dead or stopped workflow).

Kinds and their targets/magnitudes:

- ``route_latency``: target a route (``/api/users/{user_id}``) or ``*`` (every route but the
  control plane ``/sre/`` and the health probes); magnitude: added milliseconds.
- ``route_error``: same targets; magnitude: the HTTP status answered (500-599).
- ``dynamodb_error`` / ``dynamodb_throttle`` / ``dynamodb_timeout`` / ``dynamodb_slowdown``:
  target ``database`` (the users store, below the ``database`` breaker); magnitude: unused,
  unused, seconds hung before a read timeout, milliseconds added before the call proceeds.
  ``operations`` optionally narrows them to DynamoDB operations (``GetItem``...).
- ``webhook_failure`` / ``webhook_timeout``: target ``webhook``; magnitude: the status the
  endpoint "answers", or the seconds it hangs (capped at the sender's timeout).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

ROUTE_LATENCY, ROUTE_ERROR = "route_latency", "route_error"
DYNAMODB_ERROR, DYNAMODB_THROTTLE = "dynamodb_error", "dynamodb_throttle"
DYNAMODB_TIMEOUT, DYNAMODB_SLOWDOWN = "dynamodb_timeout", "dynamodb_slowdown"
WEBHOOK_FAILURE, WEBHOOK_TIMEOUT = "webhook_failure", "webhook_timeout"

ROUTE_KINDS = frozenset({ROUTE_LATENCY, ROUTE_ERROR})
DYNAMODB_KINDS = frozenset({DYNAMODB_ERROR, DYNAMODB_THROTTLE, DYNAMODB_TIMEOUT, DYNAMODB_SLOWDOWN})
WEBHOOK_KINDS = frozenset({WEBHOOK_FAILURE, WEBHOOK_TIMEOUT})
FAULT_KINDS = ROUTE_KINDS | DYNAMODB_KINDS | WEBHOOK_KINDS

ALL_ROUTES = "*"
DATABASE_TARGET = "database"
WEBHOOK_TARGET = "webhook"
# Never touched by a "*" route fault: the control plane (to stop the experiment), the probes, and the
# local stack's own routes (its webhook receiver, its fault switch), which are no route of the API
# and so not among the targets a "*" experiment locks (``definition.targets``).
PROTECTED_PREFIXES = ("/sre/", "/health", "/_local/")
# Never touched by any route fault, even one that names them: a fault here would answer the
# operator's stop with the injected error and keep the experiment from being stopped.
CHAOS_CONTROL_PREFIX = "/sre/chaos/"


@dataclass(frozen=True)
class FaultRecord:
    fault_id: str
    experiment_id: str
    kind: str
    target: str
    magnitude: float
    blast_radius_pct: float
    expires_at: float
    operations: tuple[str, ...] = field(default_factory=tuple)

    def is_live(self, now: float) -> bool:
        return now < self.expires_at

    def applies_to_route(self, route: str) -> bool:
        if self.kind not in ROUTE_KINDS or route.startswith(CHAOS_CONTROL_PREFIX):
            return False
        if self.target == ALL_ROUTES:
            return not route.startswith(PROTECTED_PREFIXES)
        return route == self.target

    def to_json(self) -> dict[str, Any]:
        return {"fault_id": self.fault_id, "experiment_id": self.experiment_id, "kind": self.kind,
                "target": self.target, "magnitude": self.magnitude, "blast_radius_pct": self.blast_radius_pct,
                "expires_at": self.expires_at, "operations": list(self.operations)}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "FaultRecord":
        return cls(fault_id=str(body["fault_id"]), experiment_id=str(body["experiment_id"]),
                   kind=str(body["kind"]), target=str(body["target"]), magnitude=float(body["magnitude"]),
                   blast_radius_pct=float(body["blast_radius_pct"]), expires_at=float(body["expires_at"]),
                   operations=tuple(body.get("operations") or ()))
