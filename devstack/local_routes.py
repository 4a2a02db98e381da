"""Routes only the local stack has: the webhook receiver and the DynamoDB fault switch.

``register_local_routes(app, wired)`` adds them to the app the local stack serves (the ECS
variant serves the receiver alone, as ``receiver_app``, on a port of its own); the
Lambda package never contains them (``scripts/package_chalice.py`` leaves ``devstack/`` out).
Reading or switching them needs the operator token; only the signed webhook delivery
itself (``POST /_local/webhook-receiver``, checked by its HMAC signature) does not.
None of these requests is an SLI event: the receiver's simulated outage answers 503 by
design, and that is not the API failing its users.
"""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint, Chalice

from chalicelib.auth import operator_action
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import check_body_size, json_object
from chalicelib.http.routing import answer_wrong_methods_with_405, take_over_media_type_checks
from chalicelib.observability.middleware import allow_anonymous_write
from chalicelib.observability.request_context import exclude_from_sli
from devstack.dynamodb_faults import LocalFaultControl
from devstack.webhook_receiver import RECEIVER_PATH, WebhookReceiver


def _operator_checks(blueprint: Blueprint, wired: Callable[[], Any]) -> tuple[Callable[[], None], Callable[..., Any]]:
    def require_operator() -> None:
        wired().operator_auth.require(blueprint.current_request.headers)

    def audited(action: str, target: str) -> Any:
        """Switching local faults is a control-plane action like any other: audited by name."""
        return operator_action(wired().operator_auth, blueprint.current_request.headers, action, target)

    return require_operator, audited


def build_receiver_blueprint(wired: Callable[[], Any], receiver: WebhookReceiver) -> Blueprint:
    blueprint = ReusableBlueprint(__name__)
    require_operator, audited = _operator_checks(blueprint, wired)

    allow_anonymous_write(RECEIVER_PATH, "POST")  # a delivery proves itself by its signature

    @blueprint.route(RECEIVER_PATH, methods=["POST", "GET", "DELETE"])
    def local_webhook_receiver():
        exclude_from_sli()
        request = blueprint.current_request
        if request.method == "POST":
            return receiver.receive(request.headers, check_body_size(request))
        if request.method == "DELETE":
            with audited("local-webhook-receiver.clear", "webhook-receiver"):
                receiver.clear()
                return receiver.listing()
        require_operator()
        return receiver.listing()

    @blueprint.route(f"{RECEIVER_PATH}/outage", methods=["PUT"])
    def local_webhook_receiver_outage():
        exclude_from_sli()
        with audited("local-webhook-receiver.outage", "webhook-receiver"):
            return receiver.set_outage(json_object(blueprint.current_request, allowed=("enabled",)))

    return blueprint


def build_fault_blueprint(wired: Callable[[], Any], faults: LocalFaultControl) -> Blueprint:
    blueprint = ReusableBlueprint(__name__)
    require_operator, audited = _operator_checks(blueprint, wired)

    @blueprint.route("/_local/faults/dynamodb", methods=["GET", "PUT", "DELETE"])
    def local_dynamodb_fault():
        """Make the users store's DynamoDB calls fail in this process."""
        exclude_from_sli()
        request = blueprint.current_request
        if request.method == "GET":
            require_operator()
            return faults.describe()
        with audited(f"local-fault.{'activate' if request.method == 'PUT' else 'clear'}", "dynamodb"):
            if request.method == "PUT":
                return faults.activate(json_object(request, allowed=LocalFaultControl.FIELDS))
            return faults.clear()

    return blueprint


def _receiver(wired: Callable[[], Any]) -> WebhookReceiver:
    return WebhookReceiver(lambda: wired().secrets.read_field(wired().settings.webhooks.signing_secret, "key"))


def register_local_routes(app: Chalice, wired: Callable[[], Any]) -> tuple[WebhookReceiver, LocalFaultControl]:
    """Add the local-only routes to ``app``; returns the receiver and the fault control they act on."""
    receiver = _receiver(wired)
    faults = LocalFaultControl(lambda: wired().user_models)
    app.register_blueprint(build_receiver_blueprint(wired, receiver))
    app.register_blueprint(build_fault_blueprint(wired, faults))
    take_over_media_type_checks(app)
    answer_wrong_methods_with_405(app)
    return receiver, faults


def receiver_app(wired: Callable[[], Any]) -> Chalice:
    """The webhook receiver as an app of its own: the ECS variant's container serves the service's app
    alone (its image has no devstack), so the local stack serves the receiver on another port. With
    the service's middleware: the same JSON errors, request records and EMF."""
    from chalicelib.observability.middleware import http_middleware

    app = Chalice(app_name="serverless-sre-webhook-receiver")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(build_receiver_blueprint(wired, _receiver(wired)))
    take_over_media_type_checks(app)
    answer_wrong_methods_with_405(app)
    return app
