"""Handing breaker transitions off to whatever acts on them, without making the caller wait for it.

``TransitionQueue`` is a transition listener: it puts each transition on an SQS FIFO queue
(one message group per breaker, so one breaker's transitions are handled in order) and
returns. A function consuming the queue (``functions/breaker_incidents.py``) does the slow
part. When the message cannot be sent, ``on_unsent`` is told (the wiring pages the on-call
level directly), so a trip is never lost.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Mapping

from chalicelib.resilience.records import BreakerTransition

Unsent = Callable[[BreakerTransition, str], None]


class TransitionQueue:
    def __init__(self, sqs: Any, queue_url: str, on_unsent: Unsent, logger: Any) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._on_unsent = on_unsent
        self._logger = logger

    def __call__(self, breaker_name: str, old_state: str, new_state: str, details: Mapping[str, Any]) -> None:
        transition = BreakerTransition(breaker_name, old_state, new_state, dict(details))
        body = json.dumps(transition.to_json(), sort_keys=True, default=str)
        try:
            if not self._queue_url:
                raise RuntimeError("BREAKER_TRANSITIONS_QUEUE_URL is not set")
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body, MessageGroupId=breaker_name,
                                   MessageDeduplicationId=hashlib.sha256(body.encode("utf-8")).hexdigest())
        except Exception as exc:  # whatever stopped the hand-off, the transition must not be lost
            reason = f"{type(exc).__name__}: {exc}"
            self._logger.error("Breaker transition not queued; handled directly",
                               extra={"breaker": breaker_name, "new_state": new_state, "reason": reason})
            self._on_unsent(transition, reason)
