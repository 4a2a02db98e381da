"""Each audience of infra/topics.json is a subscription with its own filter policy."""
import json

import boto3
import pytest

from devstack.provision import provision_audience_inboxes, provision_topics
from devstack.resources import definitions


@pytest.fixture
def audiences(aws_mock):
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topics = provision_topics(sns)
    return sns, sqs, topics, provision_audience_inboxes(sns, sqs, topics)


def _publish_page(sns, topic, level):
    sns.publish(TopicArn=topic, Message=json.dumps({"level": level}), MessageAttributes={
        "level": {"DataType": "Number", "StringValue": str(level)},
        "severity": {"DataType": "String", "StringValue": "P1"}})


def _received(sqs, url):
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(json.loads(message["Body"])["Message"]) for message in messages]


def test_every_escalation_level_is_an_audience_of_the_pages_topic():
    audiences = definitions("topics")["incident-pages"]["audiences"]
    assert {name: entry["filter_policy"] for name, entry in audiences.items()} == {
        f"level-{level}": {"level": [level]} for level in (1, 2, 3, 4)}


def test_level_two_does_not_receive_level_ones_page(audiences):
    sns, sqs, topics, inboxes = audiences
    _publish_page(sns, topics["incident-pages"], 1)
    assert _received(sqs, inboxes["incident-pages/level-1"]) == [{"level": 1}]
    assert _received(sqs, inboxes["incident-pages/level-2"]) == []


def test_a_level_two_page_reaches_only_level_two(audiences):
    sns, sqs, topics, inboxes = audiences
    _publish_page(sns, topics["incident-pages"], 2)
    assert {level: len(_received(sqs, inboxes[f"incident-pages/level-{level}"])) for level in (1, 2, 3, 4)} == {
        1: 0, 2: 1, 3: 0, 4: 0}


def test_tickets_go_to_their_own_topic_and_audience(audiences):
    sns, sqs, topics, inboxes = audiences
    sns.publish(TopicArn=topics["incident-tickets"], Message=json.dumps({"type": "slo.ticket"}),
                MessageAttributes={"type": {"DataType": "String", "StringValue": "slo.ticket"}})
    assert _received(sqs, inboxes["incident-tickets/slo-owners"]) == [{"type": "slo.ticket"}]
    assert all(_received(sqs, inboxes[f"incident-pages/level-{level}"]) == [] for level in (1, 2, 3, 4))
