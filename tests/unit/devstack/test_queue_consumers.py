"""The local stack delivers queues to their consumer functions as Lambda's SQS event source does."""
import boto3
import pytest

from devstack.queue_consumers import QueueConsumer


@pytest.fixture
def sqs(aws_mock):
    return boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queue(sqs):
    return sqs.create_queue(QueueName="work.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"})[
        "QueueUrl"]


def send(sqs, queue, body):
    sqs.send_message(QueueUrl=queue, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=body)


def test_handled_messages_are_deleted_and_reported_failures_stay(sqs, queue):
    seen = []

    def invoke(function_key, event):
        seen.append([record["body"] for record in event["Records"]])
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}

    for body in ("a", "b"):
        send(sqs, queue, body)
    consumer = QueueConsumer(sqs, queue, "worker", invoke)
    assert consumer.poll_once() == 2
    assert seen == [["a", "b"]] and (consumer.delivered, consumer.failed) == (1, 1)
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages",
                                                                           "ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_failed_invocation_leaves_the_whole_batch(sqs, queue):
    def invoke(function_key, event):
        raise RuntimeError("bug")

    send(sqs, queue, "a")
    consumer = QueueConsumer(sqs, queue, "worker", invoke)
    consumer.poll_once()
    assert (consumer.delivered, consumer.failed) == (0, 1)


def test_a_queue_that_cannot_be_polled_is_reported_once_until_it_answers_again(caplog):
    from botocore.exceptions import EndpointConnectionError

    consumer = None
    answers = iter([EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")] * 5 + [{}])

    class Unreachable:
        def receive_message(self, **_kwargs):
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            consumer._stop.set()
            return answer

    consumer = QueueConsumer(Unreachable(), "http://127.0.0.1:1/queue", "worker", lambda *_: None)
    consumer.retry_seconds = 0
    with caplog.at_level("WARNING", logger="devstack.queues"):
        consumer._run()
    assert [(record.levelname, record.exc_info is not None) for record in caplog.records] == [
        ("ERROR", True), ("WARNING", False)]
    assert "works again" in caplog.records[1].getMessage()


def test_every_queue_with_a_consumer_names_a_function():
    from devstack.resources import definitions

    functions = definitions("functions")
    assert all(spec["consumer"] in functions for spec in definitions("queues").values() if spec.get("consumer"))
