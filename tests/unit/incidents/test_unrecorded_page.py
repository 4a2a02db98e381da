"""A breaker trip whose incident cannot be recorded still pages the on-call level."""
import json

import boto3
import pytest

from chalicelib.incidents.adapters import BreakerIncidents
from chalicelib.resilience.records import BreakerTransition
from chalicelib.incidents.unrecorded import UnrecordedIncidentPager

RUNBOOKS = "https://github.com/serverless-sre/serverless-sre/blob/main/runbooks"


class BrokenStore:
    def trigger(self, *args, **kwargs):
        raise ConnectionError("incidents table unreachable")

    def signal_recovered(self, *args, **kwargs):
        raise ConnectionError("incidents table unreachable")


class WorkingStore:
    def __init__(self):
        self.triggered = []

    def trigger(self, *args, **kwargs):
        self.triggered.append(args)
        return None, True


@pytest.fixture
def pages_queue(aws_mock):
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic_arn = sns.create_topic(Name="pages")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"FilterPolicy": json.dumps({"level": [1]})})
    return sns, sqs, topic_arn, queue_url


def received(sqs, queue_url):
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


TRIP = BreakerTransition("database", "closed", "open", {"reason": "failures", "failures": 5})


def test_an_unrecordable_trip_is_paged_directly_and_still_reported_as_failed(pages_queue):
    sns, sqs, topic_arn, queue_url = pages_queue
    incidents = BreakerIncidents(BrokenStore(), UnrecordedIncidentPager(sns, topic_arn, RUNBOOKS))
    with pytest.raises(ConnectionError):
        incidents.record(TRIP, first_attempt=True)
    [page] = received(sqs, queue_url)
    assert page["Subject"].startswith("[P2] NOT RECORDED: Circuit breaker database is open")
    assert "could NOT be recorded" in page["Message"]
    assert "breaker-database.md" in page["Message"]


def test_a_redelivered_trip_that_still_cannot_be_recorded_pages_no_one_again(pages_queue):
    sns, sqs, topic_arn, queue_url = pages_queue
    incidents = BreakerIncidents(BrokenStore(), UnrecordedIncidentPager(sns, topic_arn, RUNBOOKS))
    with pytest.raises(ConnectionError):
        incidents.record(TRIP, first_attempt=False)
    assert received(sqs, queue_url) == []


def test_a_recorded_trip_sends_no_direct_page(pages_queue):
    sns, sqs, topic_arn, queue_url = pages_queue
    store = WorkingStore()
    BreakerIncidents(store, UnrecordedIncidentPager(sns, topic_arn, RUNBOOKS)).record(
        BreakerTransition("database", "closed", "open", {"reason": "failures"}))
    assert len(store.triggered) == 1
    assert received(sqs, queue_url) == []
