"""What the breakers hand to other capabilities, as typed records with one JSON form each.

- ``BreakerTransition``: one state change of one breaker (to the incident flow, through a queue).
- ``BreakerDescription``: a breaker as ``GET /sre/circuit-breakers`` shows it (the dashboard).

Golden JSON of each lives in ``tests/fixtures/records/`` (see tests/support/golden.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

Json = dict[str, Any]


@dataclass(frozen=True)
class BreakerTransition:
    breaker: str
    old_state: str
    new_state: str
    # reason, at (epoch seconds), failures, opened_at, shared, ... (chalicelib.resilience.listeners)
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> Json:
        return {"breaker": self.breaker, "old_state": self.old_state, "new_state": self.new_state,
                "details": dict(self.details)}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "BreakerTransition":
        return cls(breaker=body["breaker"], old_state=body["old_state"], new_state=body["new_state"],
                   details=dict(body.get("details") or {}))


@dataclass(frozen=True)
class BreakerDescription:
    name: str
    state: str
    forced_open: bool
    failure_count: int
    success_count: int
    thresholds: Mapping[str, Any]
    opened_at: Optional[str]
    seconds_until_half_open: Optional[float]
    probe_lease_until: Optional[str]
    shared_state: bool
    recent_transitions: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> Json:
        return {"name": self.name, "state": self.state, "forced_open": self.forced_open,
                "failure_count": self.failure_count, "success_count": self.success_count,
                "thresholds": dict(self.thresholds), "opened_at": self.opened_at,
                "seconds_until_half_open": self.seconds_until_half_open,
                "probe_lease_until": self.probe_lease_until, "shared_state": self.shared_state,
                "recent_transitions": [dict(entry) for entry in self.recent_transitions]}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "BreakerDescription":
        return cls(name=body["name"], state=body["state"], forced_open=bool(body["forced_open"]),
                   failure_count=int(body["failure_count"]), success_count=int(body["success_count"]),
                   thresholds=dict(body["thresholds"]), opened_at=body["opened_at"],
                   seconds_until_half_open=body["seconds_until_half_open"],
                   probe_lease_until=body["probe_lease_until"], shared_state=bool(body["shared_state"]),
                   recent_transitions=tuple(dict(entry) for entry in body.get("recent_transitions") or ()))
