"""The local stack's control for DynamoDB faults below the ``database`` breaker.

``PUT /_local/faults/dynamodb {"operations": ["GetItem"], "error_code": "InternalServerError",
"hang_seconds": 0, "expires_in_seconds": 300}`` (or ``{"delay_seconds": 0.3}``: every call
answers, that much later) attaches the fault injector to the users
store's pynamodb clients (once) and activates the fault in this control's switch;
``DELETE`` lifts it. ``devstack.local_routes`` registers it on the local stack's app only.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from chalicelib.http.errors import ApiError
from chalicelib.resilience.faults import ERROR_STATUS, Fault, FaultInjector, FaultSwitch

DYNAMODB_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "TransactWriteItems",
                       "TransactGetItems", "BatchGetItem", "BatchWriteItem", "DescribeTable")


class LocalFaultControl:
    """Faults below the ``database`` breaker, on the clients of the users store's models."""
    FIELDS = ("operations", "error_code", "hang_seconds", "delay_seconds", "expires_in_seconds")

    def __init__(self, user_models: Callable[[], Any]) -> None:
        self._user_models = user_models
        self.switch = FaultSwitch()
        self._injector = FaultInjector(self.switch)
        self._attached: set[int] = set()

    def attach_to_users_store(self) -> None:
        """Hook every botocore client the users repository uses (its models and its transaction connection)."""
        models = self._user_models()
        clients = [models.user._get_connection().connection.client,
                   models.claim._get_connection().connection.client, models.connection.client]
        for client in clients:
            if id(client) not in self._attached:
                self._injector.attach(client)
                self._attached.add(id(client))

    def activate(self, body: Mapping[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        operations = body.get("operations", [])
        if not isinstance(operations, list) or not all(op in DYNAMODB_OPERATIONS for op in operations):
            errors["operations"] = [f"A list of: {', '.join(DYNAMODB_OPERATIONS)} (empty: all)."]
        delay = body.get("delay_seconds", 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 30:
            errors["delay_seconds"] = ["A number from 0 to 30."]
        # A slow store answers: a delay alone injects no error.
        slow_only = bool(delay) and "error_code" not in body and not body.get("hang_seconds")
        error_code = "" if slow_only else body.get("error_code", "InternalServerError")
        # A list or an object is no key of ERROR_STATUS, and unhashable: test the type first.
        if not slow_only and not (isinstance(error_code, str) and error_code in ERROR_STATUS):
            errors["error_code"] = [f"One of: {', '.join(sorted(ERROR_STATUS))}."]
        hang = body.get("hang_seconds", 0)
        if isinstance(hang, bool) or not isinstance(hang, (int, float)) or not 0 <= hang <= 30:
            errors["hang_seconds"] = ["A number from 0 to 30."]
        expires_in = body.get("expires_in_seconds", 300)
        if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or not 1 <= expires_in <= 3600:
            errors["expires_in_seconds"] = ["A number from 1 to 3600."]
        if errors:
            raise ApiError("Validation failed", details=errors)
        self.attach_to_users_store()
        self.switch.clear("dynamodb")
        self.switch.activate(Fault(service="dynamodb", operations=frozenset(operations), error_code=error_code,
                                   hang_seconds=float(hang), delay_seconds=float(delay),
                                   expires_at=time.time() + float(expires_in)))
        return self.describe()

    def clear(self) -> dict[str, Any]:
        self.switch.clear("dynamodb")
        return self.describe()

    def describe(self) -> dict[str, Any]:
        return {"faults": [fault.describe() for fault in self.switch.active()]}

