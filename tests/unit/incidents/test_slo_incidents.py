"""One incident per SLO problem, tickets that never page (DynamoDB and SNS in moto)."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.incidents.adapters import SloAlertIncidentSink
from chalicelib.incidents.model import iso
from chalicelib.slo.records import Alert, SloEvaluation
from tests.support.golden import golden

HOLD_DOWN = timedelta(minutes=10)
PAGE_TIERS = ("page-fast", "page-slow")


def _alert(tier, clock):
    """The SLO engine's golden alert (tests/fixtures/records/slo_alert.json) for ``tier``, opened now."""
    opened = iso(clock())
    return replace(Alert.from_json(golden("slo_alert")), id=f"success/{tier}/{opened}", slo="success",
                   slo_display_name="Success rate", tier=tier,
                   severity="ticket" if tier.startswith("ticket") else "page", opened_at=opened,
                   runbook=f"runbooks/slo-{tier}.md", summary=f"{tier} burning")


def _evaluation(clock, *firing, budget="healthy"):
    return SloEvaluation(slo="success", display_name="Success rate", at=iso(clock()), page_tiers=PAGE_TIERS,
                         firing_pages=tuple(firing), budget_state=budget)


@pytest.fixture
def ticket_inbox(aws_mock, boto_session):
    sns, sqs = boto_session.client("sns"), boto_session.client("sqs")
    topic = sns.create_topic(Name="tickets")["TopicArn"]
    url = sqs.create_queue(QueueName="tickets")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    def received():
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    received.topic, received.sns = topic, sns
    return received


@pytest.fixture
def tickets(incidents_table, ticket_inbox, clock, wired):
    from chalicelib.incidents.tickets import DynamoDBTicketStore, SnsTicketPublisher, TicketService, ticket_model

    settings = wired.settings
    return TicketService(DynamoDBTicketStore(ticket_model(settings.incidents.table, settings.service.region)),
                         SnsTicketPublisher(ticket_inbox.sns, ticket_inbox.topic), clock)


@pytest.fixture
def sink(service, tickets):
    return SloAlertIncidentSink(service, tickets, hold_down=HOLD_DOWN)


def _only_incident(service):
    incidents = service.list()
    assert len(incidents) == 1, [incident.to_json(with_timeline=False) for incident in incidents]
    return incidents[0]


def test_a_slow_page_tier_opens_one_p2_incident(sink, service, escalations, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-slow", clock)))
    incident = _only_incident(service)
    assert (incident.severity, incident.fingerprint, incident.status) == ("P2", "slo:success", "triggered")
    assert escalations.started == [incident.id]


def test_a_faster_tier_raises_the_same_incident_and_restarts_its_escalation(sink, service, escalations, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-slow", clock)))
    clock.advance(minutes=1)
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock), _alert("page-slow", clock)))
    incident = _only_incident(service)
    assert (incident.severity, incident.previous_severity) == ("P1", "P2")
    assert escalations.started == [incident.id, incident.id]
    assert len(escalations.aborted) == 1
    assert [event.kind for event in incident.timeline][-3:] == [
        "severity_raised", "escalation_restarted", "escalation_started"]
    assert "raised from P2 to P1" in incident.timeline[-3].message


def test_the_fast_tier_recovering_lowers_the_incident_without_a_page(sink, service, escalations, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    clock.advance(minutes=5)
    sink.slo_evaluated(_evaluation(clock, _alert("page-slow", clock)))
    incident = _only_incident(service)
    assert (incident.severity, incident.status) == ("P2", "triggered")
    assert escalations.started == [incident.id]
    assert incident.timeline[-1].kind == "severity_lowered"
    assert "nobody paged" in incident.timeline[-1].message


def test_the_incident_resolves_only_after_the_hold_down(sink, service, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    clock.advance(minutes=2)
    sink.slo_evaluated(_evaluation(clock))
    quiet_at = iso(clock())
    for _ in range(9):
        clock.advance(minutes=1)
        sink.slo_evaluated(_evaluation(clock))
        assert _only_incident(service).status == "triggered"
    clock.advance(minutes=1)
    sink.slo_evaluated(_evaluation(clock))
    incident = _only_incident(service)
    assert (incident.status, incident.quiet_since) == ("resolved", quiet_at)
    assert "10-minute hold-down" in incident.timeline[-1].message


def test_a_fault_back_within_the_hold_down_reopens_the_same_incident(sink, service, escalations, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    clock.advance(minutes=3)
    sink.slo_evaluated(_evaluation(clock))
    clock.advance(minutes=4)
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    clock.advance(minutes=8)
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    incident = _only_incident(service)
    assert (incident.status, incident.quiet_since) == ("triggered", None)
    assert "reopened" in [event.kind for event in incident.timeline]
    assert escalations.started == [incident.id]


def test_a_fault_after_the_hold_down_is_a_new_incident(sink, service, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    for _ in range(11):
        clock.advance(minutes=1)
        sink.slo_evaluated(_evaluation(clock))
    clock.advance(minutes=1)
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    assert [incident.status for incident in service.list()] == ["triggered", "resolved"]


def test_an_exhausted_budget_raises_a_page_one_step(sink, service, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock), budget="exhausted"))
    assert _only_incident(service).severity == "P0"


def test_a_ticket_tier_opens_a_ticket_on_the_ticket_topic_and_pages_nobody(sink, service, tickets, escalations,
                                                                          ticket_inbox, clock):
    alert = _alert("ticket-slow", clock)
    sink.alert_opened(alert)
    sink.alert_opened(alert)  # handed over again after a failed run: still one ticket, one message
    sink.slo_evaluated(_evaluation(clock))
    assert service.list() == [] and escalations.started == []
    [ticket] = tickets.list()
    assert (ticket.status, ticket.slo, ticket.tier, ticket.alert_id, ticket.published) == (
        "open", "success", "ticket-slow", alert.id, True)
    [envelope] = ticket_inbox()
    assert envelope["Subject"] == "[TICKET] Success rate: slow error budget burn (ticket-slow)"
    assert envelope["MessageAttributes"]["type"]["Value"] == "slo.ticket"
    assert json.loads(envelope["Message"])["ticket_id"] == ticket.id


def test_a_ticket_whose_slo_then_pages_is_linked_to_the_incident(sink, service, tickets, clock):
    sink.alert_opened(_alert("ticket-slow", clock))
    clock.advance(hours=2)
    sink.slo_evaluated(_evaluation(clock, _alert("page-slow", clock)))
    incident = _only_incident(service)
    [ticket] = tickets.list()
    assert ticket.incident_id == incident.id
    assert incident.linked_tickets == (ticket.id,)
    assert incident.timeline[-1].kind == "ticket_linked"


def test_a_ticket_opened_while_the_slo_pages_is_linked_at_once(sink, service, tickets, clock):
    sink.slo_evaluated(_evaluation(clock, _alert("page-slow", clock)))
    sink.alert_opened(_alert("ticket-fast", clock))
    assert tickets.list()[0].incident_id == _only_incident(service).id


def test_a_suppressed_ticket_alert_resolves_its_ticket_with_the_reason(sink, tickets, clock):
    alert = _alert("ticket-fast", clock)
    sink.alert_opened(alert)
    sink.alert_resolved(replace(alert, state="resolved", resolved_at=iso(clock()),
                                resolution="suppressed by page-slow"))
    [ticket] = tickets.list()
    assert (ticket.status, ticket.resolution) == ("resolved", "suppressed by page-slow")


@pytest.fixture
def tickets_client(api_client, tickets, wired):
    wired.ticket_service = tickets
    return api_client


def test_tickets_are_listed_and_read_by_the_api(tickets_client, sink, clock):
    sink.alert_opened(_alert("ticket-fast", clock))
    listing = tickets_client.http.get("/sre/tickets?status=open&slo=success")
    assert listing.status_code == 200
    [ticket] = listing.json_body["tickets"]
    assert (ticket["tier"], ticket["status"], ticket["incident_id"]) == ("ticket-fast", "open", None)
    single = tickets_client.http.get(f"/sre/tickets/{ticket['id']}")
    assert single.status_code == 200 and single.json_body == ticket


@pytest.mark.parametrize("query, field", [("status=closed", "status"), ("limit=0", "limit"),
                                          ("limit=%C2%B2", "limit"), ("limit=" + "9" * 5000, "limit"),
                                          ("slo=%00", "slo"), ("colour=red", "colour")])
def test_bad_ticket_queries_are_400(tickets_client, query, field):
    response = tickets_client.http.get(f"/sre/tickets?{query}")
    assert response.status_code == 400
    assert field in response.json_body["details"]


@pytest.mark.parametrize("query, field, reason", [
    ("status=", "status", "Must be one of: open, resolved."),
    ("limit=", "limit", "Must be a whole number from 1 to 500."),
    ("slo=", "slo", "Must be an SLO name (letters, digits and '-')."),
])
def test_an_empty_ticket_filter_is_400_naming_it(tickets_client, query, field, reason):
    response = tickets_client.http.get(f"/sre/tickets?{query}")
    assert response.status_code == 400, response.body
    assert response.json_body["details"] == {field: [reason]}


@pytest.mark.parametrize("ticket_id", ["tkt-0123456789abcdef", "inc-0123456789abcdef", "nope"])
def test_unknown_ticket_is_404(tickets_client, ticket_id):
    assert tickets_client.http.get(f"/sre/tickets/{ticket_id}").status_code == 404


def test_the_golden_evaluation_opens_one_incident_at_the_fastest_firing_tiers_severity(sink, service, clock):
    evaluation = SloEvaluation.from_json(golden("slo_evaluation"))
    sink.slo_evaluated(evaluation)
    incident = _only_incident(service)
    assert (incident.fingerprint, incident.target) == (f"slo:{evaluation.slo}", evaluation.slo)
    assert incident.details["firing"] == [alert.tier for alert in evaluation.firing_pages]
    assert incident.severity == ("P1" if evaluation.budget_state != "exhausted" else "P0")


def test_resolving_an_slo_incident_while_its_page_tier_fires_warns_that_it_will_open_again(
        api_client, operator, sink, service, clock):
    """It was resolved silently and 26 s later a new incident paged level 1 again."""
    sink.slo_evaluated(_evaluation(clock, _alert("page-fast", clock)))
    incident = _only_incident(service)
    resolved = api_client.http.post(f"/sre/incidents/{incident.id}/resolve", headers=operator)
    assert resolved.status_code == 200 and resolved.json_body["incident"]["status"] == "resolved"
    assert "still fires" in resolved.json_body["warning"]


def test_resolving_a_manual_incident_carries_no_warning(api_client, operator):
    created = api_client.http.post("/sre/incidents", headers=operator,
                                   body=json.dumps({"title": "Checkout down", "severity": "P2"}))
    resolved = api_client.http.post(f"/sre/incidents/{created.json_body['incident']['id']}/resolve", headers=operator)
    assert resolved.status_code == 200 and "warning" not in resolved.json_body
