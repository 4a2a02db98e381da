"""Sending one signed webhook over HTTPS with a short timeout (urllib3, already shipped with botocore)."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

from chalicelib.webhooks.events import WebhookEvent
from chalicelib.webhooks.signing import signed_headers

IDEMPOTENCY_HEADER = "Idempotency-Key"
POOL_CONNECTIONS = 16


class WebhookFailed(Exception):
    """The endpoint did not accept the event (no answer, or a non-2xx answer)."""


class WebhookNotConfigured(Exception):
    pass


class WebhookSender:
    def __init__(self, url: str, key_reader: Callable[[], str], timeout_seconds: float = 2.0, http: Any = None,
                 clock: Callable[[], float] = time.time, allow_plain_http: bool = False, faults: Any = None,
                 sleep: Callable[[float], None] = time.sleep,
                 on_inject: Optional[Callable[[Any], None]] = None) -> None:
        """``allow_plain_http``: the local stack's receiver answers on http://127.0.0.1; ``faults``: the
        process's ``chalicelib.chaos.active.ActiveFaults`` (webhook failures and timeouts);
        ``on_inject`` hears each fault injected (the request it touched names the experiment)."""
        self._faults = faults
        self._on_inject = on_inject
        self._sleep = sleep
        self.url = url
        self.timeout_seconds = timeout_seconds
        self._key_reader = key_reader
        self._http = http
        self._clock = clock
        if self.url and not (self.url.startswith("https://") or allow_plain_http):
            raise WebhookNotConfigured("WEBHOOK_URL must be an https:// URL")

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def _pool(self) -> Any:
        if self._http is None:
            import urllib3

            # Concurrent requests each deliver their user.created: urllib3's default of one kept
            # connection per host discarded (and warned about) every other one under load.
            self._http = urllib3.PoolManager(retries=False, maxsize=POOL_CONNECTIONS, timeout=urllib3.Timeout(
                connect=self.timeout_seconds, read=self.timeout_seconds))
        return self._http

    def headers(self, event: WebhookEvent, attempt: int) -> dict[str, str]:
        body = event.body.encode("utf-8")
        return {"Content-Type": "application/json", IDEMPOTENCY_HEADER: event.event_id,
                "X-Webhook-Id": event.event_id, "X-Webhook-Event": event.event_type,
                "X-Webhook-Attempt": str(attempt), "User-Agent": "serverless-sre-webhooks/1",
                **signed_headers(self._key_reader(), int(self._clock()), body)}

    def _injected_failure(self) -> None:
        """A chaos webhook fault: the endpoint "answers" an error status, or hangs until the timeout."""
        fault = self._faults.webhook_fault() if self._faults is not None else None
        if fault is None:
            return
        if self._on_inject is not None:
            self._on_inject(fault)
        from chalicelib.chaos.model import WEBHOOK_TIMEOUT

        if fault.kind == WEBHOOK_TIMEOUT:
            self._sleep(min(max(0.0, fault.magnitude), self.timeout_seconds))
            raise WebhookFailed(f"ReadTimeoutError: no answer from the webhook endpoint "
                                f"(injected by chaos experiment {fault.experiment_id})")
        raise WebhookFailed(f"webhook endpoint answered {int(fault.magnitude)} "
                            f"(injected by chaos experiment {fault.experiment_id})")

    def send(self, event: WebhookEvent, attempt: int = 1) -> int:
        """POST the event; returns the status code, raises ``WebhookFailed`` unless 2xx."""
        if not self.enabled:
            raise WebhookNotConfigured("WEBHOOK_URL is empty")
        self._injected_failure()
        import urllib3

        try:
            response = self._pool().request("POST", self.url, body=event.body.encode("utf-8"),
                                            headers=self.headers(event, attempt), redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise WebhookFailed(f"{type(exc).__name__}: no answer from the webhook endpoint") from exc
        if not 200 <= response.status < 300:
            raise WebhookFailed(f"webhook endpoint answered {response.status}")
        return response.status

