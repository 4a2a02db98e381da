"""Operating endpoints of the breakers: list them, open/close/reset one (operator token)."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint

from chalicelib.auth import operator_action
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import json_object, no_query


def _optional_body(request) -> dict:
    raw = request.raw_body
    if not raw or not raw.strip():
        return {}
    return json_object(request, allowed=("reason",))


def build_blueprint(wired: Callable[[], Any]) -> Blueprint:
    """The breaker operating routes, through ``wired()`` (``chalicelib.wiring.current``)."""
    blueprint = ReusableBlueprint(__name__)

    @blueprint.route("/sre/circuit-breakers", methods=["GET"])
    def list_circuit_breakers():
        no_query(blueprint.current_request)
        return wired().breaker_operations.list()

    def _act(name: str, action: str) -> dict:
        request = blueprint.current_request
        with operator_action(wired().operator_auth, request.headers, f"circuit-breaker.{action}", name) as acting:
            no_query(request)
            return wired().breaker_operations.act(name, action, _optional_body(request), operator=acting.operator)

    @blueprint.route("/sre/circuit-breakers/{name}/open", methods=["POST"])
    def open_circuit_breaker(name):
        return _act(name, "open")

    @blueprint.route("/sre/circuit-breakers/{name}/close", methods=["POST"])
    def close_circuit_breaker(name):
        return _act(name, "close")

    @blueprint.route("/sre/circuit-breakers/{name}/reset", methods=["POST"])
    def reset_circuit_breaker(name):
        return _act(name, "reset")

    return blueprint
