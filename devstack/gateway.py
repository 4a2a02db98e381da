"""Chalice's local server, answering unknown routes as the deployed gateway does."""
from __future__ import annotations

import email.errors
import email.parser
import http.server
import re
import sys
import threading
import time
from http import HTTPStatus
from typing import Any, Optional, Union

from chalice.config import Config
from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, ForbiddenError, LocalChalice, LocalDevServer,
                           LocalGatewayException, ThreadedHTTPServer)

from chalicelib import wiring
from chalicelib.http import limits
from chalicelib.http.strict import parse_bounded_int
from container.routing import AsSentGateway
from devstack.json_errors import JsonErrorPages, RequestRejected

# As a load balancer's idle timeout (ALB's default): a kept-alive connection idle this long is
# closed, and a request that stops arriving this long answers 408 instead of holding a thread forever.
IDLE_TIMEOUT_SECONDS = limits.READ_TIMEOUT_SECONDS
# For the headers after the request line, and for a new connection's first byte: the gateway gives
# each connection a thread, which one that connects and sends nothing would hold for the idle timeout.
HEAD_TIMEOUT_SECONDS = limits.HEAD_TIMEOUT_SECONDS
BODY_TIMEOUT_SECONDS = limits.BODY_TIMEOUT_SECONDS
# Connections served at once, each on a thread of its own (3000 idle connections held 3000 threads);
# one more is answered 429 JSON at once, API Gateway's throttling status (a 4xx: it spends no error
# budget), and closed. 512 is twice what `make load` opens at most by default (its --max-in-flight
# of 256; the benchmark's 8 clients, the e2e tests' 100 idle ones) and stays under the 1024 open
# files a process is commonly allowed.
MAX_CONNECTIONS = 512
# A chunk's size line (RFC 9112 7.1.1) as gunicorn takes it: hexadecimal digits, then chunk extensions
# (";name=value", a token or a quoted string, ignored).
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED_STRING = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|"
                             + _QUOTED_STRING + rb"))?)*\r\n")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 5.1: a token
# RFC 9110 5.5: a value is visible characters, spaces, tabs and obs-text; gunicorn refuses the other
# controls (CR, LF, NUL, an ANSI escape, DEL...) and so does this.
FORBIDDEN_IN_HEADER_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The request line as gunicorn takes it (the ECS variant): "METHOD SP target SP HTTP/1.x", a method
# an upper-case token of 3-20 characters, a target of printable ASCII (RFC 9112 3.2: the rest is
# percent-encoded).
REQUEST_METHOD = re.compile(r"[A-Z0-9!$%&'*+.^_`|~-]{3,20}")
REQUEST_VERSION = re.compile(r"HTTP/1\.[0-9]")
NOT_IN_REQUEST_TARGET = re.compile(r"[^\x21-\x7e]")
# RFC 9110 6.5.1: fields a trailer may not carry (they frame, route or authenticate the request).
FORBIDDEN_TRAILERS = frozenset(("host", "content-length", "transfer-encoding", "trailer", "authorization", "te"))
# What the header parser notes for a line that is no "Name: value" (it ends the headers there, so
# what follows would be read as body); its other defects are about multipart bodies it never sees.
MALFORMED_HEADER_LINES = (email.errors.MissingHeaderBodySeparatorDefect, email.errors.FirstHeaderLineIsContinuationDefect,
                          email.errors.InvalidHeaderDefect)


class RequestHeaders(dict):
    """Each header's first value (what Chalice's local server passes on), and every value of each
    header as ``multi_value`` (lower-cased names), which the event carries as API Gateway's does."""

    def __init__(self, first: dict[str, str], multi_value: dict[str, list[str]]) -> None:
        super().__init__(first)
        self.multi_value = multi_value


class MultiValueGateway(AsSentGateway):
    """Chalice's local gateway routing the path as sent, with the event's ``multiValueHeaders`` (API
    Gateway's REST proxy event has them): with a header sent twice the app can see both values, not
    only one of them."""

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: Optional[bytes]) -> Any:
        event = super()._generate_lambda_event(method, path, headers, body)
        event["multiValueHeaders"] = getattr(headers, "multi_value", None) or {
            name.lower(): [value] for name, value in headers.items()}
        return event


class GatewayRequestHandler(JsonErrorPages, ChaliceRequestHandler):
    """Answers as the deployed gateway does, in JSON: unknown routes (MISSING_AUTHENTICATION_TOKEN,
    mapped to 404 JSON in terraform/), and everything ``http.server`` itself refuses before the
    app sees it (414 request line too long, 431 headers too large, unsupported methods), which it
    would otherwise answer with an HTML page (``JsonErrorPages``)."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = MultiValueGateway(app_object, config)
        http.server.BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    # Headers and body are separate writes: with Nagle's algorithm on, a keep-alive client's
    # delayed ACK holds the body back ~40 ms on every response.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if not isinstance(error, ForbiddenError):
            super()._send_error_response(error)
            return
        self.send_json(404, {"error": "Not found"})

    def handle(self) -> None:
        """http.server's, but a new connection that sends no byte within the head timeout is closed."""
        self.connection.settimeout(HEAD_TIMEOUT_SECONDS)
        try:
            if not self.rfile.peek(1):  # the client closed the connection without a request
                return
        except TimeoutError:
            return
        self.connection.settimeout(self.timeout)
        super().handle()

    def handle_one_request(self) -> None:
        """http.server's, reading the request line within the shared limit (http.server takes 64 KiB)."""
        self.command, self.request_version = "", "HTTP/1.0"  # a refusal before parsing still has a status line
        self.raw_requestline, self.requestline = b"", ""
        try:
            line = self.rfile.readline(limits.MAX_REQUEST_LINE_BYTES + 3)
            if line == b"\r\n":  # RFC 9112 2.2: one empty line before the request line is ignored, as gunicorn does
                line = self.rfile.readline(limits.MAX_REQUEST_LINE_BYTES + 3)
            self.raw_requestline = line
            if len(line.rstrip(b"\r\n")) > limits.MAX_REQUEST_LINE_BYTES:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG,
                                f"Request line is over {limits.MAX_REQUEST_LINE_BYTES} bytes")
                return
            if not line.endswith(b"\n"):  # the client closed the connection (within a request line)
                self.close_connection = True
                return
            if not self.parse_request():
                return
            handler = getattr(self, f"do_{self.command}", None)
            if handler is None:
                self.send_error(HTTPStatus.NOT_IMPLEMENTED)
                return
            handler()
            self.wfile.flush()
        except TimeoutError:  # an idle kept-alive connection, or an answer the client does not read
            self.close_connection = True

    def parse_request(self) -> bool:
        """The request line and headers, as strictly as gunicorn (the ECS variant) reads them and within
        the same limits (chalicelib/http/limits.py). Written out because http.server's parser takes what
        gunicorn refuses (a lower-case method, raw non-ASCII bytes, tabs or two spaces between words,
        a bare LF, ``GET *``), rewrites ``//path`` to ``/path`` and has its limits as module constants."""
        self.close_connection = True
        line = self.raw_requestline
        self.requestline = line.decode("latin-1").rstrip("\r\n")
        try:
            self._parse_request_line(line)
            try:
                head = self._read_head(deadline=time.monotonic() + HEAD_TIMEOUT_SECONDS,
                                       room=limits.MAX_HEAD_BYTES - len(line))
            except TimeoutError:
                raise RequestRejected(408, f"Request headers not received within {HEAD_TIMEOUT_SECONDS:g} s") from None
            finally:
                self.connection.settimeout(self.timeout)
            self.headers = email.parser.Parser(_class=self.MessageClass).parsestr(head.decode("latin-1"))
            self._check_headers()
        except RequestRejected as rejected:
            self.send_error(rejected.status, rejected.message)
            return False
        except ConnectionError:  # the client hung up within the head: nobody to answer
            return False
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if (self.headers.get("Expect", "").lower() == "100-continue" and self.request_version == "HTTP/1.1"
                and not self.handle_expect_100()):
            return False
        return True

    def _parse_request_line(self, line: bytes) -> None:
        if not line.endswith(b"\r\n"):
            raise RequestRejected(400, "Malformed request line: lines end with CRLF")
        words = self.requestline.split(" ")
        if len(words) == 2 and REQUEST_METHOD.fullmatch(words[0]) and not NOT_IN_REQUEST_TARGET.search(words[1]):
            raise RequestRejected(400, "HTTP/0.9 is not supported: send 'GET /path HTTP/1.1'")
        if len(words) != 3:
            raise RequestRejected(400, "Malformed request line: send 'METHOD /path HTTP/1.1', one space apart")
        method, target, version = words
        if not REQUEST_VERSION.fullmatch(version):
            raise RequestRejected(400, f"HTTP version {version!r} is not supported: send HTTP/1.1")
        self.request_version = "HTTP/1.1" if version != "HTTP/1.0" else version
        self.close_connection = self.request_version == "HTTP/1.0"
        if not REQUEST_METHOD.fullmatch(method):
            raise RequestRejected(400, f"Invalid method {method!r}: methods are upper case, as GET")
        self.command = method
        if not target or NOT_IN_REQUEST_TARGET.search(target):
            raise RequestRejected(400, "Malformed request target: percent-encode what is not printable ASCII")
        if target == "*" and method != "OPTIONS":
            raise RequestRejected(400, f"Malformed request target: '*' is for OPTIONS only, not {method}")
        if target != "*" and not target.startswith("/") and "://" not in target and method != "CONNECT":
            raise RequestRejected(400, "Malformed request target: send a path starting with '/'")
        self.path = target

    def _read_head(self, *, deadline: float, trailers: bool = False, room: Optional[int] = None) -> bytes:
        """The header (or trailer) lines up to the empty line, each within the shared limits, all of
        them by ``deadline`` (a monotonic time) and within ``room`` bytes with the empty line, when given."""
        lines = []
        size = 0
        section = "trailer" if trailers else "header"
        while True:
            line = self._readline_by(deadline, limits.MAX_HEADER_FIELD_BYTES + 1)
            size += len(line)
            if room is not None and size > room:
                raise RequestRejected(431, limits.HEAD_TOO_LARGE)
            if line == b"\r\n":
                return b"".join(lines)
            if not line:
                raise ConnectionResetError("the client closed the connection within the request head")
            if len(line) > limits.MAX_HEADER_FIELD_BYTES:
                raise RequestRejected(431, f"A {section} line is over {limits.MAX_HEADER_FIELD_BYTES} bytes")
            if len(lines) == limits.MAX_HEADER_FIELDS:
                raise RequestRejected(431, f"More than {limits.MAX_HEADER_FIELDS} {section} lines")
            if not line.endswith(b"\r\n"):
                raise RequestRejected(400, f"Malformed {section} section: lines end with CRLF")
            lines.append(line)

    def _check_headers(self) -> None:
        if any(isinstance(defect, MALFORMED_HEADER_LINES) for defect in self.headers.defects):
            raise RequestRejected(400, "Malformed header section: every header line must be 'Name: value'")
        # As gunicorn (and API Gateway) refuse them: the header parser takes a line folded onto the one
        # before it, a bare CR, a NUL and other controls into the value.
        if any(not HEADER_NAME.fullmatch(name) or FORBIDDEN_IN_HEADER_VALUE.search(value)
               for name, value in self.headers.items()):
            raise RequestRejected(400, "Malformed header section: a header name is a token and a value holds no "
                                       "control character but tab (no CR, LF or NUL, no folded lines)")
        hosts = self.headers.get_all("host", [])
        if len(hosts) > 1:  # RFC 9112 3.2: which host was meant is unknown
            raise RequestRejected(400, "Host is given more than once; send one Host")
        if not hosts and self.request_version == "HTTP/1.1":
            raise RequestRejected(400, limits.HOST_MISSING)
        expect = self.headers.get_all("expect", [])
        if any(value.strip().lower() != "100-continue" for value in expect):
            raise RequestRejected(417, f"Expectation {', '.join(expect)!r} is not supported: only "
                                         "'100-continue' is")

    def _parse_payload(self) -> tuple[dict[str, str], Optional[bytes]]:
        limit = wiring.current().settings.service.max_body_bytes
        try:
            body = self._read_body(limit, deadline=time.monotonic() + BODY_TIMEOUT_SECONDS)
        except TimeoutError:
            raise RequestRejected(408, f"Request body not received within {BODY_TIMEOUT_SECONDS:g} s "
                                       "of its headers") from None
        finally:
            self.connection.settimeout(self.timeout)
        multi_value: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            multi_value.setdefault(name.lower(), []).append(value)
        return RequestHeaders(dict(self.headers), multi_value), body

    def _read_body(self, limit: int, *, deadline: float) -> Optional[bytes]:
        """The body framed as gunicorn frames it (the ECS variant), all of it by ``deadline``, refusing
        what it refuses: either
        framing given twice, both at once (RFC 9112 6.1: a request a proxy may have framed otherwise),
        a chunked body in HTTP/1.0."""
        codings = self.headers.get_all("transfer-encoding", [])
        lengths = self.headers.get_all("content-length", [])
        if len(lengths) > 1:
            raise RequestRejected(400, "Content-Length is given more than once; send one")
        if codings:
            unsupported = limits.unsupported_transfer_coding(codings)
            if unsupported:
                raise RequestRejected(400, unsupported)
            if lengths:
                raise RequestRejected(400, "Content-Length and Transfer-Encoding are both given; send one")
            if self.request_version == "HTTP/1.0":
                raise RequestRejected(400, "A chunked body needs HTTP/1.1")
            return self._read_chunked(64 * limit, limit, deadline) or None
        # Chalice's int() accepts " 1_0" and "-1" (read to EOF, hanging the connection); and the
        # deployed gateway caps bodies, so a huge length is refused before reading it.
        length = parse_bounded_int(lengths[0].strip() if lengths else "0", 0, 10 ** 18)
        if length is None:
            raise RequestRejected(400, "Content-Length must be a whole number of bytes")
        if length > 64 * limit:
            raise RequestRejected(413, f"Request body is {length} bytes; the limit is {limit} bytes")
        if not length:
            return None
        body = self._read_by(deadline, length)
        if len(body) < length:  # the client closed its side: what arrived is not the request it framed
            raise RequestRejected(400, f"Request body ended after {len(body)} of the {length} bytes "
                                       "its Content-Length announced")
        return body

    def _wait_at_most_until(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request not received in time")
        self.connection.settimeout(remaining)

    # Each read below waits at most until ``deadline`` (a monotonic time) and takes what one receive
    # brings, as the ECS variant's worker reads: the socket's timeout bounds one receive, so a request
    # trickling a byte at a time through rfile.read or readline was read however long it took.
    def _read_by(self, deadline: float, size: int) -> bytes:
        """Up to ``size`` bytes: fewer only when the client closed its side."""
        received = bytearray()
        while len(received) < size:
            self._wait_at_most_until(deadline)
            chunk = self.rfile.read1(size - len(received))
            if not chunk:
                break
            received += chunk
        return bytes(received)

    def _readline_by(self, deadline: float, limit: int) -> bytes:
        """A line with its LF, or ``limit`` bytes of one, or what came before the client closed its side."""
        line = bytearray()
        while len(line) < limit:
            self._wait_at_most_until(deadline)
            buffered = self.rfile.peek(1)[:limit - len(line)]
            if not buffered:
                break
            end = buffered.find(b"\n")
            line += self.rfile.read(end + 1 if end >= 0 else len(buffered))  # buffered already: no wait
            if end >= 0:
                break
        return bytes(line)

    def _read_chunked(self, cap: int, limit: int, deadline: float) -> bytes:
        """A chunked body (RFC 9112 7.1), which API Gateway and gunicorn take and http.server does not
        read at all: it would take the body for the next request on the connection."""
        body = bytearray()
        while True:
            size_line = CHUNK_SIZE_LINE.fullmatch(self._readline_by(deadline, limits.MAX_HEADER_FIELD_BYTES + 1))
            if not size_line:
                raise RequestRejected(400, "Chunked body is malformed: each chunk starts with its size in "
                                           "hexadecimal and CRLF (and extensions as ';name=value')")
            size = int(size_line.group(1), 16)
            if size == 0:
                break
            if len(body) + size > cap:
                raise RequestRejected(413, f"Request body is over {cap} bytes; the limit is {limit} bytes")
            chunk = self._read_by(deadline, size)
            if len(chunk) < size or self._readline_by(deadline, 3) != b"\r\n":
                raise RequestRejected(400, "Chunked body is malformed: a chunk is not the size it announced")
            body += chunk
        try:
            trailers = email.parser.Parser(_class=self.MessageClass).parsestr(
                self._read_head(trailers=True, deadline=deadline).decode("latin-1"))
        except ConnectionError:
            raise RequestRejected(400, "Chunked body is malformed: it ends before the empty line after its "
                                       "last chunk") from None
        if (any(isinstance(defect, MALFORMED_HEADER_LINES) for defect in trailers.defects)
                or any(not HEADER_NAME.fullmatch(name) or name.lower() in FORBIDDEN_TRAILERS
                       for name in trailers.keys())):
            raise RequestRejected(400, "Malformed trailer section: each line is 'Name: value' and names no "
                                       "Host, Content-Length, Transfer-Encoding, Trailer, Authorization or TE")
        return bytes(body)

    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except RequestRejected as rejected:
            self.close_connection = True
            self.send_json(rejected.status, {"error": rejected.message}, {"Connection": "close"})

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _send_http_response_with_body(self, code: int, headers: dict[str, Any], body: Union[str, bytes]) -> None:
        if code in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            # No body, so no Content-Length or default JSON Content-Type (RFC 9110 8.6, 15.3.5).
            headers = {name: value for name, value in headers.items() if name.lower() != "content-type"}
            self.send_response(code)
            self._send_headers(headers)
            return
        if self.command == "HEAD":  # the headers a GET would have, never the body (RFC 9110 9.3.2)
            raw = body if isinstance(body, bytes) else body.encode("utf-8")
            self.send_response(code)
            self._send_headers({"Content-Length": str(len(raw)), "Content-Type": "application/json", **headers})
            return
        super()._send_http_response_with_body(code, headers, body)

    def log_message(self, format: str, *args: Any) -> None:  # the app logs every request as JSON already
        return


class GatewayServer(ThreadedHTTPServer):
    # The default backlog of 5 resets connections under a burst of simultaneous clients.
    request_queue_size = 128
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections = 0
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the connection or, beyond max_connections at once, a 429 and the connection closed."""
        with self._connections_lock:
            admitted = self._connections < self.max_connections
            if admitted:
                self._connections += 1
        if not admitted:
            self._refuse_over_capacity(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connection_ended()
            raise

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            super().finish_request(request, client_address)
        finally:  # before the socket closes, so a client that sees it closed finds its slot free
            self._connection_ended()

    def _connection_ended(self) -> None:
        with self._connections_lock:
            self._connections -= 1

    def _refuse_over_capacity(self, request: Any) -> None:
        answer = limits.refusal(429, "Too Many Requests", f"Too many connections: the server serves "
                                                          f"{self.max_connections} at once; retry shortly")
        try:
            request.setblocking(False)  # a fresh socket's send buffer is empty: this never waits, nor the accept loop
            request.send(answer)
        except OSError:  # the client went away already
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before reading its answer is no server error: socketserver would print
        a BrokenPipeError traceback on the console, which shows only errors and state changes."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def create_gateway(app: Any, host: str, port: int) -> LocalDevServer:
    """As ``chalice.local.create_local_server`` (thread-local current_request), with our handler."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="local", app_name=app.app_name, lambda_timeout=30)
    return LocalDevServer(app, config, host, port, handler_cls=GatewayRequestHandler,
                          server_cls=GatewayServer)


def serve_gateway(app: Any, host: str, port: int, name: str) -> LocalDevServer:
    """``create_gateway``, serving on a daemon thread called ``name``; ``stop_gateway`` ends it."""
    gateway = create_gateway(app, host, port)
    threading.Thread(target=gateway.server.serve_forever, name=name, daemon=True).start()
    return gateway


def stop_gateway(gateway: Optional[LocalDevServer]) -> bool:
    """Stop serving and close the socket; False when there was nothing to stop."""
    server = getattr(gateway, "server", None)
    if server is None:
        return False
    server.shutdown()
    server.server_close()
    return True
