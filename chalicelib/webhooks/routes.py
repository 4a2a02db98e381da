"""Local-stack-only webhook receiver routes (register only when ``LOCAL_WEBHOOK_RECEIVER=true``)."""
from __future__ import annotations

from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import check_body_size, json_object

blueprint = ReusableBlueprint(__name__)


@blueprint.route("/_local/webhook-receiver", methods=["POST", "GET", "DELETE"])
def local_webhook_receiver():
    from chalicelib.webhooks.receiver import get_receiver

    request = blueprint.current_request
    receiver = get_receiver()
    if request.method == "POST":
        return receiver.receive(request.headers, check_body_size(request))
    if request.method == "DELETE":
        receiver.clear()
    return receiver.listing()


@blueprint.route("/_local/webhook-receiver/outage", methods=["PUT"])
def local_webhook_receiver_outage():
    from chalicelib.webhooks.receiver import get_receiver

    return get_receiver().set_outage(json_object(blueprint.current_request, allowed=("enabled",)))
