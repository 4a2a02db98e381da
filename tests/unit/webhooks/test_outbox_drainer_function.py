from functions.outbox_drainer import handler


class Context:
    def get_remaining_time_in_millis(self):
        return 60_000


def test_drainer_does_nothing_when_webhooks_are_disabled(tables, monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "")
    assert handler({}, Context())["due"] == 0


def test_drainer_delivers_all_pending_on_request(tables, monkeypatch):
    from chalicelib import wiring
    from chalicelib.webhooks.sender import WebhookSender

    from tests.support.webhooks import FakeHttp, user_created

    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/x")
    monkeypatch.setenv("BREAKER_STORAGE", "memory")
    wired = wiring.current()
    wired.outbox.enqueue(user_created("u-1"), claimed=True)
    wired.webhook_sender = WebhookSender("https://hooks.example.com/x", key_reader=lambda: "k", http=FakeHttp())
    assert handler({"all_pending": True}, Context())["delivered"] == 1


def test_a_drain_that_trips_the_webhook_breaker_queues_the_transition(tables, monkeypatch):
    """Deliveries signed with the stored key fail at an endpoint that refuses connections (a closed
    port on this machine); the breaker they trip hands its transition to the FIFO queue."""
    import json
    import socket

    import boto3

    from chalicelib import wiring
    from devstack.provision import provision_queues
    from tests.support.webhooks import user_created

    queue = provision_queues(boto3.client("sqs", region_name="us-east-1"))["breaker-transitions"]
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="serverless-sre/webhook-signing-key", SecretString=json.dumps({"key": "stored-signing-key"}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("WEBHOOK_URL", f"https://127.0.0.1:{closed_port}/hooks")
    monkeypatch.setenv("BREAKER_TRANSITIONS_QUEUE_URL", queue)
    monkeypatch.setenv("CIRCUIT_BREAKERS", json.dumps({"webhook": {"fail_max": 2}}))
    wired = wiring.current()
    for number in range(3):
        wired.outbox.enqueue(user_created(f"u-{number}"), claimed=True)
    assert handler({"all_pending": True}, Context())["refused"] == 1
    messages = boto3.client("sqs", region_name="us-east-1").receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [(message["Attributes"]["MessageGroupId"], json.loads(message["Body"])["new_state"])
            for message in messages] == [("webhook", "open")]


def test_a_webhook_outage_injected_by_an_experiment_fails_the_drainers_deliveries(tables, monkeypatch):
    import time

    from chalicelib import wiring
    from chalicelib.chaos.model import WEBHOOK_FAILURE, WEBHOOK_TARGET, FaultRecord

    from tests.support.webhooks import user_created

    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/x")
    wired = wiring.current()
    wired.chaos_fault_store.put(FaultRecord(
        fault_id="exp-0001#0", experiment_id="exp-0001", kind=WEBHOOK_FAILURE, target=WEBHOOK_TARGET, magnitude=503,
        blast_radius_pct=100, expires_at=time.time() + 300, operations=()))
    wired.outbox.enqueue(user_created("u-1"), claimed=True)
    assert handler({"all_pending": True}, Context())["pending"] == 1
    [entry] = wired.outbox.due(10, all_pending=True)
    assert "injected by chaos experiment exp-0001" in entry.last_error
