"""gunicorn's own refusals and limits, as the local gateway answers them."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from tests.support.http_heads import (CONTROLS_REFUSED_IN_HEADER_VALUES, MALFORMED_CHUNKED_BODIES, TAKEN_IN_HEADER_VALUES,
                                     UNSUPPORTED_TRANSFER_CODINGS, head_of)


def test_gunicorn_takes_the_request_limits_the_local_gateway_enforces():
    from container import gunicorn_conf
    from chalicelib.http import limits

    assert (gunicorn_conf.limit_request_line, gunicorn_conf.limit_request_field_size,
            gunicorn_conf.limit_request_fields) == (limits.MAX_REQUEST_LINE_BYTES, limits.MAX_HEADER_FIELD_BYTES,
                                                    limits.MAX_HEADER_FIELDS)
    assert gunicorn_conf.http_parser == "python"  # the parser the worker's head limit hooks (container/worker.py)


def test_the_request_line_limit_is_one_gunicorn_does_not_cap():
    from gunicorn.http.message import MAX_REQUEST_LINE

    from chalicelib.http import limits

    assert limits.MAX_REQUEST_LINE_BYTES <= MAX_REQUEST_LINE


@pytest.fixture
def connection(monkeypatch):
    """The worker's request parser on one end of a connection, the client on the other."""
    from gunicorn.config import Config

    import container.worker as worker

    monkeypatch.setattr(worker, "HEAD_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(worker, "READ_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(worker, "BODY_TIMEOUT_SECONDS", 0.5)
    ours, theirs = socket.socketpair()
    yield worker.TimedRequestParser(Config(), ours, ("127.0.0.1", 1)), ours, theirs
    ours.close()
    theirs.close()


def test_headers_that_stop_arriving_time_out_instead_of_holding_the_thread(connection):
    from container.worker import RequestReadTimeout

    parser, _, client = connection
    started = time.monotonic()
    client.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
    for _ in range(3):  # a byte now and then does not keep it waiting past the head's deadline
        time.sleep(0.05)
        client.sendall(b"X")
    with pytest.raises(RequestReadTimeout, match="headers"):
        next(parser)
    assert time.monotonic() - started < 1


def test_a_body_that_stops_arriving_times_out_instead_of_holding_the_thread(connection):
    from container.worker import RequestReadTimeout

    parser, _, client = connection
    client.sendall(b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}")
    request = next(parser)
    started = time.monotonic()
    with pytest.raises(RequestReadTimeout, match="body"):
        request.body.read(10)
    assert time.monotonic() - started < 1


def test_a_body_trickling_in_times_out_at_its_deadline_though_each_byte_comes_in_time(connection):
    from container.worker import RequestReadTimeout

    parser, _, client = connection
    client.sendall(b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    request = next(parser)
    started = time.monotonic()
    received = bytearray()

    def trickle():
        for _ in range(20):  # a byte every 0.1 s: each read is within the 0.3 s per-read timeout
            time.sleep(0.1)
            try:
                client.sendall(b" ")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    with pytest.raises(RequestReadTimeout, match="of its headers"):
        while True:
            received += request.body.read(1)
    assert time.monotonic() - started < 1.5
    sender.join()


def test_the_next_request_on_a_connection_gets_its_own_body_deadline(connection):
    parser, _, client = connection
    client.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    assert next(parser).body.read(2) == b"{}"
    time.sleep(0.6)  # past the first request's body deadline
    client.sendall(b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    request = next(parser)
    assert (request.path, request.body.read(2)) == ("/b", b"{}")


class Log:
    def __init__(self):
        self.warnings = []

    def warning(self, *args):
        self.warnings.append(args)


def error_handling_worker():
    from container.worker import JsonErrorThreadWorker

    worker = JsonErrorThreadWorker.__new__(JsonErrorThreadWorker)  # handle_error needs only its log
    worker.log = Log()
    return worker


def test_a_request_that_timed_out_is_answered_408_json(connection):
    from container.worker import RequestReadTimeout

    _, ours, theirs = connection
    worker = error_handling_worker()
    worker.handle_error(None, ours, ("127.0.0.1", 1), RequestReadTimeout("Request not received within 60 s"))
    head, _, body = theirs.recv(65536).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in head
    assert json.loads(body) == {"error": "Request Timeout: Request not received within 60 s"}
    assert worker.log.warnings


@pytest.mark.parametrize("coding", UNSUPPORTED_TRANSFER_CODINGS)
def test_a_transfer_coding_other_than_chunked_is_answered_400_json(connection, coding):
    from gunicorn import util

    from container.worker import TransferCodingRefused, write_json_error

    parser, ours, client = connection
    client.sendall(b"POST /api/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding
                   + b"\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    with pytest.raises(TransferCodingRefused) as refused:
        next(parser)
    worker = error_handling_worker()
    original, util.write_error = util.write_error, write_json_error  # as the worker's init_process sets it
    try:
        worker.handle_error(None, ours, ("127.0.0.1", 1), refused.value)
    finally:
        util.write_error = original
    head, _, body = client.recv(65536).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert coding.decode() in json.loads(body)["error"]


def test_a_head_over_the_total_limit_is_refused_as_a_431_though_each_line_is_within_its_own(connection):
    from gunicorn.http.errors import LimitRequestHeaders

    from chalicelib.http.limits import MAX_HEAD_BYTES

    parser, _, client = connection
    client.sendall(head_of(MAX_HEAD_BYTES) + head_of(MAX_HEAD_BYTES + 1))  # two requests on one connection
    assert next(parser).path == "/ping"
    with pytest.raises(LimitRequestHeaders, match=str(MAX_HEAD_BYTES)):  # gunicorn answers it 431
        next(parser)


def test_headers_that_cannot_end_within_the_total_limit_are_refused_before_the_rest_arrives(connection):
    from gunicorn.http.errors import LimitRequestHeaders

    from chalicelib.http.limits import MAX_HEAD_BYTES

    parser, _, client = connection
    client.sendall(head_of(MAX_HEAD_BYTES + 100)[:-4])  # headers that have not ended: waiting would time out (408)
    with pytest.raises(LimitRequestHeaders, match=str(MAX_HEAD_BYTES)):
        next(parser)


@pytest.mark.parametrize("body", MALFORMED_CHUNKED_BODIES)
def test_a_malformed_chunked_body_is_refused_as_a_400_when_read(connection, body):
    from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkExtension, InvalidChunkSize

    parser, _, client = connection
    client.sendall(b"POST /api/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    client.shutdown(socket.SHUT_WR)
    request = next(parser)
    # The errors gunicorn answers 400 (a NoMoreData it would take for a client gone, closing without one)
    with pytest.raises((ChunkMissingTerminator, InvalidChunkExtension, InvalidChunkSize)):
        request.body.read(1024)


@pytest.mark.parametrize("control", CONTROLS_REFUSED_IN_HEADER_VALUES)
def test_a_control_character_in_a_header_value_is_refused_as_a_400(connection, control):
    from gunicorn.http.errors import InvalidHeader

    parser, _, client = connection
    client.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nUser-Agent: a" + control + b"b\r\n\r\n")
    with pytest.raises(InvalidHeader):  # gunicorn answers it 400
        next(parser)


@pytest.mark.parametrize("character", TAKEN_IN_HEADER_VALUES)
def test_a_tab_or_obs_text_in_a_header_value_is_taken(connection, character):
    parser, _, client = connection
    client.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nUser-Agent: a" + character + b"b\r\n\r\n")
    assert next(parser).path == "/ping"
