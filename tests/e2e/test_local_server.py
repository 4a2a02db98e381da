"""What the local server itself answers before the app sees a request: JSON, like the gateway."""
import http.client
import json
import re
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from chalicelib.http.limits import MAX_HEAD_BYTES, MAX_HEADER_FIELD_BYTES, MAX_HEADER_FIELDS, MAX_REQUEST_LINE_BYTES
from tests.support.http_heads import MALFORMED_CHUNKED_BODIES, head_of
from tests.support.raw_http import one_answer

pytestmark = pytest.mark.e2e


def raw_exchange(stack, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are and read one response (the server closes after an error)."""
    address = urlsplit(stack.base_url)
    return one_answer(address.hostname, address.port, request)


def assert_json_error(status, headers, body, expected_status):
    assert status == expected_status
    assert headers["content-type"] == "application/json"
    assert isinstance(json.loads(body)["error"], str)


def request_line_of(length: int) -> bytes:
    start, end = b"GET /api/users?x=", b" HTTP/1.1"
    return start + b"a" * (length - len(start) - len(end)) + end


def test_a_request_line_over_the_shared_limit_answers_414_json_in_both_variants(stack):
    assert raw_exchange(stack, request_line_of(MAX_REQUEST_LINE_BYTES) + b"\r\nHost: x\r\n\r\n")[0] == 200
    status, headers, body = raw_exchange(stack, request_line_of(MAX_REQUEST_LINE_BYTES + 1) + b"\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 414)


def test_a_header_line_over_the_shared_limit_answers_431_json_in_both_variants(stack):
    def with_header(length: int) -> bytes:  # the line's length with its CRLF
        return b"GET /api/users HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (length - 9) + b"\r\n\r\n"

    assert raw_exchange(stack, with_header(MAX_HEADER_FIELD_BYTES))[0] == 200
    status, headers, body = raw_exchange(stack, with_header(MAX_HEADER_FIELD_BYTES + 1))
    assert_json_error(status, headers, body, 431)


def test_more_header_lines_than_the_shared_limit_answer_431_json_in_both_variants(stack):
    def with_headers(count: int) -> bytes:
        many = b"".join(b"X-H%d: v\r\n" % index for index in range(count - 1))
        return b"GET /api/users HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"

    assert raw_exchange(stack, with_headers(MAX_HEADER_FIELDS))[0] == 200
    status, headers, body = raw_exchange(stack, with_headers(MAX_HEADER_FIELDS + 1))
    assert_json_error(status, headers, body, 431)


def test_a_head_over_the_shared_total_limit_answers_431_json_in_both_variants(stack):
    assert raw_exchange(stack, head_of(MAX_HEAD_BYTES, b"GET /api/users HTTP/1.1"))[0] == 200
    status, headers, body = raw_exchange(stack, head_of(MAX_HEAD_BYTES + 1, b"GET /api/users HTTP/1.1"))
    assert_json_error(status, headers, body, 431)
    assert str(MAX_HEAD_BYTES) in json.loads(body)["error"]


@pytest.mark.parametrize("body", MALFORMED_CHUNKED_BODIES)
def test_a_malformed_chunked_body_answers_400_json_at_once_in_both_variants(stack, body):
    started = time.monotonic()
    status, headers, answer = raw_exchange(stack, b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                                  b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert_json_error(status, headers, answer, 400)
    assert time.monotonic() - started < 5  # not after a read timeout


def test_a_create_whose_body_is_cut_short_of_its_content_length_is_refused_and_writes_nothing(stack):
    email = f"cut-{time.monotonic_ns()}@example.com"
    body = json.dumps({"name": "Cut", "email": email}).encode()
    status, headers, answer = raw_exchange(stack, b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                                  b"\r\nContent-Length: %d\r\n\r\n" % (len(body) + 5) + body)
    assert_json_error(status, headers, answer, 400)
    created = requests.post(f"{stack.base_url}/api/users", json={"name": "Cut", "email": email}, timeout=10)
    assert created.status_code == 201  # not a 409: the cut request created no user


def test_a_path_starting_with_two_slashes_is_an_unknown_route_in_both_variants(stack):
    status, headers, body = raw_exchange(stack, b"GET //api/users HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 404)


@pytest.mark.parametrize("line", [b"get /api/users HTTP/1.1", b"GET * HTTP/1.1", b"GET /api/users?\xff HTTP/1.1",
                                  b"GET  /api/users HTTP/1.1"])
def test_a_malformed_request_line_answers_400_json_in_both_variants(stack, line):
    status, headers, body = raw_exchange(stack, line + b"\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 400)


@pytest.mark.parametrize("method, target", [(b"TRACE", b"/api/users"), (b"CONNECT", b"/api/users"),
                                            (b"BREW", b"/api/users"), (b"CONNECT", b"example.com:443")])
def test_a_method_the_server_does_not_know_answers_405_json(stack, method, target):
    status, headers, body = raw_exchange(stack, method + b" " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 405)
    assert "GET" in headers["allow"]


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1_0", b"99999999999999999999"])
def test_a_content_length_that_is_not_a_byte_count_answers_400_json(stack, length):
    status, headers, body = raw_exchange(stack, b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                         b"application/json\r\nContent-Length: " + length + b"\r\n\r\n{}")
    assert_json_error(status, headers, body, 400)


def test_a_204_has_no_content_type_and_no_body(stack):
    created = stack.http.post(stack.url("/api/users"), json={"name": "Gone Soon", "email": "gone-soon@example.com"})
    assert created.status_code == 201
    status, headers, body = raw_exchange(stack, f"DELETE /api/users/{created.json()['id']} HTTP/1.1\r\nHost: x\r\n"
                                                "Connection: close\r\n\r\n".encode())
    assert (status, body) == (204, b"")
    assert "content-type" not in headers
    assert "content-length" not in headers


def test_the_embedded_aws_answers_many_calls_on_one_kept_alive_connection(stack):
    address = urlsplit(stack.aws_endpoint)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        for _ in range(3):
            connection.request("GET", "/moto-api/", headers={"Connection": "keep-alive"})
            response = connection.getresponse()
            response.read()
            assert response.getheader("Connection", "").lower() != "close"
            assert not response.will_close
        local_port = connection.sock.getsockname()[1]
        connection.request("GET", "/moto-api/")
        connection.getresponse().read()
        assert connection.sock.getsockname()[1] == local_port  # the same TCP connection answered every call
    finally:
        connection.close()


def test_every_url_the_banner_prints_answers(stack):
    deadline = time.monotonic() + 30  # the banner follows the ready status by a moment
    while "Ctrl-C stops everything." not in (console := stack.log_path.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"no banner in:\n{console[-2000:]}"
        time.sleep(0.2)
    # The banner's URLs only: lines after it (an SLO alert's runbook link, say) are no URL of the stack.
    banner = console[console.index("serverless-sre is running"):console.index("Ctrl-C stops everything.")]
    urls = re.findall(r"https?://[^\s)]+", banner)
    assert len(urls) >= 8
    # The dashboard's JSON is not read here: its first read keeps the business figures of a stack with no
    # users for a minute (DASHBOARD_CACHE_SECONDS), which the dashboard page's test on this stack reads.
    for url in (url for url in urls if not url.endswith("/sre/dashboard")):
        # What arrived at the webhook receiver is the operator's to read, as the banner says.
        headers = stack.operator_headers() if url == stack.receiver_url() else {}
        assert requests.get(url, headers=headers, timeout=30).status_code == 200, url


IDLE_CLIENTS = 100  # more than the ECS variant's threads (2 workers of 8)


def _answer_beside(stack, others):
    """The status of a fresh GET /health/live while ``others`` hold their connections, and its wait."""
    address = urlsplit(stack.base_url)
    try:
        started = time.monotonic()
        fresh = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        fresh.request("GET", "/health/live")
        status = fresh.getresponse().status
        elapsed = time.monotonic() - started
        fresh.close()
    finally:
        for connection in others:
            connection.close()
    return status, elapsed


def _connections(stack, count):
    address = urlsplit(stack.base_url)
    return [socket.create_connection((address.hostname, address.port), timeout=10) for _ in range(count)]


def test_clients_that_connect_and_send_nothing_do_not_stall_the_others_in_both_variants(stack):
    status, elapsed = _answer_beside(stack, _connections(stack, IDLE_CLIENTS))
    # gunicorn alone gave each of them a thread for 5 s: ~30 s before an answer
    assert status == 200 and elapsed < 5, f"answered {status} after {elapsed:.1f} s"


def test_clients_sending_a_request_a_byte_at_a_time_do_not_stall_the_others_in_both_variants(stack):
    slow = _connections(stack, IDLE_CLIENTS)
    for connection in slow:
        connection.sendall(b"GET /health/live HTTP/1.1\r\nHo")  # and the rest never comes
    time.sleep(0.5)
    for connection in slow:
        connection.sendall(b"s")
    status, elapsed = _answer_beside(stack, slow)
    # A thread per arriving request: with 16 threads, the others waited for the head timeout (10 s)
    assert status == 200 and elapsed < 5, f"answered {status} after {elapsed:.1f} s"


def test_clients_pipelining_half_a_second_request_do_not_stall_the_others_in_both_variants(stack):
    slow = _connections(stack, IDLE_CLIENTS)
    for connection in slow:  # a whole request, then the start of the next, whose rest never comes
        connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHo")
    time.sleep(1)
    status, elapsed = _answer_beside(stack, slow)
    # gunicorn handed a kept-alive connection with the next request begun straight to a thread: 9 s
    assert status == 200 and elapsed < 5, f"answered {status} after {elapsed:.1f} s"
