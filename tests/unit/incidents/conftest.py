"""Fixtures for the incident tests.

Most tests run against moto in-process (``aws_mock``). The escalation tests run the
real state machine on a moto server in this process, provisioned by
``devstack.statemachines`` exactly as the local stack does, with the waits of
``.waitForTaskToken`` tasks under the test's control (``ack_waits``).
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Optional

import pytest

from tests.support.clocks import ManualClock

OPERATOR_TOKEN = "operator-token-for-tests"
OTHER_OPERATOR_TOKEN = "other-operator-token-for-tests"
LINK_KEY = "ack-link-key-for-tests"
START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
LEVELS = (1, 2, 3, 4)
WAIT_CAP_SECONDS = 20  # a test that forgot to expire a wait fails instead of hanging


class FakeEscalations:
    """Records what the service asks of Step Functions."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.stopped: list[tuple[str, dict]] = []
        self.aborted: list[tuple[str, str]] = []
        self.stale = False

    def start(self, incident: Any, start_level: int = 1) -> str:
        self.started.append(incident.id)
        return f"arn:aws:states:us-east-1:123456789012:execution:escalation:{incident.id}"

    def status(self, execution_arn: str) -> str:
        return "RUNNING"

    def abort(self, execution_arn: str, reason: str) -> bool:
        self.aborted.append((execution_arn, reason))
        return True

    def stop(self, task_token: str, outcome: dict) -> bool:
        self.stopped.append((task_token, dict(outcome)))
        return not self.stale


@pytest.fixture(scope="session")
def boto_session():
    """One session for the fixtures' own clients: it parses each service model once, where a
    fresh session per test spends ~0.1 s per client doing it again."""
    import boto3
    import botocore.session
    # Importing moto first puts its request interceptor into every session created afterwards;
    # this fixture may run before any test has imported moto (session scope is set up first).
    import moto.core.models  # noqa: F401

    return boto3.session.Session(botocore_session=botocore.session.get_session(), region_name="us-east-1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def incidents_table(aws_mock, boto_session, wired):
    from devstack.resources import create_table_request, definitions

    boto_session.client("dynamodb").create_table(
        **create_table_request(definitions("tables")["incidents"]))

    return wired.incident_store


@pytest.fixture
def escalations() -> FakeEscalations:
    return FakeEscalations()


@pytest.fixture
def service(incidents_table, escalations, clock, wired):
    from chalicelib.incidents.service import IncidentService

    return IncidentService(incidents_table, escalations, wired.escalation_policy(), clock=clock)


# -- the escalation state machine on a moto server ----------------------------------------------

class PendingWait:
    def __init__(self, endpoint: Any, timeout: Optional[float]) -> None:
        self.endpoint = endpoint
        self.timeout = timeout

    def expire(self) -> None:
        """Let this wait time out, as if its TimeoutSeconds had passed."""
        self.endpoint.interrupt_all()


class AckWaits:
    """Stands in for the clock of ``.waitForTaskToken`` tasks: records each wait's timeout and
    lets the test decide when it passes. An ack (SendTaskSuccess) still ends a wait at once."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._pending: list[PendingWait] = []
        self.timeouts: list[Optional[float]] = []

    def wait(self, endpoint: Any, timeout: Optional[float] = None) -> Any:
        pending = PendingWait(endpoint, timeout)
        with self._condition:
            self._pending.append(pending)
            self.timeouts.append(timeout)
            self._condition.notify_all()
        endpoint._notify_event.wait(timeout=WAIT_CAP_SECONDS)
        return endpoint.get_outcome()

    def next(self, within: float = 10) -> PendingWait:
        """The next wait the state machine enters (blocks until it does)."""
        with self._condition:
            if not self._condition.wait_for(lambda: self._pending, timeout=within):
                raise AssertionError("the state machine did not start waiting for an acknowledgement")
            return self._pending.pop(0)

    def assert_none_pending(self) -> None:
        with self._condition:
            assert not self._pending, f"unexpected ack waits: {[w.timeout for w in self._pending]}"


class PageInbox:
    """The pages delivered to each level's SQS queue."""

    def __init__(self, sqs: Any, queues: dict[int, str]) -> None:
        self._sqs = sqs
        self._queues = queues

    def take(self, level: int) -> list[dict]:
        """The page documents (plus the SNS subject) delivered to ``level`` since the last take."""
        pages = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queues[level], MaxNumberOfMessages=10,
                                                 WaitTimeSeconds=0).get("Messages", [])
            if not messages:
                return pages
            for message in messages:
                envelope = json.loads(message["Body"])
                pages.append({"subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
                self._sqs.delete_message(QueueUrl=self._queues[level], ReceiptHandle=message["ReceiptHandle"])

    def take_all(self) -> dict[int, list[dict]]:
        return {level: self.take(level) for level in self._queues}

    def counts(self) -> list[int]:
        return [len(pages) for _, pages in sorted(self.take_all().items())]


@pytest.fixture(scope="module")
def moto_stack():
    """A moto server provisioned like the local stack: the pages topic's audiences (one per
    escalation level, infra/topics.json) are SQS queues subscribed through their filter policies."""
    from devstack.provision import provision_audience_inboxes
    from tests.support.moto_server import provisioned_moto_server

    # A table name of its own: pynamodb caches connections per model class, and the in-process
    # tests' classes must never talk to this server (nor these to mock_aws).
    with provisioned_moto_server(("sqs", "stepfunctions"),
                                 {"INCIDENTS_TABLE": "serverless-sre-incidents-sfn"}) as server:
        clients, resources = server.clients, server.resources
        clients["secretsmanager"].put_secret_value(SecretId="serverless-sre/incident-ack-link-key",
                                                   SecretString=json.dumps({"key": LINK_KEY}))
        inboxes = provision_audience_inboxes(clients["sns"], clients["sqs"], resources["topics"])
        resources["inboxes"] = inboxes
        queues = {level: inboxes[f"incident-pages/level-{level}"] for level in LEVELS}
        yield SimpleNamespace(endpoint=server.endpoint, clients=clients, queues=queues,
                              topic=resources["topics"]["incident-pages"], machines=server.machines,
                              resources=resources, inbox=PageInbox(clients["sqs"], queues))


@pytest.fixture
def ack_waits(monkeypatch) -> AckWaits:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    waits = AckWaits()
    monkeypatch.setattr(CallbackEndpoint, "wait", lambda endpoint, timeout=None: waits.wait(endpoint, timeout))
    return waits


@pytest.fixture
def retry_sleeps(monkeypatch) -> list:
    """Retry intervals of the state machine, recorded instead of slept."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    slept: list = []
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=slept.append))
    return slept


@pytest.fixture
def sfn_service(moto_stack):
    from chalicelib import wiring

    moto_stack.inbox.take_all()
    return wiring.current().incident_service


# -- the HTTP API --------------------------------------------------------------------------------

@pytest.fixture
def stored_secrets(aws_mock, boto_session):
    client = boto_session.client("secretsmanager")
    client.create_secret(Name="serverless-sre/operator-token",
                         SecretString=json.dumps({"alice": OPERATOR_TOKEN, "bob": OTHER_OPERATOR_TOKEN}))
    client.create_secret(Name="serverless-sre/incident-ack-link-key", SecretString=json.dumps({"key": LINK_KEY}))


@pytest.fixture
def signer(clock):
    from chalicelib.incidents.ack_links import AckLinkSigner

    return AckLinkSigner(lambda: LINK_KEY.encode(), ttl_seconds=3600, base_url="https://api.example.test",
                         clock=lambda: clock().timestamp())


@pytest.fixture
def api_client(service, stored_secrets, clock, wired):
    from chalice import Chalice
    from chalice.test import Client

    from chalicelib import wiring
    from chalicelib.incidents import routes
    from chalicelib.incidents.ack_links import AckLinkSigner
    from chalicelib.observability.middleware import http_middleware

    wired.incident_service = service
    # The app checks links with the key it reads from Secrets Manager (stored_secrets), as deployed;
    # the tests sign them with ``signer``, which holds the same key. Only the clock is the test's.
    secret = wired.settings.incidents.ack_link_secret
    wired.ack_link_signer = AckLinkSigner(lambda: wired.secrets.read_field(secret, "key").encode("utf-8"),
                                          ttl_seconds=3600, base_url="https://api.example.test",
                                          clock=lambda: clock().timestamp())
    app = Chalice(app_name="incidents-test")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(routes.build_blueprint(wiring.current))
    with Client(app) as client:
        yield client


@pytest.fixture
def operator() -> dict:
    """alice's token."""
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def other_operator() -> dict:
    """bob's token."""
    return {"Authorization": f"Bearer {OTHER_OPERATOR_TOKEN}", "Content-Type": "application/json"}
