"""The incident as other capabilities read it (the dashboard, reports): one golden JSON."""
import pytest

from chalicelib.incidents.model import Incident
from tests.support.golden import check_golden, golden


@pytest.fixture
def produced(service, clock, monkeypatch):
    from chalicelib.incidents import service as service_module

    monkeypatch.setattr(service_module, "new_incident_id", lambda: "inc-0123456789abcdef")
    incident, _ = service.trigger("breaker:database", "P2", "Circuit breaker database is open", "breaker",
                                  {"failures": 5, "reason": "failures"}, summary="calls to database fail fast",
                                  runbook="runbooks/breaker-database.md", target="database")
    clock.advance(minutes=5)
    service.acknowledge(incident.id, "alice", "looking")
    clock.advance(minutes=30)
    service.resolve(incident.id, "alice", "table recovered")
    return service.get(incident.id)


def test_the_service_produces_the_golden_incident(produced):
    check_golden("incident", produced.to_json())


def test_the_incident_reads_back_what_it_wrote():
    incident = Incident.from_json(golden("incident"))
    assert incident.to_json() == golden("incident")
    assert Incident.from_json(incident.to_json()) == incident
