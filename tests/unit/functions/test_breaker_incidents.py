"""functions/breaker_incidents.py: the breaker-transitions queue's consumer opens the incident,
and when the incidents table is down it pages directly and lets SQS redeliver until it is back."""
import json

import boto3
import pytest

from functions.breaker_incidents import handler
from tests.support.golden import golden

OPENED = golden("breaker_transition")
CLOSED = {**OPENED, "old_state": "half-open", "new_state": "closed", "details": {"reason": "probe_succeeded"}}


def sqs_event(*bodies, receive_count=1):
    return {"Records": [{"messageId": f"m-{index}", "body": json.dumps(body),
                         "attributes": {"ApproximateReceiveCount": str(receive_count)}}
                        for index, body in enumerate(bodies)]}


@pytest.fixture
def pages(aws_mock, monkeypatch):
    """The pages topic with a queue subscribed to it: what the on-call level receives."""
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="pages")["TopicArn"]
    inbox = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    monkeypatch.setenv("INCIDENT_PAGES_TOPIC_ARN", topic)

    def take():
        messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]
    return take


@pytest.fixture
def incidents_table(aws_mock):
    from devstack.resources import create_table_request, definitions

    def create():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            **create_table_request(definitions("tables")["incidents"]))
    return create


def open_incidents():
    from chalicelib import wiring

    return [incident for incident in wiring.current().incident_service.list() if incident.is_open]


def test_a_queued_trip_opens_a_p2_incident(pages, incidents_table):
    incidents_table()
    assert handler(sqs_event(OPENED), None) == {"batchItemFailures": []}
    [incident] = open_incidents()
    assert (incident.fingerprint, incident.severity, incident.source) == ("breaker:database", "P2", "breaker")
    assert pages() == []


def test_a_queued_close_resolves_it(pages, incidents_table):
    incidents_table()
    handler(sqs_event(OPENED), None)
    handler(sqs_event(CLOSED), None)
    assert open_incidents() == []


def test_with_the_incidents_table_down_the_page_goes_out_and_the_trip_is_recorded_once_it_answers(
        pages, incidents_table):
    from chalicelib import wiring

    first = handler(sqs_event(OPENED, CLOSED), None)
    assert first == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
    [page] = pages()
    assert page["Subject"].startswith("[P2] NOT RECORDED: Circuit breaker database is open")
    assert handler(sqs_event(OPENED, receive_count=2), None)["batchItemFailures"] == [{"itemIdentifier": "m-0"}]
    assert pages() == []  # redelivery pages nobody again

    incidents_table()
    wiring.reset()
    assert handler(sqs_event(OPENED, receive_count=3), None) == {"batchItemFailures": []}
    [incident] = open_incidents()
    assert incident.fingerprint == "breaker:database"


def test_an_unreadable_message_is_dropped_not_redelivered_forever(pages, incidents_table):
    incidents_table()
    event = {"Records": [{"messageId": "m-0", "body": "not json", "attributes": {}}]}
    assert handler(event, None) == {"batchItemFailures": []}
