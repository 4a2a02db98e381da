"""Delivers the queues of infra/queues.json to their consumer functions, as Lambda's SQS event
source mapping does when deployed: long-poll a batch, invoke the function with an SQS event,
delete what it handled and leave the messages it reports as failed (``batchItemFailures``)
to come back after the queue's visibility timeout."""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional

log = logging.getLogger("devstack.queues")
WAIT_SECONDS = 1  # long-poll; also how long stop() may wait for a consumer


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": "us-east-1"} for message in messages]}


class QueueConsumer:
    def __init__(self, sqs: Any, queue_url: str, function_key: str, invoke: Callable[[str, Any], Any],
                 batch_size: int = 10) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._function_key = function_key
        self._invoke = invoke
        self._batch_size = max(1, min(10, batch_size))
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.delivered = 0
        self.failed = 0
        self.retry_seconds: float = 1

    def poll_once(self) -> int:
        """One batch: returns how many messages were handled."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=self._batch_size, WaitTimeSeconds=WAIT_SECONDS,
            AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        from devstack.functions import FunctionThrottled

        try:
            result = self._invoke(self._function_key, sqs_event(messages, arn)) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except FunctionThrottled as throttled:  # as Lambda: the batch comes back when it may run again
            log.warning("queue consumer %s not run: %s; the batch will be redelivered", self._function_key, throttled)
            failed = {message["MessageId"] for message in messages}
        except Exception:  # as Lambda: a failed invocation leaves the whole batch to come back
            log.exception("queue consumer %s failed; the batch will be redelivered", self._function_key)
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] not in failed:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        self.delivered += len(messages) - len(failed)
        self.failed += len(failed)
        return len(messages)

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the embedded AWS restarting, say: try again shortly
                # Once per outage: a traceback a second for as long as the embedded AWS was away buried the
                # console's state changes.
                if not failing:
                    log.exception("polling the queue of %s failed; retrying every %s s until it answers",
                                  self._function_key, self.retry_seconds)
                failing = True
                self._stop.wait(self.retry_seconds)
                continue
            if failing:
                log.warning("polling the queue of %s works again", self._function_key)
                failing = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"devstack-queue-{self._function_key}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=WAIT_SECONDS + 5)
