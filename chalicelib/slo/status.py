"""Reading what the evaluator stored: for the endpoints, and for other flows (chaos reads the
budget policy state before an experiment; deploy pipelines read the release freeze).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Optional

from chalicelib.slo.budget import INSUFFICIENT_HISTORY, freezes_releases
from chalicelib.slo.config import SloDefinition, find_slo
from chalicelib.slo.records import SloSnapshot
from chalicelib.slo.store import AlertStore, BucketStore, StatusStore
from chalicelib.slo.timeutil import floor_hour, format_minutes, iso, parse_iso, utc_now

# Up to this many hours an SLO's history is every evaluated minute (360 points); longer, one per hour.
MINUTE_HISTORY_HOURS = 6


class UnknownSlo(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"Unknown SLO {name!r}")
        self.name, self.known = name, known


@dataclass(frozen=True)
class BudgetState:
    slo: str
    state: str  # healthy | warning | exhausted | insufficient_history
    remaining_ratio: Optional[float]
    freezes_releases: bool
    evaluated_at: Optional[str]
    history: Optional[dict[str, Any]] = None
    unknown_reason: Optional[str] = None  # why remaining_ratio is None

    def to_json(self) -> dict[str, Any]:
        return {"slo": self.slo, "state": self.state, "remaining_ratio": self.remaining_ratio,
                "freezes_releases": self.freezes_releases, "evaluated_at": self.evaluated_at,
                "history": self.history, "unknown_reason": self.unknown_reason}


class SloStatusReader:
    """What the endpoints, and other flows (chaos, deploy pipelines), read of the SLO engine."""

    def __init__(self, slos: Iterable[SloDefinition], *, status: StatusStore, alerts: AlertStore,
                 buckets: BucketStore, stale_after_seconds: int, history_days: int = 7,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.history_days = history_days
        self.slos = tuple(slos)
        self.status = status
        self._alerts = alerts
        self._buckets = buckets
        self.stale_after_seconds = stale_after_seconds
        self.clock = clock

    def _slo(self, name: str) -> SloDefinition:
        slo = find_slo(self.slos, name)
        if slo is None:
            raise UnknownSlo(name, [item.name for item in self.slos])
        return slo

    def summaries(self) -> list[dict[str, Any]]:
        snapshots = self.status.latest(slo.name for slo in self.slos)
        return [self._summary(slo, snapshots.get(slo.name)) for slo in self.slos]

    def _summary(self, slo: SloDefinition, snapshot: Optional[SloSnapshot]) -> dict[str, Any]:
        body = {"name": slo.name, "display_name": slo.display_name, "target": slo.target,
                "definition": slo.describe()}
        if snapshot is None:
            return {**body, "evaluated": False, "evaluated_at": None, "windows": {}, "budget": None, "tiers": [],
                    "open_alerts": []}
        stored = snapshot.to_json()
        return {**body, "evaluated": True, **{key: stored[key] for key in
                                              ("evaluated_at", "windows", "budget", "tiers", "open_alerts")}}

    def detail(self, name: str, hours: int) -> dict[str, Any]:
        slo = self._slo(name)
        summary = self._summary(slo, self.status.latest([name]).get(name))
        end = self.clock()
        start = end - timedelta(hours=hours)
        hourly = self._buckets.query(name, "h", floor_hour(start), end)
        # A week of minute points is 10,080 reads: past MINUTE_HISTORY_HOURS the history is the
        # evaluator's hourly rollup (the last point of each hour).
        if hours <= MINUTE_HISTORY_HOURS:
            resolution, history = "minute", self.status.history(name, start, end)
        else:
            resolution, history = "hour", self.status.hourly_history(name, start, end)
        summary["series"] = {
            "hours": [{"start": iso(moment), "good": counts.get("good", 0), "valid": counts.get("valid", 0),
                       "sli": counts["good"] / counts["valid"] if counts.get("valid") else None}
                      for moment, counts in sorted(hourly.items())],
            "history_resolution": resolution,
            "history": [point.to_json() for point in history],
        }
        return summary

    def budget_states(self) -> dict[str, BudgetState]:
        snapshots = self.status.latest(slo.name for slo in self.slos)
        states = {}
        for slo in self.slos:
            snapshot = snapshots.get(slo.name)
            if snapshot is None:  # never evaluated: no history, nothing for the policy to act on
                states[slo.name] = BudgetState(slo.name, INSUFFICIENT_HISTORY, None, False, None,
                                               unknown_reason="not evaluated yet: no requests counted")
                continue
            states[slo.name] = BudgetState(slo.name, snapshot.budget.state, snapshot.budget.remaining_ratio,
                                           snapshot.budget.freezes_releases, snapshot.evaluated_at,
                                           dict(snapshot.budget.history), snapshot.budget.unknown_reason)
        return states

    def budget_state(self, name: str) -> BudgetState:
        """The budget policy state of one SLO as last evaluated (raises UnknownSlo)."""
        self._slo(name)
        return self.budget_states()[name]

    def release_decision(self, name: Optional[str] = None) -> dict[str, Any]:
        """Whether releases are frozen, and for each freezing SLO why, since when and what unfreezes it."""
        states = self.budget_states() if name is None else {name: self.budget_state(name)}
        frozen = [state for state in states.values() if state.freezes_releases]
        return {"releases_frozen": bool(frozen), "frozen_by": [state.slo for state in frozen],
                "reasons": [self._freeze_reason(state) for state in frozen],
                "slos": [state.to_json() for state in states.values()]}

    def releases_frozen(self) -> bool:
        return self.release_decision()["releases_frozen"]

    def _freeze_reason(self, state: BudgetState) -> dict[str, Any]:
        slo = self._slo(state.slo)
        snapshot = self.status.latest([slo.name]).get(slo.name)
        period = snapshot.period_window if snapshot else {}
        policy = slo.policy.freeze_releases_when
        threshold = 0.0 if policy == "exhausted" else slo.policy.warning_below
        # Failed events beyond what would leave the ratio at the threshold: they must age out of the window.
        over = None
        if period.get("budget_total") is not None:
            over = max(0, round(period["budget_consumed"] - period["budget_total"] * (1 - threshold)))
        return {
            "slo": slo.name, "state": state.state, "remaining_ratio": state.remaining_ratio,
            "since": self._frozen_since(slo, state.evaluated_at),
            "policy": f"freeze releases when the budget is {policy}",
            "unfreezes_when": (f"the {format_minutes(slo.period_minutes)} budget remaining ratio rises "
                               f"{'above 0' if policy == 'exhausted' else f'to {threshold:g} or more'}: "
                               f"{over if over is not None else 'the'} failed events over that must age out of "
                               f"the rolling window (no new failures), or the objective or policy in "
                               f"slos/ changes through review"),
            "failed_events_to_age_out": over,
        }

    def _frozen_since(self, slo: SloDefinition, evaluated_at: Optional[str]) -> Optional[str]:
        """The first history point of the current freeze (within the kept history)."""
        if evaluated_at is None:
            return None
        end = parse_iso(evaluated_at)
        points = self.status.history(slo.name, end - timedelta(days=self.history_days), end)
        since = None
        for point in reversed(points):
            if not freezes_releases(point.state, slo.policy.freeze_releases_when):
                break
            since = point.at
        return since or evaluated_at

    def alerts(self, state: str, limit: int) -> dict[str, Any]:
        open_alerts = self._alerts.listing("open", limit)
        recent = [] if state == "open" else self._alerts.listing("alert", limit)
        if state == "resolved":
            recent = [alert for alert in recent if alert.state == "resolved"]
        return {"open": [alert.to_json() for alert in open_alerts] if state != "resolved" else [],
                "recent": [alert.to_json() for alert in recent], "tiers": self.tier_states()}

    def open_alerts(self, limit: int) -> list[dict[str, Any]]:
        """The open alerts, newest first (one query)."""
        return [alert.to_json() for alert in self._alerts.listing("open", limit)]

    def tier_states(self) -> list[dict[str, Any]]:
        """Every SLO tier as last evaluated: firing, suppressed (and by which faster tier), ok or
        insufficient_data."""
        snapshots = self.status.latest(slo.name for slo in self.slos)
        rows = []
        for slo in self.slos:
            snapshot = snapshots.get(slo.name)
            for tier in snapshot.tiers if snapshot else ():
                rows.append({"slo": slo.name, "tier": tier["name"], "severity": tier["severity"],
                             "state": tier["state"], "suppressed_by": tier.get("suppressed_by"),
                             "evaluated_at": snapshot.evaluated_at})
        return rows

    def service_metrics(self) -> dict[str, Any]:
        snapshot = self.status.service_snapshot()
        return snapshot.to_json() if snapshot else {"evaluated_at": None, "windows": {}}

    def plane_health(self) -> dict[str, Any]:
        record = self.status.evaluator_record()
        now = self.clock()
        stale_after = self.stale_after_seconds
        if record is None:
            return {"status": "never_run", "last_run_at": None, "lag_seconds": None,
                    "newest_data_minute": None, "data_age_seconds": None, "last_run": None,
                    "stale_after_seconds": stale_after}
        # No last_end: every run so far had errors, so none has moved on (SloEvaluator.run).
        last_end = record.get("last_end")
        lag = (now - parse_iso(last_end)).total_seconds() if last_end else None
        newest = record.get("newest_data_minute")
        data_age = (now - parse_iso(newest)).total_seconds() if newest else None
        errors = record.get("last_run", {}).get("errors") or []
        status = "stale" if lag is not None and lag > stale_after else ("degraded" if errors or lag is None else "ok")
        return {"status": status, "last_run_at": record.get("last_run_at"), "last_evaluated_minute": last_end,
                "lag_seconds": lag, "newest_data_minute": newest, "data_age_seconds": data_age,
                "stale_after_seconds": stale_after, "last_run": record.get("last_run")}
