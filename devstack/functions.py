"""Calling the non-HTTP functions of infra/functions.json in-process, as Lambda would."""
from __future__ import annotations

import importlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from devstack.resources import definitions


@dataclass
class LocalLambdaContext:
    """The attributes of a Lambda context that handlers and Powertools read."""

    function_name: str
    timeout_seconds: int = 60
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class UnknownFunction(LookupError):
    """No function of infra/functions.json has this key (a KeyError would be any handler's own)."""


class FunctionThrottled(Exception):
    """The function's reserved concurrency is 0 (a chaos ``lambda_throttle``): Lambda runs none of its
    invocations (TooManyRequestsException); a schedule's run or a queue's batch waits for the next try."""

    def __init__(self, function_name: str) -> None:
        super().__init__(f"{function_name} is throttled: its reserved concurrency is 0")


def function_spec(function_key: str) -> dict[str, Any]:
    try:
        return definitions("functions")[function_key]
    except KeyError:
        raise UnknownFunction(function_key) from None


def handler_for(function_key: str) -> Callable[[Any, Any], Any]:
    spec = function_spec(function_key)
    module_name, _, attribute = spec["handler"].rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def invoke(function_key: str, event: Any = None) -> Any:
    spec = function_spec(function_key)
    context = LocalLambdaContext(function_name=f"serverless-sre-{function_key}",
                                 timeout_seconds=int(spec.get("timeout_seconds", 60)),
                                 memory_limit_in_mb=int(spec.get("memory_mb", 256)))
    from devstack.aws_calls import attributed

    with attributed(function_key):
        return handler_for(function_key)(event if event is not None else {}, context)
