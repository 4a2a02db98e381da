"""Incidents end to end on the local stack: alert or breaker -> incident -> page -> ack / resolve.

SLO alerts open incidents (``SLO_ALERT_SINK=incidents``, the default); breaker transitions
reach them through the breaker-transitions queue, which the local stack consumes as SQS
would invoke ``functions/breaker_incidents.py``.
"""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

# The SRE plane is the same in both variants: run once, against the Lambda variant.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["lambda"], indirect=True)]

PAGES_TOPIC = "serverless-sre-incident-pages"


def _eventually(probe, within=30.0, every=0.25):
    """Poll ``probe`` until it returns something truthy (the stack works asynchronously)."""
    pause = threading.Event()
    waited = 0.0
    while waited < within:
        result = probe()
        if result:
            return result
        pause.wait(every)
        waited += every
    raise AssertionError(f"condition not met within {within}s")


@pytest.fixture
def pages_queue(stack):
    sns, sqs = stack.boto3_client("sns"), stack.boto3_client("sqs")
    topic = sns.create_topic(Name=PAGES_TOPIC)["TopicArn"]  # idempotent: the stack's topic
    url = sqs.create_queue(QueueName=f"e2e-pages-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    yield url
    sns.unsubscribe(SubscriptionArn=subscription)
    sqs.delete_queue(QueueUrl=url)


def _pages_for(stack, queue_url, incident_id):
    sqs = stack.boto3_client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   MessageAttributeNames=["All"]).get("Messages", [])
    documents = [json.loads(json.loads(message["Body"])["Message"]) for message in messages]
    return [document for document in documents if document.get("incident_id") == incident_id]


def _open_incident(stack, fingerprint):
    body = stack.http.get(stack.url("/sre/incidents?limit=50"), timeout=10).json()
    for incident in body["incidents"]:
        if incident["fingerprint"] == fingerprint and incident["status"] != "resolved":
            return incident
    return None


def _execution_status(stack, execution_arn):
    return stack.boto3_client("stepfunctions").describe_execution(executionArn=execution_arn)["status"]


def _burn_availability_budget(stack, minutes=60):
    """Every probe of the last hour failed: far above the 14.4x page threshold."""
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    cloudwatch = stack.boto3_client("cloudwatch")
    dimensions = [{"Name": "service", "Value": "user-api"}]
    for offset in range(minutes, 0, -20):
        data = []
        for minute in range(offset, max(offset - 20, 0), -1):
            at = end - timedelta(minutes=minute)
            data += [{"MetricName": "probe_total", "Dimensions": dimensions, "Timestamp": at, "Value": 1,
                      "Unit": "Count"},
                     {"MetricName": "probe_success", "Dimensions": dimensions, "Timestamp": at, "Value": 0,
                      "Unit": "Count"}]
        cloudwatch.put_metric_data(Namespace="ServerlessSRE", MetricData=data)
    return end


def test_slo_page_alert_pages_and_an_http_ack_stops_the_escalation(stack, pages_queue):
    end = _burn_availability_budget(stack)
    stack.fire("slo-evaluator", {"now": end.isoformat().replace("+00:00", "Z")})
    incident = _eventually(lambda: _open_incident(stack, "slo:availability"))
    assert incident["source"] == "slo" and incident["severity"] in ("P0", "P1")

    pages = _eventually(lambda: _pages_for(stack, pages_queue, incident["id"]))
    assert pages[0]["level"] == 1
    assert pages[0]["runbook_url"].endswith(".md")

    response = stack.http.post(stack.url(f"/sre/incidents/{incident['id']}/ack"),
                               headers=stack.operator_headers(), timeout=10)
    assert response.status_code == 200
    assert response.json()["incident"]["acknowledged_by"] == "local-operator"
    execution = response.json()["incident"]["escalation"]["execution"]
    assert _eventually(lambda: _execution_status(stack, execution) != "RUNNING" and
                       _execution_status(stack, execution)) == "SUCCEEDED"


def test_breaker_trip_opens_p2_and_closing_resolves_it(stack):
    operator = stack.operator_headers()
    opened = stack.http.post(stack.url("/sre/circuit-breakers/webhook/open"), headers=operator,
                             json={"reason": "e2e incident test"}, timeout=10)
    assert opened.status_code == 200
    incident = _eventually(lambda: _open_incident(stack, "breaker:webhook"))
    assert (incident["severity"], incident["source"]) == ("P2", "breaker")
    assert incident["runbook"] == "runbooks/breaker-webhook.md"

    closed = stack.http.post(stack.url("/sre/circuit-breakers/webhook/close"), headers=operator, timeout=10)
    assert closed.status_code == 200
    resolved = _eventually(lambda: (lambda body: body if body["status"] == "resolved" else None)(
        stack.http.get(stack.url(f"/sre/incidents/{incident['id']}"), timeout=10).json()["incident"]))
    assert resolved["resolved_by"] == "auto-resolve (breaker)"


def test_an_sre_pages_through_every_incident_over_http_each_once_newest_first(stack):
    operator = stack.operator_headers()
    run = uuid.uuid4().hex[:8]

    def open_p3(number):
        response = stack.http.post(stack.url("/sre/incidents"), headers=operator, timeout=10, json={
            "title": f"Paging check {number}", "severity": "P3", "fingerprint": f"paging-{run}-{number}"})
        assert response.status_code == 201, response.text
        return response.json()["incident"]["id"]

    created = [open_p3(number) for number in range(5)]
    listed, cursor, added = [], None, None
    try:
        while True:
            query = "severity=P3&limit=2" + (f"&cursor={cursor}" if cursor else "")
            body = stack.http.get(stack.url(f"/sre/incidents?{query}"), timeout=10).json()
            assert len(body["incidents"]) <= 2
            listed += [(item["opened_at"], item["id"]) for item in body["incidents"]]
            cursor = body["next_cursor"]
            if added is None:
                added = open_p3("between-pages")  # newer than every page still to come: not in them
            if cursor is None:
                break
    finally:
        for incident_id in created + ([added] if added else []):  # their escalations stop
            stack.http.post(stack.url(f"/sre/incidents/{incident_id}/resolve"), headers=operator, timeout=10)
    ids = [incident_id for _, incident_id in listed]
    assert len(ids) == len(set(ids)) and listed == sorted(listed, reverse=True)  # (opened_at, id), newest first
    assert set(created) <= set(ids) and added not in ids
