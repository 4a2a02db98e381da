"""Operating endpoints of the breakers, and (local stack only) the DynamoDB fault switch."""
from __future__ import annotations

from chalicelib.auth import operator_action, require_operator
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import json_object

blueprint = ReusableBlueprint(__name__)
local_faults_blueprint = ReusableBlueprint(__name__ + ".local")


def _optional_body(request) -> dict:
    raw = request.raw_body
    if not raw or not raw.strip():
        return {}
    return json_object(request, allowed=("reason",))


@blueprint.route("/sre/circuit-breakers", methods=["GET"])
def list_circuit_breakers():
    from chalicelib.resilience.operations import BreakerOperations

    return BreakerOperations().list()


def _act(name: str, action: str) -> dict:
    from chalicelib.resilience.operations import BreakerOperations

    request = blueprint.current_request
    with operator_action(request.headers, f"circuit-breaker.{action}", name) as acting:
        return BreakerOperations().act(name, action, _optional_body(request), operator=acting.operator)


@blueprint.route("/sre/circuit-breakers/{name}/open", methods=["POST"])
def open_circuit_breaker(name):
    return _act(name, "open")


@blueprint.route("/sre/circuit-breakers/{name}/close", methods=["POST"])
def close_circuit_breaker(name):
    return _act(name, "close")


@blueprint.route("/sre/circuit-breakers/{name}/reset", methods=["POST"])
def reset_circuit_breaker(name):
    return _act(name, "reset")


@local_faults_blueprint.route("/_local/faults/dynamodb", methods=["GET", "PUT", "DELETE"])
def local_dynamodb_fault():
    """Make the users store's DynamoDB calls fail in this process (local stack, operator token)."""
    from chalicelib.resilience.local_faults import LocalFaultControl

    request = local_faults_blueprint.current_request
    control = LocalFaultControl()
    if request.method == "GET":
        require_operator(request.headers)
        return control.describe()
    action = "local-fault.activate" if request.method == "PUT" else "local-fault.clear"
    with operator_action(request.headers, action, "dynamodb"):
        if request.method == "PUT":
            return control.activate(json_object(request, allowed=LocalFaultControl.FIELDS))
        return control.clear()
