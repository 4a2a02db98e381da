"""Incident endpoints (register with ``app.register_blueprint(blueprint)``)."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint

from chalicelib.auth import operator_action
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import no_query
from chalicelib.incidents import api
from chalicelib.incidents.model import utc_now


def build_blueprint(wired: Callable[[], Any]) -> Blueprint:
    """The incident routes, each taking what it needs from ``wired()`` (``chalicelib.wiring.current``)."""
    bp = ReusableBlueprint(__name__)

    def get_incident_service() -> Any:
        return wired().incident_service

    def get_ack_link_signer() -> Any:
        return wired().ack_link_signer

    def reports() -> Any:
        return wired().incident_reports

    def get_ticket_service() -> Any:
        return wired().ticket_service

    def acting(action: str, target: str) -> Any:
        return operator_action(wired().operator_auth, bp.current_request.headers, action, target)

    @bp.route("/sre/incidents", methods=["GET"])
    def list_incidents():
        return api.list_incidents(get_incident_service(), bp.current_request)

    @bp.route("/sre/incidents", methods=["POST"])
    def create_incident():
        with acting("incident.open", "new incident") as action:
            no_query(bp.current_request)
            return api.create_incident(get_incident_service(), reports(), bp.current_request, action)

    @bp.route("/sre/incidents/stats", methods=["GET"])
    def incident_stats():
        return api.stats(get_incident_service(), bp.current_request)

    @bp.route("/sre/incidents/{incident_id}", methods=["GET"])
    def get_incident(incident_id):
        no_query(bp.current_request)
        return api.get_incident(get_incident_service(), incident_id)

    @bp.route("/sre/incidents/{incident_id}/ack", methods=["POST"])
    def acknowledge_incident(incident_id):
        with acting("incident.acknowledge", incident_id) as action:
            no_query(bp.current_request)
            return api.act_on_incident(get_incident_service(), bp.current_request, incident_id, "ack", action)

    @bp.route("/sre/incidents/{incident_id}/mitigate", methods=["POST"])
    def mitigate_incident(incident_id):
        with acting("incident.mitigate", incident_id) as action:
            no_query(bp.current_request)
            return api.act_on_incident(get_incident_service(), bp.current_request, incident_id, "mitigate", action)

    @bp.route("/sre/incidents/{incident_id}/resolve", methods=["POST"])
    def resolve_incident(incident_id):
        with acting("incident.resolve", incident_id) as action:
            no_query(bp.current_request)
            return api.act_on_incident(get_incident_service(), bp.current_request, incident_id, "resolve", action)

    @bp.route("/sre/incidents/{incident_id}/ack-link", methods=["GET"])
    def confirm_ack_link(incident_id):
        return api.confirm_ack_link(get_incident_service(), get_ack_link_signer(), bp.current_request,
                                    incident_id)

    @bp.route("/sre/incidents/{incident_id}/ack-link", methods=["POST"],
                     content_types=["application/x-www-form-urlencoded", "application/json"])
    def use_ack_link(incident_id):
        return api.use_ack_link(get_incident_service(), get_ack_link_signer(), bp.current_request, incident_id)

    @bp.route("/sre/incidents/{incident_id}/postmortem", methods=["GET"])
    def incident_postmortem(incident_id):
        no_query(bp.current_request)
        return api.postmortem(get_incident_service(), reports(), incident_id, utc_now)

    @bp.route("/sre/incidents/{incident_id}/communications/{stage}", methods=["GET"])
    def incident_communication(incident_id, stage):
        return api.communication(get_incident_service(), reports(), bp.current_request, incident_id, stage,
                                 utc_now)

    @bp.route("/sre/tickets", methods=["GET"])
    def list_tickets():
        return api.list_tickets(get_ticket_service(), bp.current_request)

    @bp.route("/sre/tickets/{ticket_id}", methods=["GET"])
    def get_ticket(ticket_id):
        no_query(bp.current_request)
        return api.get_ticket(get_ticket_service(), ticket_id)

    return bp

