"""Reading what the evaluator stored: for the endpoints, and for other flows (chaos reads the
budget policy state before an experiment; deploy pipelines read the release freeze).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Optional

from chalicelib.settings import get_settings
from chalicelib.slo.budget import HEALTHY, freezes_releases
from chalicelib.slo.config import SloDefinition, find_slo, get_slos
from chalicelib.slo.store import SERVICE_SERIES, AlertStore, BucketStore, StatusStore
from chalicelib.slo.timeutil import floor_hour, iso, parse_iso, utc_now


class UnknownSlo(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"Unknown SLO {name!r}")
        self.name, self.known = name, known


@dataclass(frozen=True)
class BudgetState:
    slo: str
    state: str  # healthy | warning | exhausted
    remaining_ratio: Optional[float]
    freezes_releases: bool
    evaluated_at: Optional[str]

    def to_json(self) -> dict[str, Any]:
        return {"slo": self.slo, "state": self.state, "remaining_ratio": self.remaining_ratio,
                "freezes_releases": self.freezes_releases, "evaluated_at": self.evaluated_at}


class SloStatusReader:
    def __init__(self, slos: Optional[tuple[SloDefinition, ...]] = None, status: Optional[StatusStore] = None,
                 alerts: Optional[AlertStore] = None, buckets: Optional[BucketStore] = None,
                 clock=utc_now) -> None:
        self.slos = slos if slos is not None else get_slos()
        self._status, self._alerts, self._buckets = status, alerts, buckets
        self.clock = clock

    @property
    def status(self) -> StatusStore:
        self._status = self._status or StatusStore()
        return self._status

    def _slo(self, name: str) -> SloDefinition:
        slo = find_slo(self.slos, name)
        if slo is None:
            raise UnknownSlo(name, [item.name for item in self.slos])
        return slo

    def summaries(self) -> list[dict[str, Any]]:
        snapshots = self.status.latest(slo.name for slo in self.slos)
        return [self._summary(slo, snapshots.get(slo.name)) for slo in self.slos]

    def _summary(self, slo: SloDefinition, snapshot: Optional[dict[str, Any]]) -> dict[str, Any]:
        body = {"name": slo.name, "display_name": slo.display_name, "target": slo.target,
                "definition": slo.describe()}
        if snapshot is None:
            return {**body, "evaluated": False, "evaluated_at": None, "windows": {}, "budget": None, "tiers": [],
                    "open_alerts": []}
        return {**body, "evaluated": True, **{key: snapshot[key] for key in
                                              ("evaluated_at", "windows", "budget", "tiers", "open_alerts")}}

    def detail(self, name: str, hours: int) -> dict[str, Any]:
        slo = self._slo(name)
        summary = self._summary(slo, self.status.latest([name]).get(name))
        end = self.clock()
        start = end - timedelta(hours=hours)
        buckets = self._buckets or BucketStore()
        hourly = buckets.query(name, "h", floor_hour(start), end)
        summary["series"] = {
            "hours": [{"start": iso(moment), "good": counts.get("good", 0), "valid": counts.get("valid", 0),
                       "sli": counts["good"] / counts["valid"] if counts.get("valid") else None}
                      for moment, counts in sorted(hourly.items())],
            "history": self.status.history(name, start, end),
        }
        return summary

    def budget_states(self) -> dict[str, BudgetState]:
        snapshots = self.status.latest(slo.name for slo in self.slos)
        states = {}
        for slo in self.slos:
            snapshot = snapshots.get(slo.name)
            if snapshot is None:  # never evaluated: nothing is known to be spent
                states[slo.name] = BudgetState(slo.name, HEALTHY, None,
                                               freezes_releases(HEALTHY, slo.policy.freeze_releases_when), None)
                continue
            info = snapshot["budget"]
            states[slo.name] = BudgetState(slo.name, info["state"], info["remaining_ratio"],
                                           info["freezes_releases"], snapshot["evaluated_at"])
        return states

    def budget_state(self, name: str) -> BudgetState:
        self._slo(name)
        return self.budget_states()[name]

    def release_decision(self, name: Optional[str] = None) -> dict[str, Any]:
        states = self.budget_states() if name is None else {name: self.budget_state(name)}
        frozen_by = [state.slo for state in states.values() if state.freezes_releases]
        return {"releases_frozen": bool(frozen_by), "frozen_by": frozen_by,
                "slos": [state.to_json() for state in states.values()]}

    def alerts(self, state: str, limit: int) -> dict[str, Any]:
        store = self._alerts or AlertStore()
        open_alerts = store.listing("open", limit)
        recent = [] if state == "open" else store.listing("alert", limit)
        if state == "resolved":
            recent = [alert for alert in recent if alert["state"] == "resolved"]
        return {"open": open_alerts if state != "resolved" else [], "recent": recent}

    def service_metrics(self) -> dict[str, Any]:
        snapshot = self.status.latest([SERVICE_SERIES]).get(SERVICE_SERIES)
        return snapshot or {"evaluated_at": None, "windows": {}}

    def plane_health(self) -> dict[str, Any]:
        record = self.status.evaluator_record()
        now = self.clock()
        stale_after = get_settings().slo_stale_after_seconds
        if record is None:
            return {"status": "never_run", "last_run_at": None, "lag_seconds": None,
                    "newest_data_minute": None, "data_age_seconds": None, "last_run": None,
                    "stale_after_seconds": stale_after}
        lag = (now - parse_iso(record["last_end"])).total_seconds()
        newest = record.get("newest_data_minute")
        data_age = (now - parse_iso(newest)).total_seconds() if newest else None
        errors = record.get("last_run", {}).get("errors") or []
        status = "stale" if lag > stale_after else ("degraded" if errors else "ok")
        return {"status": status, "last_run_at": record.get("last_run_at"), "last_evaluated_minute": record["last_end"],
                "lag_seconds": lag, "newest_data_minute": newest, "data_age_seconds": data_age,
                "stale_after_seconds": stale_after, "last_run": record.get("last_run")}


def budget_state(slo_name: Optional[str] = None) -> BudgetState | dict[str, BudgetState]:
    """The budget policy state of one SLO (raises UnknownSlo) or of all, as last evaluated."""
    reader = SloStatusReader()
    return reader.budget_states() if slo_name is None else reader.budget_state(slo_name)


def releases_frozen() -> bool:
    return SloStatusReader().release_decision()["releases_frozen"]
