from functions.outbox_drainer import handler


class Context:
    def get_remaining_time_in_millis(self):
        return 60_000


def test_drainer_does_nothing_when_webhooks_are_disabled(tables, monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "")
    assert handler({}, Context())["due"] == 0


def test_drainer_delivers_all_pending_on_request(tables, monkeypatch):
    from chalicelib import wiring
    from chalicelib.webhooks.events import user_created_event
    from chalicelib.webhooks.sender import WebhookSender

    from tests.support.webhooks import FakeHttp

    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/x")
    monkeypatch.setenv("BREAKER_STORAGE", "memory")
    wired = wiring.current()
    wired.outbox.enqueue(user_created_event({"id": "u-1"}, 1_800_000_000), claimed=True)
    wired.webhook_sender = WebhookSender("https://hooks.example.com/x", key_reader=lambda: "k", http=FakeHttp())
    assert handler({"all_pending": True}, Context())["delivered"] == 1
