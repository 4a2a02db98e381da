"""Fault injection below the breakers: a botocore event hook that makes AWS calls fail or hang.

``FaultInjector`` is attached to a client's event system on ``before-call.<service>.*``;
it does nothing unless a ``Fault`` is active in its ``FaultSwitch``. Tests, the local
stack and the chaos flow share it::

    switch = FaultSwitch()
    injector = FaultInjector(switch)
    injector.attach(boto3_client)                 # or attach_to_model(PynamoModel)
    switch.activate(Fault(service="dynamodb", operations={"GetItem"}, error_code="InternalServerError"))
    ...
    switch.clear()

The raised error is a real ``botocore.exceptions.ClientError`` (or ``ReadTimeoutError``
for ``hang``), so pynamodb and the breakers see what they would see from AWS; a fault with
``delay_seconds`` only slows the call down. Any object with ``match(service, operation)``
can stand in for the switch: chaos experiments use their fault records
(``chalicelib.chaos.active.DynamoDBFaultSwitch``).
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

ERROR_STATUS = {"InternalServerError": 500, "ServiceUnavailable": 503, "ThrottlingException": 400,
                "ProvisionedThroughputExceededException": 400, "RequestLimitExceeded": 400}


@dataclass(frozen=True)
class Fault:
    service: str = "dynamodb"
    operations: frozenset[str] = field(default_factory=frozenset)  # empty: every operation
    error_code: str = "InternalServerError"
    hang_seconds: float = 0.0  # > 0: sleep then raise a read timeout instead of an error response
    probability: float = 1.0
    expires_at: Optional[float] = None  # epoch seconds; the fault lifts itself after this
    delay_seconds: float = 0.0  # > 0 (and no error): the call proceeds after this delay
    experiment_id: Optional[str] = None  # the chaos experiment that asked for it

    @property
    def only_slows(self) -> bool:
        """The call proceeds, ``delay_seconds`` late."""
        return self.delay_seconds > 0 and self.hang_seconds <= 0 and not self.error_code

    def matches(self, service: str, operation: str, now: float) -> bool:
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return service == self.service and (not self.operations or operation in self.operations)

    def describe(self) -> dict[str, Any]:
        return {"service": self.service, "operations": sorted(self.operations), "error_code": self.error_code,
                "hang_seconds": self.hang_seconds, "probability": self.probability, "expires_at": self.expires_at,
                "delay_seconds": self.delay_seconds, "experiment_id": self.experiment_id}


class FaultSwitch:
    """The faults currently active in this process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._clock = clock

    def activate(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self, service: Optional[str] = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if service is not None and f.service != service]

    def active(self) -> list[Fault]:
        now = self._clock()
        with self._lock:
            self._faults = [f for f in self._faults if f.expires_at is None or now < f.expires_at]
            return list(self._faults)

    def match(self, service: str, operation: str) -> Optional[Fault]:
        now = self._clock()
        for fault in self.active():
            if fault.matches(service, operation, now):
                return fault
        return None


class FaultInjector:
    def __init__(self, switch: Any, *, sleep: Callable[[float], None] = time.sleep,
                 rand: Callable[[], float] = random.random,
                 on_inject: Optional[Callable[[Fault], None]] = None) -> None:
        """``switch``: a ``FaultSwitch`` or anything with its ``match``; ``on_inject`` hears each injection."""
        self.switch = switch
        self._sleep = sleep
        self._rand = rand
        self._on_inject = on_inject
        self.injected = 0

    def attach(self, client: Any, service: str = "dynamodb") -> Any:
        """Register on a boto3/botocore client; returns the client."""
        client.meta.events.register(f"before-call.{service}.*", self._before_call, unique_id=f"fault-{id(self)}")
        return client

    def attach_to_model(self, model_cls: Any) -> Any:
        """Register on the botocore client of a pynamodb model class."""
        # pynamodb builds one client per model connection; attaching touches only this model.
        self.attach(model_cls._get_connection().connection.client)
        return model_cls

    def triggered(self, service: str, operation: str) -> Optional[Fault]:
        """The fault this call meets (its blast radius rolled), counted and reported; None for none."""
        fault = self.switch.match(service, operation)
        if fault is None or self._rand() >= fault.probability:
            return None
        self.injected += 1
        if self._on_inject is not None:
            self._on_inject(fault)
        return fault

    def wait(self, seconds: float) -> None:
        self._sleep(seconds)

    def _before_call(self, model: Any, params: Any = None, **kwargs: Any) -> None:
        service = model.service_model.service_name
        fault = self.triggered(service, model.name)
        if fault is None:
            return None
        if fault.only_slows:
            self._sleep(fault.delay_seconds)
            return None
        if fault.hang_seconds > 0:
            from botocore.exceptions import ReadTimeoutError

            self._sleep(fault.hang_seconds)
            raise ReadTimeoutError(endpoint_url=f"injected://{service}")
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": fault.error_code, "Message": "Injected fault"},
                           "ResponseMetadata": {"HTTPStatusCode": ERROR_STATUS.get(fault.error_code, 500)}},
                          model.name)

