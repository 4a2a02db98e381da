"""Incidents and pages opened while an experiment runs on their target say so first, and are linked."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.chaos.journal import ExperimentRecord
from chalicelib.incidents.pages import PageContext, render_page
from chalicelib.incidents.reports import reliability_stats
from tests.support.golden import golden


@pytest.fixture
def running(tables, wired):
    def start(experiment_id="exp-00000000000a", targets=("database",)):
        record = ExperimentRecord.from_json({**golden("chaos_experiment"), "id": experiment_id,
                                             "targets": list(targets), "status": "running",
                                             "ends_by": time.time() + 300})
        wired.chaos_journal.create(record, time.time())
        return record

    return start


def open_incident(wired, target, fingerprint=None):
    incident, created = wired.incident_service.trigger(
        fingerprint or f"breaker:{target}", "P2", f"Trouble on {target}", "breaker", {"failures": 5}, target=target)
    assert created
    return incident


def test_an_incident_on_the_experiment_target_is_linked_and_says_so_first(running, wired):
    experiment = running()
    incident = open_incident(wired, "database")
    assert incident.experiment_ids == (experiment.id,)
    assert incident.summary.splitlines()[0] == (
        f"CHAOS EXPERIMENT IN PROGRESS: {experiment.id} is running on database.")


def test_an_slo_incident_during_an_api_experiment_is_linked(running, wired):
    experiment = running()
    incident = open_incident(wired, "availability", fingerprint="slo:availability:page")
    assert incident.experiment_ids == (experiment.id,)


def test_a_webhook_experiment_does_not_claim_slo_incidents(running, wired):
    running(targets=("webhook",))
    assert open_incident(wired, "availability", fingerprint="slo:availability:page").experiment_ids == ()


def test_without_a_running_experiment_nothing_is_said(tables, wired):
    incident = open_incident(wired, "database")
    assert incident.experiment_ids == () and not incident.summary.startswith("CHAOS")


def test_the_page_says_it_in_its_first_line(running, wired):
    experiment = running()
    incident = open_incident(wired, "database")
    context = PageContext(level=1, role="primary", repeat=0, ack_url="https://x/ack", ack_expires_at=0,
                          ack_deadline_seconds=900, runbooks_base_url="https://x/runbooks",
                          api_base_url="https://x", experiment=wired.experiment_lookup.active_for("database"))
    page = render_page(incident, context)
    first = f"CHAOS EXPERIMENT IN PROGRESS: {experiment.id} is running on database"
    assert page.email.splitlines()[0].startswith(first) and page.sms.startswith(first)


def test_an_unreadable_journal_never_stops_an_incident(aws_mock, wired):
    from devstack.resources import create_table_request, definitions
    import boto3

    boto3.client("dynamodb", region_name="us-east-1").create_table(
        **create_table_request(definitions("tables")["incidents"]))
    assert open_incident(wired, "database").experiment_ids == ()


def test_incidents_linked_to_experiments_are_left_out_of_mtbf():
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    base = golden("incident")

    def incident(day, experiments=()):
        opened = start + timedelta(days=day)
        from chalicelib.incidents.model import Incident

        return Incident.from_json({**base, "severity": "P2", "opened_at": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                   "resolved_at": (opened + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                   "acknowledged_at": None, "experiment_ids": list(experiments)})

    plain = reliability_stats([incident(1), incident(3)], start, start + timedelta(days=4))
    with_chaos = reliability_stats([incident(1), incident(3), incident(2, ["exp-00000000000a"])],
                                   start, start + timedelta(days=4))
    assert with_chaos["all"]["mtbf_seconds"] == plain["all"]["mtbf_seconds"]
    assert (with_chaos["all"]["incidents"], with_chaos["all"]["during_experiments"]) == (3, 1)


def test_an_incident_opened_before_the_experiment_stays_unlinked_when_it_fires_again(running, wired):
    before = open_incident(wired, "database")
    running()
    again, created = wired.incident_service.trigger("breaker:database", "P2", "Trouble on database", "breaker",
                                                    {"failures": 9}, target="database")
    assert not created and again.id == before.id
    assert wired.incident_store.get(before.id).experiment_ids == ()


def test_an_incident_after_the_experiment_ended_is_not_linked(running, wired):
    experiment = running()
    wired.chaos_journal.release(experiment)
    assert open_incident(wired, "database").experiment_ids == ()


def test_throttling_the_api_function_claims_slo_incidents(running, wired):
    experiment = running(targets=(f"lambda:{wired.settings.capacity.api_function_name}",))
    assert open_incident(wired, "availability", fingerprint="slo:availability:page").experiment_ids == (experiment.id,)


def test_throttling_another_function_does_not_claim_slo_incidents(running, wired):
    running(targets=("lambda:serverless-sre-health-probe",))
    assert open_incident(wired, "availability", fingerprint="slo:availability:page").experiment_ids == ()
