"""The sender under concurrency: one process delivers many requests' events at once."""
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.webhooks.events import WebhookEvent
from chalicelib.webhooks.sender import WebhookSender


@pytest.fixture
def receiver():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_concurrent_deliveries_keep_their_connections(receiver, caplog):
    sender = WebhookSender(receiver, key_reader=lambda: "k" * 32, allow_plain_http=True)
    events = [WebhookEvent(event_id=f"e-{index}", event_type="user.created", body="{}") for index in range(64)]
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(sender.send, events))
    assert statuses == [204] * 64
    assert not [record for record in caplog.records if "pool is full" in record.getMessage()]
