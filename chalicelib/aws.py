"""boto3 clients, built on first use so importing the app stays cheap.

The endpoint comes from botocore's own ``AWS_ENDPOINT_URL`` setting, which the
local stack points at its embedded AWS.
"""
from __future__ import annotations

import threading
from typing import Any, Callable


class Clients:
    """One boto3 client per service for one process (``chalicelib.wiring`` owns the instance)."""

    def __init__(self, region: str, max_pool_connections: int = 10) -> None:
        self.region = region
        self.max_pool_connections = max_pool_connections
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is not None:
            return client
        with self._lock:
            if service not in self._clients:
                import boto3  # ~90 ms: only paid by the first call that needs AWS
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session()
                self._clients[service] = self._session.client(
                    service, region_name=self.region, config=Config(max_pool_connections=self.max_pool_connections))
            return self._clients[service]

    def lazy(self, service: str) -> "LazyClient":
        return LazyClient(lambda: self.get(service))


class LazyClient:
    """Stands for a client that is built on its first use: objects are handed their client
    when the process wires them, without paying boto3's import until a call needs it."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None
        # Concurrent first calls (a server's threads) build one client: each build loads the
        # service's model again, ~50 ms of CPU and ~40,000 objects.
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
        return getattr(self._client, name)


# Step Functions' codes for an execution it does not know: lost with the embedded AWS's restart,
# or with its state machine's redeployment.
EXECUTION_GONE_CODES = frozenset({"ExecutionDoesNotExist", "InvalidArn"})


def is_execution_gone(exc: BaseException) -> bool:
    """A Step Functions call failed because the execution it named no longer exists."""
    from chalicelib.dynamodb import error_code  # botocore's error code, read the same way for every service

    return error_code(exc) in EXECUTION_GONE_CODES


# Error codes of an AWS service that cannot take the call now (a retry later may succeed).
UNAVAILABLE_CODES = frozenset({
    "ThrottlingException", "Throttling", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
})


def is_service_unavailable(exc: BaseException) -> bool:
    """An AWS call failed for want of the service, not for what it asked: no connection, a timeout,
    throttling, the service's own fault. Follows pynamodb's and botocore's wrapping (a few levels)."""
    # Refused or failed connections and connect timeouts; connections closed and read timeouts.
    from botocore.exceptions import ConnectionError as NoConnection, HTTPClientError

    from chalicelib.dynamodb import error_code
    from chalicelib.errors import error_chain

    return any(isinstance(seen, (NoConnection, HTTPClientError)) or error_code(seen) in UNAVAILABLE_CODES
               for seen in error_chain(exc))
