"""Adapters from other capabilities' ports to a dashboard section (``dashboard_section()``).

Each returns the section's body plus ``reads``, the number of store reads it made.
"""
from __future__ import annotations

from typing import Any

# CapacityPlanner.plan(): the latest utilization report and the latest saturation point per unit.
CAPACITY_PLAN_READS = 3


class CapacitySection:
    """The capacity plan (``GET /sre/capacity``) as the dashboard shows it: what was collected,
    each forecast with its days to the nearest limit, and the recommendations."""

    def __init__(self, planner: Any) -> None:
        self._planner = planner

    def dashboard_section(self) -> dict[str, Any]:
        plan = self._planner.plan()
        if plan.get("collected_at") is None:
            return {"reads": CAPACITY_PLAN_READS, "note": plan["data"].get("note", "no utilization collected yet")}
        peaks = {row["series"]: row.get("latest_peak") for row in plan["utilization"]}
        items = []
        for forecast in plan["forecasts"]:
            reached = [limit for limit in forecast["limits"] if limit["days"] is not None]
            nearest = min(reached, key=lambda limit: limit["days"]) if reached else None
            items.append({"series": forecast["series"], "model": forecast["model"],
                          "history_days": forecast["history_days"], "latest_peak": peaks.get(forecast["series"]),
                          "slope_per_day": forecast["slope_per_day"],
                          "nearest_limit": nearest["limit"] if nearest else None,
                          "days_to_limit": nearest["days"] if nearest else None,
                          "reason": forecast["reason"], "next_7_days": forecast["next_7_days"]})
        return {"reads": CAPACITY_PLAN_READS,
                "summary": {"collected_at": plan["collected_at"], "days_of_data": plan["data"]["days_of_data"],
                            "series": plan["data"]["series"], "recommendations": len(plan["recommendations"])},
                "items": items,
                "recommendations": [{key: item[key] for key in ("kind", "resource", "action", "reason")}
                                    for item in plan["recommendations"]]}
