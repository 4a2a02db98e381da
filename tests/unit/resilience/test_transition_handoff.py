"""A breaker trip is handed off through the breaker-transitions queue: the tripping call waits
for one SendMessage, never for incident bookkeeping."""
import json

import boto3
import pytest

from chalicelib.resilience.handoff import TransitionQueue
from chalicelib.resilience.records import BreakerTransition
from tests.support.golden import check_golden


@pytest.fixture
def queue(aws_mock, monkeypatch):
    from devstack.provision import provision_queues

    urls = provision_queues(boto3.client("sqs", region_name="us-east-1"))
    monkeypatch.setenv("BREAKER_TRANSITIONS_QUEUE_URL", urls["breaker-transitions"])
    return urls["breaker-transitions"]


def queued(url):
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    return messages


def test_a_transition_is_queued_in_its_breakers_message_group(queue, wired):
    handoff = TransitionQueue(boto3.client("sqs", region_name="us-east-1"), queue,
                              on_unsent=lambda *args: pytest.fail("queued, not unsent"), logger=wired.logger)
    handoff("webhook", "closed", "open", {"reason": "failures", "failures": 3, "at": 1_800_000_000.0})
    [message] = queued(queue)
    assert message["Attributes"]["MessageGroupId"] == "webhook"
    transition = BreakerTransition.from_json(json.loads(message["Body"]))
    assert (transition.breaker, transition.new_state, transition.details["failures"]) == ("webhook", "open", 3)


def test_a_transition_that_cannot_be_queued_is_handled_directly(wired):
    unsent = []
    handoff = TransitionQueue(None, "", on_unsent=lambda transition, reason: unsent.append((transition, reason)),
                              logger=wired.logger)
    handoff("database", "closed", "open", {"reason": "failures"})
    [(transition, reason)] = unsent
    assert transition.breaker == "database" and "BREAKER_TRANSITIONS_QUEUE_URL" in reason


def test_tripping_a_wired_breaker_queues_the_transition_and_records_no_incident(queue, wired, monkeypatch):
    monkeypatch.setenv("BREAKER_STORAGE", "memory")
    from chalicelib import wiring

    wiring.reset()
    wired = wiring.current()
    wired.incident_service = None  # an in-request incident write would fail loudly here
    breaker = wired.breakers.get("webhook")
    for _ in range(breaker.fail_max):
        with pytest.raises(RuntimeError):
            breaker.call(lambda: (_ for _ in ()).throw(RuntimeError("down")))
    [message] = queued(queue)
    assert json.loads(message["Body"])["new_state"] == "open"


def test_the_breaker_transition_record_is_golden():
    transition = BreakerTransition("database", "closed", "open",
                                   {"reason": "failures", "failures": 5, "at": 1_800_000_000.0,
                                    "opened_at": 1_800_000_000.0, "shared": True})
    check_golden("breaker_transition", transition.to_json())
    assert BreakerTransition.from_json(transition.to_json()) == transition


def test_the_breaker_description_is_golden(wired, monkeypatch):
    from chalicelib import wiring
    from chalicelib.resilience.records import BreakerDescription

    monkeypatch.setenv("BREAKER_STORAGE", "memory")
    wiring.reset()
    description = wiring.current().breakers.describe("webhook")
    check_golden("breaker_description", description.to_json())
    assert BreakerDescription.from_json(description.to_json()) == description
