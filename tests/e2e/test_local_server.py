"""What the local server itself answers before the app sees a request: JSON, like the gateway."""
import json
import socket
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e


def raw_exchange(stack, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are and read one response (the server closes after an error)."""
    address = urlsplit(stack.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def assert_json_error(status, headers, body, expected_status):
    assert status == expected_status
    assert headers["content-type"] == "application/json"
    assert isinstance(json.loads(body)["error"], str)


def test_a_request_line_over_64_kib_answers_414_json(stack):
    status, headers, body = raw_exchange(stack, b"GET /api/users?x=" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 414)


def test_a_header_line_over_64_kib_answers_431_json(stack):
    status, headers, body = raw_exchange(stack, b"GET /api/users HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000
                                         + b"\r\n\r\n")
    assert_json_error(status, headers, body, 431)


def test_more_than_100_headers_answer_431_json(stack):
    many = b"".join(b"X-H%d: v\r\n" % index for index in range(120))
    status, headers, body = raw_exchange(stack, b"GET /api/users HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert_json_error(status, headers, body, 431)


@pytest.mark.parametrize("method", [b"TRACE", b"CONNECT", b"BREW"])
def test_a_method_the_server_does_not_know_answers_405_json(stack, method):
    status, headers, body = raw_exchange(stack, method + b" /api/users HTTP/1.1\r\nHost: x\r\n\r\n")
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
    import http.client

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
