"""The ticket as other capabilities read it (the dashboard): one golden JSON, produced from the SLO
engine's golden alert at a ticket tier."""
from dataclasses import replace

import pytest

from chalicelib.incidents.tickets import Ticket
from chalicelib.slo.records import Alert
from tests.support.golden import check_golden, golden


@pytest.fixture
def produced(incidents_table, wired, clock):
    from chalicelib.incidents.tickets import DynamoDBTicketStore, TicketService, ticket_model
    from tests.support.incidents import RecordingTicketPublisher

    settings = wired.settings
    store = DynamoDBTicketStore(ticket_model(settings.incidents.table, settings.service.region))
    tickets = TicketService(store, RecordingTicketPublisher(), clock)
    alert = replace(Alert.from_json(golden("slo_alert")), id="success/ticket-slow/2026-12-01T06:00Z",
                    tier="ticket-slow", severity="ticket", long_window="3d", short_window="6h",
                    long_burn_rate=1.4, short_burn_rate=1.2, burn_rate_threshold=1.0, budget_remaining_ratio=0.62,
                    opened_at="2026-12-01T06:00:00Z", runbook="runbooks/slo-ticket-slow.md",
                    summary="Success rate: error budget burning at 1.4x over 3d and 1.2x over 6h (threshold 1.0x, ticket)")
    ticket = tickets.open_for_alert(alert.to_json(), incident_id=golden("incident")["id"])
    return store.get(ticket.id)


def test_the_service_produces_the_golden_ticket(produced):
    check_golden("ticket", produced.to_json())


def test_the_ticket_reads_back_what_it_wrote():
    ticket = Ticket.from_json(golden("ticket"))
    assert ticket.to_json() == golden("ticket")
    assert Ticket.from_json(ticket.to_json()) == ticket
