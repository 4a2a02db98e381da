"""Chaos experiment endpoints (register with ``app.register_blueprint(blueprint)``)."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint, Response

from chalicelib.auth import operator_action
from chalicelib.chaos import api
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import no_body, no_query


def build_blueprint(wired: Callable[[], Any]) -> Blueprint:
    """The chaos routes, each taking what it needs from ``wired()`` (``chalicelib.wiring.current``)."""
    bp = ReusableBlueprint(__name__)

    def service() -> Any:
        return wired().chaos_service

    def acting(action: str, target: str) -> Any:
        return operator_action(wired().operator_auth, bp.current_request.headers, action, target)

    @bp.route("/sre/chaos/experiments", methods=["POST"])
    def start_experiment():
        with acting("chaos.start", "new experiment") as action:
            no_query(bp.current_request)
            body, status = api.start(service(), bp.current_request, action)
            return Response(body=body, status_code=status)

    @bp.route("/sre/chaos/experiments", methods=["GET"])
    def list_experiments():
        with acting("chaos.list", "experiments") as action:
            action.outcome = "read"
            return api.listing(service(), bp.current_request)

    @bp.route("/sre/chaos/experiments/{experiment_id}", methods=["GET"])
    def get_experiment(experiment_id):
        with acting("chaos.read", experiment_id) as action:
            no_query(bp.current_request)
            action.outcome = "read"
            return api.get(service(), experiment_id)

    @bp.route("/sre/chaos/experiments/{experiment_id}/stop", methods=["POST"])
    def stop_experiment(experiment_id):
        with acting("chaos.stop", experiment_id) as action:
            no_query(bp.current_request)
            no_body(bp.current_request)
            return api.stop(service(), experiment_id, action)

    return bp
