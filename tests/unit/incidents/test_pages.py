"""Page bodies per protocol."""
from __future__ import annotations

import json

import pytest

from chalicelib.incidents.experiments import ActiveExperiment
from chalicelib.incidents.model import Incident
from chalicelib.incidents.pages import PageContext, render_page


@pytest.fixture
def incident():
    return Incident(id="inc-0123456789abcdef", fingerprint="slo:availability:page", severity="P1",
                    title="Availability: error budget burn (page-fast)", source="slo", status="triggered",
                    opened_at="2026-01-05T09:00:00.000000Z", runbook="runbooks/slo-page-fast.md",
                    details={"long_burn_rate": 15.2, "budget_remaining_ratio": 0.4}, summary="Burning at 15.2x")


def _context(experiment=None, repeat=0):
    return PageContext(level=2, role="Senior engineer", repeat=repeat, ack_url="https://api/ack-link?sig=x",
                       runbooks_base_url="https://github.com/serverless-sre/serverless-sre/blob/main/runbooks",
                       api_base_url="http://localhost:8000",
                       ack_expires_at=1767690000, ack_deadline_seconds=3600, experiment=experiment)


def test_sns_message_has_a_body_per_protocol(incident):
    bodies = json.loads(render_page(incident, _context()).sns_message())
    assert {"default", "email", "sms", "https", "sqs", "lambda"} <= set(bodies)
    assert json.loads(bodies["https"])["incident_id"] == incident.id
    assert bodies["default"] == bodies["email"]


def test_sms_is_one_short_line_with_the_ack_link(incident):
    sms = render_page(incident, _context()).sms
    assert "\n" not in sms
    assert sms.startswith("[P1] ") and sms.endswith("Ack: https://api/ack-link?sig=x")
    assert len(sms) < 320


def test_email_carries_figures_runbook_and_how_to_ack(incident):
    email = render_page(incident, _context()).email
    assert "Incident:   inc-0123456789abcdef" in email
    assert "long_burn_rate: 15.2" in email
    assert "Runbook: https://" in email and email.count("slo-page-fast.md") == 1
    assert "https://api/ack-link?sig=x" in email
    assert "POST http://localhost:8000/sre/incidents/inc-0123456789abcdef/ack" in email
    assert "within 60 min the next level is paged" in email


def test_chaos_experiment_is_the_first_line_and_in_the_json(incident):
    page = render_page(incident, _context(ActiveExperiment("exp-42", "database", "latency")))
    assert page.email.splitlines()[0].startswith("CHAOS EXPERIMENT IN PROGRESS: exp-42")
    assert page.sms.startswith("CHAOS EXPERIMENT IN PROGRESS: exp-42")
    assert page.subject.startswith("[CHAOS] [P1]")
    assert page.document["chaos_experiment"]["id"] == "exp-42"


def test_no_experiment_no_chaos_line(incident):
    page = render_page(incident, _context())
    assert "CHAOS" not in page.email and page.document["chaos_experiment"] is None


def test_subject_fits_sns_limits(incident):
    from dataclasses import replace

    page = render_page(replace(incident, title="Ünïcode\n" + "x" * 300), _context())
    assert len(page.subject) <= 100
    assert all(32 <= ord(char) < 127 for char in page.subject)


def test_attributes_carry_level_and_severity_for_filter_policies(incident):
    attributes = render_page(incident, _context()).attributes
    assert attributes["level"] == {"DataType": "Number", "StringValue": "2"}
    assert attributes["severity"] == {"DataType": "String", "StringValue": "P1"}
