"""Consumer of the breaker-transitions SQS FIFO queue (infra/queues.json): opens and resolves
breaker incidents within seconds of a transition, outside the request that caused it.

A transition that cannot be recorded is reported as a batch item failure, and so is every
later message of the batch (FIFO: a breaker's transitions are handled in order), so SQS
redelivers them until the incidents table answers. The first failed attempt of a trip
also pages the on-call level directly.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib import wiring
from chalicelib.resilience.records import BreakerTransition


def handler(event: Any, context: Any) -> dict[str, Any]:
    wired = wiring.current()
    failures: list[dict[str, str]] = []
    for record in (event or {}).get("Records", []):
        if failures:  # keep the order: nothing after a failed message is handled before it
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        first_attempt = str(record.get("attributes", {}).get("ApproximateReceiveCount", "1")) == "1"
        try:
            transition = BreakerTransition.from_json(json.loads(record["body"]))
        except (ValueError, KeyError, TypeError) as exc:  # redelivering it would never help
            wired.logger.error("Breaker transition message is not readable; dropped",
                               extra={"message_id": record["messageId"], "error": f"{type(exc).__name__}: {exc}"})
            continue
        try:
            wired.breaker_incidents.record(transition, first_attempt=first_attempt)
        except Exception as exc:  # retried by SQS; the reason goes to the log
            wired.logger.warning("Breaker transition not recorded; it will be redelivered",
                                 extra={"message_id": record["messageId"], "first_attempt": first_attempt,
                                        "error": f"{type(exc).__name__}: {exc}"})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
