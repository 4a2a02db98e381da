"""Adapters from other capabilities' ports to a dashboard section (``dashboard_section()``).

Each returns the section's body plus ``reads``, the number of store reads it made, and may
say its own ``status`` (``ok`` or ``empty``); without one, a body with items or a summary is ``ok``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from chalicelib.slo.timeutil import iso, utc_now

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


class TicketsSection:
    """Tickets (``GET /sre/tickets``): every open one, and those opened in the incident window.

    Two queries of the tickets' listing index, each bounded by ``limit``."""

    READS = 2

    def __init__(self, tickets: Any, *, window_days: int, limit: int,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._tickets = tickets  # chalicelib.incidents.tickets.TicketService
        self._window_days = window_days
        self._limit = limit
        self.clock = clock

    def dashboard_section(self) -> dict[str, Any]:
        since = iso(self.clock() - timedelta(days=self._window_days))
        open_tickets = self._tickets.list(status="open", limit=self._limit)
        recent = self._tickets.list(since=since, limit=self._limit)
        return {"reads": self.READS, "status": "ok" if open_tickets or recent else "empty",
                "window_days": self._window_days, "limit": self._limit,
                "summary": {"open": len(open_tickets), "opened_in_window": len(recent),
                            "linked_to_incidents": sum(1 for ticket in recent if ticket.incident_id)},
                "open": [ticket.to_json() for ticket in open_tickets],
                "recent": [ticket.to_json() for ticket in recent]}


# What the dashboard shows of an experiment record: its journal and verdict, not its definition
# or the values saved for rollback (GET /sre/chaos/experiments/{id}, with the operator token, has those).
EXPERIMENT_FIELDS = ("id", "title", "source", "targets", "status", "reason", "started_at", "started_by",
                     "ended_at", "stop_condition", "expected_responses", "budget", "breakers", "incidents",
                     "timeline")


def experiment_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """One journal record (``ExperimentRecord.to_json()``) as the dashboard lists it."""
    expected = record["expected_responses"]
    before, after = record["steady_state_before"], record["steady_state_after"]
    return {**{key: record[key] for key in EXPERIMENT_FIELDS},
            "steady_state_before_met": before.get("met") if before else None,
            "steady_state_after_met": after.get("met") if after else None,
            "expected_met": sum(1 for response in expected if response.get("met") is True),
            "expected_total": len(expected)}


class ExperimentsSection:
    """Chaos experiments from the journal: the newest ``limit`` (one query of its listing index),
    the running ones among them first, each with its verdict (status and reason)."""

    READS = 1

    def __init__(self, journal: Any, *, limit: int) -> None:
        self._journal = journal  # chalicelib.chaos.journal.Journal
        self._limit = limit

    def dashboard_section(self) -> dict[str, Any]:
        records = [experiment_summary(record.to_json()) for record in self._journal.listing(self._limit)]
        running = [record for record in records if record["status"] == "running"]
        by_status: dict[str, int] = {}
        for record in records:
            by_status[record["status"]] = by_status.get(record["status"], 0) + 1
        return {"reads": self.READS, "status": "ok" if records else "empty", "limit": self._limit,
                "summary": {"shown": len(records), "running": len(running), "by_status": by_status},
                "running": running, "recent": [record for record in records if record["status"] != "running"]}
