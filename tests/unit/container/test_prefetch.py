"""When the worker's poller hands an arriving request to a thread (container/prefetch.py)."""
import pytest

from chalicelib.http import limits
from container.prefetch import MAX_PREFETCH_BODY_BYTES, ready_for_a_thread, waiting_for

HEAD = b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize("data", [
    b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    HEAD + b"Content-Length: 2\r\n\r\n{}",
    HEAD + b"Content-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n",  # a pipelined request behind it
    b"GET /health HTTP/1.1\nHost: x\n\n",  # bare line feeds: refused there
])
def test_a_whole_request_is_ready(data):
    assert ready_for_a_thread(data)


@pytest.mark.parametrize("data, lacking", [
    (b"GET /health HTTP/1.1\r\nHost: x\r\n", "head"),
    (b"GET /hea", "head"),
    (HEAD + b"Content-Length: 20\r\n\r\n{", "body"),
])
def test_a_request_still_arriving_waits(data, lacking):
    assert not ready_for_a_thread(data)
    assert waiting_for(data) == lacking


@pytest.mark.parametrize("framing", [b"Transfer-Encoding: chunked", b"Expect: 100-continue\r\nContent-Length: 9",
                                     f"Content-Length: {MAX_PREFETCH_BODY_BYTES + 1}".encode(),
                                     b"Content-Length: 1\r\nContent-Length: 2", b"Content-Length: -1"])
def test_a_head_whose_body_the_thread_reads_or_refuses_is_ready_without_the_body(framing):
    assert ready_for_a_thread(HEAD + framing + b"\r\n\r\n")


@pytest.mark.parametrize("data", [
    b"GET /x HTTP/1.1\r\nX-A: " + b"a" * limits.MAX_HEAD_BYTES,
    b"GET /" + b"a" * limits.MAX_REQUEST_LINE_BYTES,
    b"GET /x HTTP/1.1\r\nX-A: " + b"a" * limits.MAX_HEADER_FIELD_BYTES,
])
def test_a_head_already_over_a_limit_is_ready_to_be_refused(data):
    assert ready_for_a_thread(data)
