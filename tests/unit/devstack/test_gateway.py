"""The local server as a keep-alive client sees it."""
import http.client
import threading
import time

import pytest
from chalice import Chalice

from devstack.gateway import create_gateway
from devstack.ports import free_port

REQUESTS = 50
STALL_SECONDS = 0.04  # Nagle's algorithm waiting for the client's delayed ACK


@pytest.fixture
def gateway():
    app = Chalice(app_name="gateway-test")

    @app.route("/ping")
    def ping():
        return {"status": "ok"}

    port = free_port()
    server = create_gateway(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.server.shutdown()
    server.server.server_close()


def test_keep_alive_answers_come_without_the_delayed_ack_stall(gateway):
    connection = http.client.HTTPConnection("127.0.0.1", gateway, timeout=10)
    started = time.monotonic()
    for _ in range(REQUESTS):
        connection.request("GET", "/ping")
        response = connection.getresponse()
        assert response.status == 200 and response.read()
    elapsed = time.monotonic() - started
    connection.close()
    # With the stall every answer takes at least 40 ms: 2 s for 50; without it a few ms each.
    assert elapsed < REQUESTS * STALL_SECONDS * 0.75, f"{REQUESTS} keep-alive requests took {elapsed:.2f} s"


def test_an_unknown_route_answers_compact_json_as_every_error_body(gateway):
    connection = http.client.HTTPConnection("127.0.0.1", gateway, timeout=10)
    connection.request("GET", "/no/such/route")
    response = connection.getresponse()
    assert (response.status, response.read()) == (404, b'{"error":"Not found"}')
    connection.close()
