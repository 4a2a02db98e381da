"""The local server as a keep-alive client sees it."""
import http.client
import http.server
import json
import threading
import time

import pytest
from chalice import Chalice

from devstack.gateway import create_gateway
from devstack.ports import free_port
from tests.support.http_heads import (CONTROLS_REFUSED_IN_HEADER_VALUES, MALFORMED_CHUNKED_BODIES, TAKEN_IN_HEADER_VALUES,
                                     UNSUPPORTED_TRANSFER_CODINGS, head_of)

REQUESTS = 50
STALL_SECONDS = 0.04  # Nagle's algorithm waiting for the client's delayed ACK


@pytest.fixture
def gateway(monkeypatch):
    """A gateway whose app answers with the body it received; a body that stalls times out in 0.5 s."""
    import devstack.gateway as gateway_module

    monkeypatch.setattr(gateway_module, "IDLE_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(gateway_module, "HEAD_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(gateway_module, "BODY_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(gateway_module.GatewayRequestHandler, "timeout", 0.5)
    app = Chalice(app_name="gateway-test")

    @app.route("/echo", methods=["POST"], content_types=["application/json"])
    def echo():
        return {"received": (app.current_request.raw_body or b"").decode()}

    @app.route("/headers", methods=["GET"])
    def headers():
        return app.current_request.to_original_event()["multiValueHeaders"]

    @app.route("/ping", methods=["GET", "HEAD"])
    def ping():
        return {"status": "ok"}

    @app.route("/")
    def root():
        return {"root": True}

    @app.route("/items/{item_id}", methods=["GET", "DELETE"])
    def item(item_id):
        return {"item_id": item_id}

    port = free_port()
    server = create_gateway(app, "127.0.0.1", port)
    # A short poll interval: shutdown() waits for it, in every test's teardown.
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
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


def test_an_answer_the_gateway_writes_itself_carries_a_correlation_id(gateway):
    """An unknown route's 404 had the security headers but no X-Correlation-Id."""
    connection = http.client.HTTPConnection("127.0.0.1", gateway, timeout=10)
    connection.request("GET", "/no/such/route")
    response = connection.getresponse()
    response.read()
    assert response.status == 404 and response.getheader("X-Correlation-Id")
    connection.close()


def test_an_http_1_1_request_without_a_host_answers_400_json(gateway):
    assert refusal(gateway, b"GET /echo HTTP/1.1\r\n\r\n", 400) == "Host header is missing; HTTP/1.1 requires one"


def exchange(port: int, raw: bytes, *, close_write: bool = True) -> list[tuple[int, bytes]]:
    """Every (status, body) the server sent back on one connection for ``raw``, until it closed."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        if close_write:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    answers = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next((int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:")), 0)
        answers.append((int(lines[0].split()[1]), rest[:length]))
        received = rest[length:]
    return answers


def refusal(port: int, raw: bytes, status: int, *, close_write: bool = True) -> str:
    """The error of the one answer to ``raw``, which must be ``status`` (the connection then closed)."""
    answers = exchange(port, raw, close_write=close_write)
    assert [answer_status for answer_status, _ in answers] == [status]
    return json.loads(answers[0][1])["error"]


POST_ECHO = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def test_a_chunked_body_reaches_the_app_whole(gateway):
    raw = (POST_ECHO + b"Transfer-Encoding: chunked\r\n\r\n4 ; long=\"" + b"e" * 2000 + b"\"\r\n{\"a\"\r\n5;ext=1\r\n: 1}\n\r\n"
           b"0\r\nX-Trailer: t\r\n\r\n")
    assert exchange(gateway, raw) == [(200, b'{"received":"{\\"a\\": 1}\\n"}')]


def test_a_request_inside_a_chunked_body_is_body_not_a_second_request(gateway):
    smuggled = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = POST_ECHO + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n"
    answers = exchange(gateway, raw)
    assert len(answers) == 1 and answers[0][0] == 200 and b"GET /ping" in answers[0][1]


@pytest.mark.parametrize("body", MALFORMED_CHUNKED_BODIES)
def test_a_malformed_chunked_body_answers_400_json_and_closes(gateway, body):
    assert "Chunked body is malformed" in refusal(gateway, POST_ECHO + b"Transfer-Encoding: chunked\r\n\r\n" + body, 400)


def test_a_body_cut_short_of_its_content_length_answers_400_json_and_reaches_no_route(gateway):
    # '{}' is valid JSON: served, it would be taken for the whole body the client framed
    assert "2 of the 20 bytes" in refusal(gateway, POST_ECHO + b"Content-Length: 20\r\n\r\n{}", 400)


@pytest.mark.parametrize("coding", UNSUPPORTED_TRANSFER_CODINGS)
def test_a_transfer_coding_other_than_chunked_answers_400_json(gateway, coding):
    raw = POST_ECHO + b"Transfer-Encoding: " + coding + b"\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    assert coding.decode() in refusal(gateway, raw, 400)


def test_both_framings_at_once_answer_400_json_and_close_as_gunicorn_does(gateway):
    raw = (POST_ECHO + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
           b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert "both given" in refusal(gateway, raw, 400)


@pytest.mark.parametrize("second", [b"20", b"2"])
def test_a_content_length_given_twice_answers_400_json_even_when_equal(gateway, second):
    assert "more than once" in refusal(gateway, POST_ECHO + b"Content-Length: 2\r\nContent-Length: " + second + b"\r\n\r\n{}", 400)


@pytest.mark.parametrize("line", [b"No colon here", b": no name", b" folded: first"])
def test_a_header_line_that_is_no_name_and_value_answers_400_json(gateway, line):
    assert "Malformed header" in refusal(gateway, b"GET /ping HTTP/1.1\r\n" + line + b"\r\nHost: x\r\nX-After: 1\r\n\r\n", 400)


@pytest.mark.parametrize("lines", [b"X-Correlation-Id: abc\r\n injected-line", b'X-Correlation-Id: abc\n{"level": "ERROR"}',
                                   b"X-Correlation-Id: a\rb", b"X-Correlation-Id: a\x00b", b"X Id: 1"])
def test_a_folded_line_a_bare_cr_or_lf_a_nul_or_a_name_that_is_no_token_answers_400_json(gateway, lines):
    assert "Malformed header" in refusal(gateway, b"GET /ping HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n\r\n", 400)


@pytest.mark.parametrize("control", CONTROLS_REFUSED_IN_HEADER_VALUES)
def test_a_control_character_in_a_header_value_answers_400_json_as_gunicorn_does(gateway, control):
    assert "Malformed header" in refusal(gateway, b"GET /ping HTTP/1.1\r\nHost: x\r\nUser-Agent: a" + control
                                         + b"b\r\n\r\n", 400)


@pytest.mark.parametrize("character", TAKEN_IN_HEADER_VALUES)
def test_a_tab_or_obs_text_in_a_header_value_is_taken(gateway, character):
    raw = b"GET /ping HTTP/1.1\r\nHost: x\r\nUser-Agent: a" + character + b"b\r\nConnection: close\r\n\r\n"
    assert [status for status, _ in exchange(gateway, raw)] == [200]


def test_a_multipart_content_type_is_no_malformed_header(gateway):
    body = b'--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--zz--\r\n'
    raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert [status for status, _ in exchange(gateway, raw)] == [415]  # the app's answer: it takes JSON


def test_a_body_that_stops_arriving_answers_408_json(gateway):
    assert "not received" in refusal(gateway, POST_ECHO + b"Content-Length: 10\r\n\r\n{}", 408, close_write=False)


def trickled_answer(port: int, start: bytes) -> tuple[bytes, float]:
    """The answer to ``start`` followed by a space every 0.1 s (each within the 0.5 s idle timeout, 3 s
    in all), and the seconds it took to come."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(start)
        started = time.monotonic()
        answer = b""
        for _ in range(30):
            time.sleep(0.1)
            try:
                client.sendall(b" ")
            except OSError:
                break
            client.setblocking(False)
            try:
                answer += client.recv(4096)
            except BlockingIOError:
                pass
            finally:
                client.setblocking(True)
            if answer:
                break
        answer += client.recv(4096)
    return answer, time.monotonic() - started


@pytest.mark.parametrize("framing", [b"Content-Length: 100\r\n\r\n{", b"Transfer-Encoding: chunked\r\n\r\n64\r\n{"])
def test_a_body_trickling_in_answers_408_at_its_deadline_though_each_byte_comes_in_time(gateway, framing):
    answer, seconds = trickled_answer(gateway, POST_ECHO + framing)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"of its headers" in answer
    assert seconds < 2


def test_a_header_line_trickling_in_answers_408_at_the_head_deadline(gateway):
    answer, seconds = trickled_answer(gateway, b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: a")
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"headers not received" in answer
    assert seconds < 2


def test_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout(gateway):
    started = time.monotonic()
    assert exchange(gateway, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", close_write=False) == [
        (200, b'{"status":"ok"}')]
    assert time.monotonic() - started < 5


def test_a_head_answer_has_the_get_headers_and_no_body(gateway):
    connection = http.client.HTTPConnection("127.0.0.1", gateway, timeout=10)
    connection.request("HEAD", "/ping")
    head = connection.getresponse()
    assert (head.status, head.getheader("Content-Length"), head.read()) == (200, "15", b"")
    connection.request("GET", "/ping")  # the same connection still frames answers right
    assert connection.getresponse().read() == b'{"status":"ok"}'
    connection.close()


def test_a_client_that_hangs_up_before_its_answer_prints_no_traceback(capsys):
    from devstack.gateway import GatewayServer

    server = GatewayServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler, bind_and_activate=False)
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except BrokenPipeError:
        server.handle_error(None, ("127.0.0.1", 1))
    try:
        raise ValueError("a real fault")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 1))
    server.server_close()
    printed = capsys.readouterr().err
    assert "BrokenPipeError" not in printed and "ValueError: a real fault" in printed


def test_a_request_line_without_a_version_answers_400_json_with_a_status_line(gateway):
    assert "HTTP/0.9 is not supported" in refusal(gateway, b"GET /ping\r\n\r\n", 400)


def test_a_header_sent_twice_reaches_the_app_with_both_values_as_api_gateway_passes_them(gateway):
    connection = http.client.HTTPConnection("127.0.0.1", gateway, timeout=10)
    connection.putrequest("GET", "/headers")
    connection.putheader("Authorization", "Bearer first")
    connection.putheader("authorization", "Bearer second")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 200
    assert json.loads(response.read())["authorization"] == ["Bearer first", "Bearer second"]


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"http/1.1", b"HTTP/1.1.1", b"HTTP/x"])
def test_a_request_line_with_a_version_it_refuses_answers_400_json_with_a_status_line(gateway, version):
    answers = exchange(gateway, b"GET /ping " + version + b"\r\nHost: x\r\n\r\n")
    assert len(answers) == 1 and answers[0][0] == 400
    assert "version" in json.loads(answers[0][1])["error"]


def test_a_request_line_over_the_limit_gunicorn_shares_answers_414_json(gateway):
    from chalicelib.http.limits import MAX_REQUEST_LINE_BYTES

    def request_line(length: int) -> bytes:
        start, end = b"GET /ping?q=", b" HTTP/1.1"
        return start + b"a" * (length - len(start) - len(end)) + end + b"\r\nHost: x\r\n\r\n"

    assert [status for status, _ in exchange(gateway, request_line(MAX_REQUEST_LINE_BYTES))] == [200]
    assert str(MAX_REQUEST_LINE_BYTES) in refusal(gateway, request_line(MAX_REQUEST_LINE_BYTES + 1), 414)


def test_a_header_line_over_the_limit_gunicorn_shares_answers_431_json(gateway):
    from chalicelib.http.limits import MAX_HEADER_FIELD_BYTES

    def with_header(length: int) -> bytes:  # the line's length with its CRLF, as gunicorn counts it
        return b"GET /ping HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * (length - 7) + b"\r\n\r\n"

    assert [status for status, _ in exchange(gateway, with_header(MAX_HEADER_FIELD_BYTES))] == [200]
    assert str(MAX_HEADER_FIELD_BYTES) in refusal(gateway, with_header(MAX_HEADER_FIELD_BYTES + 1), 431)


def test_more_header_lines_than_the_limit_gunicorn_shares_answers_431_json(gateway):
    from chalicelib.http.limits import MAX_HEADER_FIELDS

    def with_headers(count: int) -> bytes:
        return b"GET /ping HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % index for index in range(count - 1)) \
            + b"\r\n"

    assert [status for status, _ in exchange(gateway, with_headers(MAX_HEADER_FIELDS))] == [200]
    assert [status for status, _ in exchange(gateway, with_headers(MAX_HEADER_FIELDS + 1))] == [431]


def test_a_head_over_the_total_limit_gunicorn_shares_answers_431_json_though_each_line_is_within_its_own(gateway):
    from chalicelib.http.limits import MAX_HEAD_BYTES

    assert [status for status, _ in exchange(gateway, head_of(MAX_HEAD_BYTES))] == [200]
    assert str(MAX_HEAD_BYTES) in refusal(gateway, head_of(MAX_HEAD_BYTES + 1), 431)


def test_a_connection_over_the_cap_answers_429_json_and_idle_ones_close_after_the_head_timeout(gateway, monkeypatch):
    import socket

    import devstack.gateway as gateway_module

    monkeypatch.setattr(gateway_module.GatewayServer, "max_connections", 3)
    monkeypatch.setattr(gateway_module, "HEAD_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(gateway_module.GatewayRequestHandler, "timeout", 30)  # the idle timeout
    started = time.monotonic()
    idle = [socket.create_connection(("127.0.0.1", gateway), timeout=10) for _ in range(3)]
    try:
        assert "Too many connections" in refusal(gateway, b"", 429, close_write=False)
        for connection in idle:  # closed by the server, without an answer: they sent nothing
            assert connection.recv(1) == b""
        assert time.monotonic() - started < 5  # the head timeout, not the idle one
    finally:
        for connection in idle:
            connection.close()
    assert exchange(gateway, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n") == [(200, b'{"status":"ok"}')]


def test_the_connection_cap_leaves_room_for_the_load_generator_at_its_defaults():
    from devstack.gateway import MAX_CONNECTIONS
    from tools.loadgen.profile import LoadProfile

    # A request in flight holds a connection; as many again is room for a browser and the SRE plane alongside
    assert MAX_CONNECTIONS >= 2 * LoadProfile.__dataclass_fields__["max_in_flight"].default


def test_a_path_starting_with_two_slashes_is_routed_as_sent_not_rewritten(gateway):
    assert exchange(gateway, b"GET //ping HTTP/1.1\r\nHost: x\r\n\r\n") == [(404, b'{"error":"Not found"}')]


@pytest.mark.parametrize("target", [b"//x/ping", b"//x/", b"//x"])
def test_a_path_starting_with_two_slashes_is_no_host_and_path(gateway, target):
    assert exchange(gateway, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n") == [(404, b'{"error":"Not found"}')]


@pytest.mark.parametrize("target", [b"/ping;x", b"/ping;", b"/;x", b"/ping;x?a=1", b"/items;x=1"])
def test_a_path_with_semicolon_parameters_is_an_unknown_route_as_sent(gateway, target):
    assert exchange(gateway, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n") == [(404, b'{"error":"Not found"}')]


def test_a_path_parameter_with_a_semicolon_reaches_the_route_whole(gateway):
    answers = exchange(gateway, b"DELETE /items/1;junk HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answers == [(200, b'{"item_id":"1;junk"}')]


@pytest.mark.parametrize("target, answer", [
    (b"/items/a%3Bb", b'{"item_id":"a%3Bb"}'),  # percent-encoded: routed and passed on as sent, as before
    (b"/items/1/", b'{"item_id":"1"}'),  # a trailing slash ignored, as API Gateway does
    (b"/ping?a=1;b=2", b'{"status":"ok"}'),
    (b"/?x", b'{"root":true}'),
    (b"http://x/ping", b'{"status":"ok"}'),  # the absolute form: its path
])
def test_percent_encoded_paths_queries_and_absolute_targets_route_as_before(gateway, target, answer):
    assert exchange(gateway, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n") == [(200, answer)]


@pytest.mark.parametrize("line", [
    b"get /ping HTTP/1.1",  # methods are case-sensitive
    b"GE /ping HTTP/1.1",  # gunicorn's 3-20 characters
    b"GET * HTTP/1.1",  # the asterisk form is OPTIONS' only
    b"GET ping HTTP/1.1",  # neither a path nor an absolute URL
    b"GET\t/ping HTTP/1.1",
    b"GET  /ping HTTP/1.1",
    b"GET /p\xffng HTTP/1.1",  # raw bytes outside printable ASCII: percent-encoded or nothing
    b"GET /ping?q=a b HTTP/1.1",
])
def test_a_request_line_gunicorn_refuses_answers_400_json(gateway, line):
    answers = exchange(gateway, line + b"\r\nHost: x\r\n\r\n")
    assert [status for status, _ in answers] == [400]
    assert json.loads(answers[0][1])["error"]


def test_a_request_line_ending_in_a_bare_lf_answers_400_json(gateway):
    assert "CRLF" in refusal(gateway, b"GET /ping HTTP/1.1\nHost: x\r\n\r\n", 400)


def test_one_empty_line_before_the_request_line_is_ignored_as_gunicorn_does(gateway):
    assert exchange(gateway, b"\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n") == [(200, b'{"status":"ok"}')]


def test_a_host_given_twice_answers_400_json(gateway):
    assert "Host" in refusal(gateway, b"GET /ping HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400)


def test_an_expectation_other_than_100_continue_answers_417_json(gateway):
    assert "200-ok" in refusal(gateway, POST_ECHO + b"Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", 417)


def test_a_chunked_body_in_http_1_0_answers_400_json(gateway):
    raw = POST_ECHO.replace(b"HTTP/1.1", b"HTTP/1.0") + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    assert "HTTP/1.1" in refusal(gateway, raw, 400)


@pytest.mark.parametrize("trailer", [b"Content-Length: 5", b"no colon"])
def test_a_trailer_that_frames_the_request_or_is_malformed_answers_400_json(gateway, trailer):
    assert "trailer" in refusal(gateway, POST_ECHO + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n" + trailer + b"\r\n\r\n", 400)


def test_headers_that_stop_arriving_answer_408_json_within_the_head_timeout(gateway):
    started = time.monotonic()
    assert "headers not received" in refusal(gateway, b"GET /ping HTTP/1.1\r\nHost: x\r\n", 408, close_write=False)
    assert time.monotonic() - started < 0.5  # the head's timeout (0.2 s), not the idle one (0.5 s)


@pytest.mark.parametrize("length", [b"4194305", b"12000000", b"999999999999999999"])
def test_a_content_length_over_the_body_limit_answers_413_json_before_it_is_read(gateway, length):
    answers = exchange(gateway, POST_ECHO + b"Content-Length: " + length + b"\r\n\r\n{}", close_write=False)
    assert [status for status, _ in answers] == [413]


def test_a_chunk_announcing_more_than_the_body_limit_answers_413_json_before_it_is_read(gateway):
    answers = exchange(gateway, POST_ECHO + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}\r\n0\r\n\r\n",
                       close_write=False)  # a server waiting for the chunk would answer 408 after the idle timeout
    assert [status for status, _ in answers] == [413]
