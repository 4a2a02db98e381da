"""What capacity planning stores and serves, as typed records with one JSON form each.

- ``Series``: one measured figure (requests of a route, Lambda concurrency, DynamoDB read units,
  ECS CPU...) per hour and as daily peaks, with the limits it is measured against.
- ``UtilizationReport``: one collection run: every series, the configuration read beside them
  (timeout, reserved concurrency, account limit, table modes, ECS bounds) and what was not available.
- ``SaturationPoint``: the highest arrival rate a capacity test measured holding the SLOs,
  per unit of capacity (concurrent execution or task).

``from_json(to_json(x)) == x``; golden fixtures live in ``tests/fixtures/records/``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

Json = dict[str, Any]
NOT_AVAILABLE_LOCALLY = "not available locally"


@dataclass(frozen=True)
class Limit:
    name: str  # e.g. "reserved concurrency", "account concurrency limit", "function timeout"
    value: float
    source: str  # where the figure came from (API call, setting, rule)

    def to_json(self) -> Json:
        return {"name": self.name, "value": self.value, "source": self.source}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Limit":
        return cls(name=body["name"], value=body["value"], source=body["source"])


@dataclass(frozen=True)
class Series:
    name: str  # stable key, e.g. "lambda.concurrent_executions", "requests./users"
    description: str
    unit: str
    # How a day's value is made from its hours, e.g. "highest hourly Maximum" or "busiest hour's Sum".
    daily_statistic: str
    available: bool
    note: str = ""  # why not available, or a caveat
    hourly: tuple[tuple[str, float], ...] = ()  # (hour start ISO, value), recent hours only
    daily_peaks: tuple[tuple[str, float], ...] = ()  # (day ISO date, value), oldest first, no gaps
    limits: tuple[Limit, ...] = ()

    @property
    def latest_peak(self) -> Optional[float]:
        return self.daily_peaks[-1][1] if self.daily_peaks else None

    def utilization(self) -> dict[str, Optional[float]]:
        """Latest daily peak as a share of each limit."""
        peak = self.latest_peak
        return {limit.name: (None if peak is None or not limit.value else round(peak / limit.value, 4))
                for limit in self.limits}

    def to_json(self) -> Json:
        return {"name": self.name, "description": self.description, "unit": self.unit,
                "daily_statistic": self.daily_statistic, "available": self.available, "note": self.note,
                "hourly": [{"hour": hour, "value": value} for hour, value in self.hourly],
                "daily_peaks": [{"day": day, "value": value} for day, value in self.daily_peaks],
                "limits": [limit.to_json() for limit in self.limits]}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Series":
        return cls(name=body["name"], description=body["description"], unit=body["unit"],
                   daily_statistic=body["daily_statistic"], available=bool(body["available"]), note=body["note"],
                   hourly=tuple((point["hour"], point["value"]) for point in body["hourly"]),
                   daily_peaks=tuple((point["day"], point["value"]) for point in body["daily_peaks"]),
                   limits=tuple(Limit.from_json(limit) for limit in body["limits"]))


@dataclass(frozen=True)
class UtilizationReport:
    collected_at: str
    window_start: str  # first hour read
    window_end: str  # end of the last full day read (exclusive)
    local: bool  # collected on the local stack: some figures are not measurable there
    series: tuple[Series, ...]
    # Configuration read beside the metrics: {"lambda": {...}, "dynamodb": {table: {...}}, "ecs": {...}}
    configuration: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    # What the collection asked CloudWatch for (chalicelib.capacity.collector.Reads).
    reads: Mapping[str, int] = field(default_factory=dict)

    def get(self, name: str) -> Optional[Series]:
        return next((series for series in self.series if series.name == name), None)

    @property
    def days_of_data(self) -> int:
        return max((len(series.daily_peaks) for series in self.series if series.available), default=0)

    def to_json(self) -> Json:
        return {"collected_at": self.collected_at, "window_start": self.window_start,
                "window_end": self.window_end, "local": self.local,
                "series": [series.to_json() for series in self.series],
                "configuration": dict(self.configuration), "errors": list(self.errors),
                "reads": dict(self.reads)}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "UtilizationReport":
        return cls(collected_at=body["collected_at"], window_start=body["window_start"],
                   window_end=body["window_end"], local=bool(body["local"]),
                   series=tuple(Series.from_json(series) for series in body["series"]),
                   configuration=dict(body["configuration"]), errors=tuple(body["errors"]),
                   reads=dict(body.get("reads") or {}))  # reports stored before reads were counted


@dataclass(frozen=True)
class SaturationPoint:
    measured_at: str
    target: str  # base URL the test drove
    scenario: str
    # The highest step whose latency and success held the SLOs, and the first that broke them.
    highest_holding_rps: Optional[float]
    breaking_rps: Optional[float]
    breaking_reason: str  # which objective broke at breaking_rps, or why the ramp ended without a break
    capacity_unit: str  # "concurrent execution" or "task"
    capacity_units: float  # how many of them served the test (peak concurrency, running tasks)
    steps: tuple[Mapping[str, Any], ...]  # per step: offered rps, achieved rps, p99 ms, success ratio, held
    recorded_by: Optional[str] = None  # the operator who recorded it (points stored before this say nothing)

    @property
    def rps_per_unit(self) -> Optional[float]:
        if self.highest_holding_rps is None or not self.capacity_units:
            return None
        return round(self.highest_holding_rps / self.capacity_units, 4)

    def to_json(self) -> Json:
        return {"measured_at": self.measured_at, "target": self.target, "scenario": self.scenario,
                "highest_holding_rps": self.highest_holding_rps, "breaking_rps": self.breaking_rps,
                "breaking_reason": self.breaking_reason, "capacity_unit": self.capacity_unit,
                "capacity_units": self.capacity_units, "rps_per_unit": self.rps_per_unit,
                "steps": [dict(step) for step in self.steps], "recorded_by": self.recorded_by}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "SaturationPoint":
        return cls(measured_at=body["measured_at"], target=body["target"], scenario=body["scenario"],
                   highest_holding_rps=body["highest_holding_rps"], breaking_rps=body["breaking_rps"],
                   breaking_reason=body["breaking_reason"], capacity_unit=body["capacity_unit"],
                   capacity_units=body["capacity_units"], steps=tuple(dict(step) for step in body["steps"]),
                   recorded_by=body.get("recorded_by"))
