"""Detection end to end: the users table disappears behind a running service; how long until a page?

A stack of its own with its schedules running (the SLO evaluator every few seconds instead of
every minute, the one setting the test changes: detection then depends on the evaluator's
design, whole minutes of data and the burn-rate rules, not on when the schedule happens to
fire). Clients keep creating users; the table is deleted; the test waits for the first page
in the level-1 audience's queue and prints the delay.
"""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests

from bench._figures import record
from tests.e2e.conftest import running_stack

pytestmark = pytest.mark.e2e

EVALUATOR_PERIOD_SECONDS = 5
WARM_UP_SECONDS = 30
DETECTION_BUDGET_SECONDS = 180
LEVEL_ONE_QUEUE = "serverless-sre-incident-pages-level-1"


class Clients:
    """A few clients creating users, bounded in time, counting answers by status."""

    def __init__(self, base_url: str, clients: int = 2, pause: float = 0.05, limit_seconds: float = 400) -> None:
        self.base_url, self.pause, self.limit = base_url, pause, limit_seconds
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        started = time.monotonic()
        with requests.Session() as http:
            while not self._stop.is_set() and time.monotonic() - started < self.limit:
                email = f"detect-{uuid.uuid4().hex[:12]}@example.com"
                try:
                    status = http.post(f"{self.base_url}/api/users", json={"name": "Detect", "email": email},
                                       timeout=10).status_code
                except requests.RequestException:
                    status = 0
                with self._lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                self._stop.wait(self.pause)

    def __enter__(self) -> "Clients":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)


def _pages(sqs, queue_url):
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", [])
    return [json.loads(json.loads(message["Body"])["Message"]) for message in messages]


def test_a_users_table_outage_pages_within_three_minutes(capsys):
    with running_stack("--schedule", f"slo-evaluator={EVALUATOR_PERIOD_SECONDS}", schedules=True) as stack:
        sqs = stack.boto3_client("sqs")
        queue_url = sqs.get_queue_url(QueueName=LEVEL_ONE_QUEUE)["QueueUrl"]
        with Clients(stack.base_url) as clients:
            time.sleep(WARM_UP_SECONDS)
            assert clients.statuses.get(201, 0) > 0, clients.statuses
            assert _pages(sqs, queue_url) == [], "a healthy service paged"
            stack.boto3_client("dynamodb").delete_table(TableName="serverless-sre-users")
            outage_started = time.monotonic()
            first_page = first_slo_page = None
            while time.monotonic() - outage_started < DETECTION_BUDGET_SECONDS + 30 and first_slo_page is None:
                for page in _pages(sqs, queue_url):
                    delay = time.monotonic() - outage_started
                    if first_page is None:
                        first_page = (delay, page)
                    if page["source"] == "slo" and first_slo_page is None:
                        first_slo_page = (delay, page)
        with capsys.disabled():
            print(f"\nusers table outage: answers {dict(sorted(clients.statuses.items()))}")
            for label, found in (("first page", first_page), ("first SLO page", first_slo_page)):
                print(f"  {label}: " + (f"{found[0]:.1f} s after the table was deleted "
                                        f"({found[1]['severity']} {found[1]['title']})" if found else "none"))
    record("detection", "DETECTION_FIGURES", first_page_s=round(first_page[0], 1) if first_page else None,
           first_slo_page_s=round(first_slo_page[0], 1) if first_slo_page else None,
           budget_s=DETECTION_BUDGET_SECONDS, answers=dict(sorted(clients.statuses.items())))
    assert first_page is not None and first_page[0] <= DETECTION_BUDGET_SECONDS
    assert first_slo_page is not None, "no SLO page within the budget"
    assert first_slo_page[0] <= DETECTION_BUDGET_SECONDS, f"SLO page after {first_slo_page[0]:.1f} s"
