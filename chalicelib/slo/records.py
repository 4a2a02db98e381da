"""What the SLO engine hands to other capabilities, as typed records with one JSON form each.

- ``SloSnapshot``: the latest figures of one SLO (``/sre/slos``, the release freeze, chaos).
- ``HistoryPoint``: one hourly point of an SLO's history (charts, postmortem budget impact).
- ``Alert``: a burn-rate alert, as handed to an ``AlertSink`` (the incident flow).
- ``SloEvaluation``: one SLO's page picture after a run (the incident flow keeps one incident
  per SLO problem from it).
- ``ServiceWindow`` / ``ServiceSnapshot``: the service's own request figures (``/sre/metrics``).

``to_json`` is what is stored and served; ``from_json(to_json(x)) == x``. Golden fixtures of
each live in ``tests/fixtures/records/``: the engine's tests write them, consumers' tests read them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

Json = dict[str, Any]


@dataclass(frozen=True)
class BudgetSummary:
    state: str  # healthy | warning | exhausted | insufficient_history
    # how much of the period holds data: since, minutes, required_minutes, valid_events,
    # required_events, sufficient (chalicelib.slo.budget.HistoryCoverage)
    history: Mapping[str, Any]
    remaining_ratio: Optional[float]
    total: Optional[float]
    consumed: Optional[float]
    remaining: Optional[float]
    warning_below: float
    freezes_releases: bool
    # Why remaining_ratio/total/remaining are None: no valid events in the period yet (else None).
    unknown_reason: Optional[str] = None

    def to_json(self) -> Json:
        return {"state": self.state, "history": dict(self.history),
                "remaining_ratio": self.remaining_ratio, "total": self.total, "consumed": self.consumed,
                "remaining": self.remaining, "warning_below": self.warning_below,
                "freezes_releases": self.freezes_releases, "unknown_reason": self.unknown_reason}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "BudgetSummary":
        return cls(state=body["state"], history=dict(body["history"]),
                   remaining_ratio=body["remaining_ratio"], total=body["total"], consumed=body["consumed"],
                   remaining=body["remaining"], warning_below=body["warning_below"],
                   freezes_releases=bool(body["freezes_releases"]), unknown_reason=body.get("unknown_reason"))


@dataclass(frozen=True)
class SloSnapshot:
    slo: str
    display_name: str
    evaluated_at: str
    target: float
    period: str
    budgeting_method: str
    unit: str
    indicator: str
    # window name ("5m", "1h", "28d") -> figures (sli, good, valid, burn_rate, budget..., seconds_to_exhaustion)
    windows: Mapping[str, Mapping[str, Any]]
    budget: BudgetSummary
    # one verdict per burn-rate tier, fastest first (name, state, burn rates, thresholds, windows)
    tiers: tuple[Mapping[str, Any], ...]
    open_alerts: tuple[str, ...] = ()

    def to_json(self) -> Json:
        return {"slo": self.slo, "display_name": self.display_name, "evaluated_at": self.evaluated_at,
                "target": self.target, "period": self.period, "budgeting_method": self.budgeting_method,
                "unit": self.unit, "indicator": self.indicator,
                "windows": {name: dict(figures) for name, figures in self.windows.items()},
                "budget": self.budget.to_json(), "tiers": [dict(tier) for tier in self.tiers],
                "open_alerts": list(self.open_alerts)}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "SloSnapshot":
        return cls(slo=body["slo"], display_name=body["display_name"], evaluated_at=body["evaluated_at"],
                   target=body["target"], period=body["period"], budgeting_method=body["budgeting_method"],
                   unit=body["unit"], indicator=body["indicator"],
                   windows={name: dict(figures) for name, figures in body["windows"].items()},
                   budget=BudgetSummary.from_json(body["budget"]),
                   tiers=tuple(dict(tier) for tier in body["tiers"]),
                   open_alerts=tuple(body.get("open_alerts") or ()))

    @property
    def period_window(self) -> Mapping[str, Any]:
        return self.windows[self.period]


@dataclass(frozen=True)
class HistoryPoint:
    at: str
    sli: Optional[float]
    good: int
    valid: int
    budget_remaining_ratio: Optional[float]
    burn_rate_1h: Optional[float]
    state: str
    firing: tuple[str, ...] = ()
    history_minutes: int = 0
    history_sufficient: bool = False

    def to_json(self) -> Json:
        return {"at": self.at, "sli": self.sli, "good": self.good, "valid": self.valid,
                "budget_remaining_ratio": self.budget_remaining_ratio, "burn_rate_1h": self.burn_rate_1h,
                "state": self.state, "firing": list(self.firing), "history_minutes": self.history_minutes,
                "history_sufficient": self.history_sufficient}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "HistoryPoint":
        return cls(at=body["at"], sli=body["sli"], good=int(body["good"]), valid=int(body["valid"]),
                   budget_remaining_ratio=body["budget_remaining_ratio"], burn_rate_1h=body["burn_rate_1h"],
                   state=body["state"], firing=tuple(body.get("firing") or ()),
                   history_minutes=int(body.get("history_minutes", 0)),
                   history_sufficient=bool(body.get("history_sufficient", False)))

    @classmethod
    def of(cls, snapshot: SloSnapshot, firing_state: str = "firing") -> "HistoryPoint":
        period = snapshot.period_window
        hour = snapshot.windows["1h"]
        return cls(at=snapshot.evaluated_at, sli=period["sli"], good=period["good"], valid=period["valid"],
                   budget_remaining_ratio=period["budget_remaining_ratio"], burn_rate_1h=hour["burn_rate"],
                   state=snapshot.budget.state,
                   firing=tuple(tier["name"] for tier in snapshot.tiers if tier["state"] == firing_state),
                   history_minutes=int(snapshot.budget.history.get("minutes", 0)),
                   history_sufficient=bool(snapshot.budget.history.get("sufficient", False)))


@dataclass(frozen=True)
class Alert:
    id: str
    slo: str
    slo_display_name: str
    tier: str
    severity: str  # page | ticket
    state: str  # open | resolved
    opened_at: str
    burn_rate_threshold: float
    long_window: str
    short_window: str
    long_burn_rate: Optional[float]
    short_burn_rate: Optional[float]
    budget_remaining_ratio: Optional[float]
    runbook: str
    runbook_url: str
    summary: str
    resolved_at: Optional[str] = None
    resolution: Optional[str] = None
    resolved_long_burn_rate: Optional[float] = None
    resolved_short_burn_rate: Optional[float] = None

    def to_json(self) -> Json:
        body = {"id": self.id, "slo": self.slo, "slo_display_name": self.slo_display_name, "tier": self.tier,
                "severity": self.severity, "state": self.state, "opened_at": self.opened_at,
                "resolved_at": self.resolved_at, "burn_rate_threshold": self.burn_rate_threshold,
                "long_window": self.long_window, "short_window": self.short_window,
                "long_burn_rate": self.long_burn_rate, "short_burn_rate": self.short_burn_rate,
                "budget_remaining_ratio": self.budget_remaining_ratio, "runbook": self.runbook,
                "runbook_url": self.runbook_url, "summary": self.summary}
        if self.resolution is not None:
            body.update(resolution=self.resolution, resolved_long_burn_rate=self.resolved_long_burn_rate,
                        resolved_short_burn_rate=self.resolved_short_burn_rate)
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Alert":
        return cls(**{name: body[name] for name in cls.__dataclass_fields__ if name in body})


@dataclass(frozen=True)
class SloEvaluation:
    """One SLO after one evaluator run, as the incident side needs it."""

    slo: str
    display_name: str
    at: str  # the evaluated minute
    page_tiers: tuple[str, ...]  # the SLO's page tiers, fastest first
    firing_pages: tuple[Alert, ...] = ()  # its open page-tier alerts, fastest first
    budget_state: str = "insufficient_history"
    budget_remaining_ratio: Optional[float] = None

    def to_json(self) -> Json:
        return {"slo": self.slo, "display_name": self.display_name, "at": self.at,
                "page_tiers": list(self.page_tiers), "firing_pages": [alert.to_json() for alert in self.firing_pages],
                "budget_state": self.budget_state, "budget_remaining_ratio": self.budget_remaining_ratio}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "SloEvaluation":
        return cls(slo=body["slo"], display_name=body["display_name"], at=body["at"],
                   page_tiers=tuple(body["page_tiers"]),
                   firing_pages=tuple(Alert.from_json(alert) for alert in body.get("firing_pages") or ()),
                   budget_state=body["budget_state"], budget_remaining_ratio=body.get("budget_remaining_ratio"))


@dataclass(frozen=True)
class ServiceWindow:
    window: str
    counts: Mapping[str, int]
    requests: int
    request_rate_per_second: float
    valid_requests: int
    server_errors: int
    error_rate: Optional[float]
    latency_good_ratio: Mapping[str, Optional[float]]
    probe_success_ratio: Optional[float]

    def to_json(self) -> Json:
        return {"window": self.window, "counts": dict(self.counts), "requests": self.requests,
                "request_rate_per_second": self.request_rate_per_second, "valid_requests": self.valid_requests,
                "server_errors": self.server_errors, "error_rate": self.error_rate,
                "latency_good_ratio": dict(self.latency_good_ratio),
                "probe_success_ratio": self.probe_success_ratio}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "ServiceWindow":
        return cls(window=body["window"], counts=dict(body["counts"]), requests=int(body["requests"]),
                   request_rate_per_second=body["request_rate_per_second"],
                   valid_requests=int(body["valid_requests"]), server_errors=int(body["server_errors"]),
                   error_rate=body["error_rate"], latency_good_ratio=dict(body["latency_good_ratio"]),
                   probe_success_ratio=body["probe_success_ratio"])


@dataclass(frozen=True)
class ServiceSnapshot:
    evaluated_at: Optional[str]
    windows: Mapping[str, ServiceWindow]

    def to_json(self) -> Json:
        return {"evaluated_at": self.evaluated_at,
                "windows": {name: window.to_json() for name, window in self.windows.items()}}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "ServiceSnapshot":
        return cls(evaluated_at=body.get("evaluated_at"),
                   windows={name: ServiceWindow.from_json(window) for name, window in body["windows"].items()})
