"""The capacity endpoints: ``GET /sre/capacity`` (the plan), ``POST /sre/capacity/collect``
(collect utilization now; the daily schedule does the same) and ``POST /sre/capacity/saturation``
(record what a capacity test measured). Both writes need the operator token."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from chalice import Blueprint

from chalicelib.auth import operator_action
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import json_object, no_body, no_query


def build_blueprint(wired: Callable[[], Any]) -> Blueprint:
    """The capacity routes, through ``wired()`` (``chalicelib.wiring.current``)."""
    blueprint = ReusableBlueprint(__name__)

    @blueprint.route("/sre/capacity", methods=["GET"])
    def capacity_plan() -> dict[str, Any]:
        no_query(blueprint.current_request)
        return wired().capacity_planner.plan()

    @blueprint.route("/sre/capacity/collect", methods=["POST"])
    def collect_capacity() -> dict[str, Any]:
        request = blueprint.current_request
        with operator_action(wired().operator_auth, request.headers, "capacity.collect", "utilization") as acting:
            no_query(request)
            no_body(request)
            report = wired().capacity_collector().run()
            acting.target = f"utilization report {report.collected_at}"
            return {"collected_at": report.collected_at, "series": len(report.series),
                    "days_of_data": report.days_of_data, "errors": list(report.errors),
                    "reads": dict(report.reads), "operator": acting.operator}

    @blueprint.route("/sre/capacity/saturation", methods=["POST"])
    def record_saturation_point() -> dict[str, Any]:
        from chalicelib.capacity.saturation import saturation_from_body
        from chalicelib.slo.timeutil import utc_now

        request = blueprint.current_request
        with operator_action(wired().operator_auth, request.headers, "capacity.saturation", "saturation point") as acting:
            no_query(request)
            point = replace(saturation_from_body(json_object(request), utc_now().isoformat()),
                            recorded_by=acting.operator)
            wired().capacity_store.put_saturation(point)
            acting.target = f"saturation point per {point.capacity_unit} {point.measured_at}"
            return {"saturation_point": point.to_json(), "operator": acting.operator}

    return blueprint
