"""Chalice's local server, answering unknown routes as the deployed gateway does."""
from __future__ import annotations

import email.errors
import http.server
import re
import sys
from http import HTTPStatus
from typing import Any, Optional, Union

from chalice.config import Config
from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, ForbiddenError, LocalChalice, LocalDevServer,
                           LocalGateway, LocalGatewayException, ThreadedHTTPServer)

from chalicelib import wiring
from chalicelib.http.strict import dumps, parse_bounded_int
from chalicelib.observability.middleware import SECURITY_HEADERS

ALLOWED_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# As a load balancer's idle timeout (ALB's default): a kept-alive connection idle this long is
# closed, and a body that stops arriving this long answers 408 instead of holding a thread forever.
IDLE_TIMEOUT_SECONDS = 60
CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")
MAX_TRAILER_LINES = 100
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 5.1: a token
FORBIDDEN_IN_HEADER_VALUE = re.compile(r"[\r\n\x00]")
# What the header parser notes for a line that is no "Name: value" (it ends the headers there, so
# what follows would be read as body); its other defects are about multipart bodies it never sees.
MALFORMED_HEADER_LINES = (email.errors.MissingHeaderBodySeparatorDefect, email.errors.FirstHeaderLineIsContinuationDefect,
                          email.errors.InvalidHeaderDefect)


class BodyRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class RequestHeaders(dict):
    """Each header's first value (what Chalice's local server passes on), and every value of each
    header as ``multi_value`` (lower-cased names), which the event carries as API Gateway's does."""

    def __init__(self, first: dict[str, str], multi_value: dict[str, list[str]]) -> None:
        super().__init__(first)
        self.multi_value = multi_value


class MultiValueGateway(LocalGateway):
    """Chalice's local gateway, with the event's ``multiValueHeaders`` (API Gateway's REST proxy event
    has them): with a header sent twice the app can see both values, not only one of them."""

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: Optional[bytes]) -> Any:
        event = super()._generate_lambda_event(method, path, headers, body)
        event["multiValueHeaders"] = getattr(headers, "multi_value", None) or {
            name.lower(): [value] for name, value in headers.items()}
        return event


class GatewayRequestHandler(ChaliceRequestHandler):
    """Answers as the deployed gateway does, in JSON: unknown routes (MISSING_AUTHENTICATION_TOKEN,
    mapped to 404 JSON in terraform/), and everything ``http.server`` itself refuses before the
    app sees it (414 request line too long, 431 headers too large, unsupported methods), which it
    would otherwise answer with an HTML page."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = MultiValueGateway(app_object, config)
        http.server.BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _send_json(self, status: int, body: dict[str, Any], headers: Optional[dict[str, str]] = None) -> None:
        raw = dumps(body).encode()
        self.send_response(status)
        for name, value in {**SECURITY_HEADERS, **(headers or {}), "Content-Type": "application/json",
                            "Content-Length": str(len(raw))}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    # Headers and body are separate writes: with Nagle's algorithm on, a keep-alive client's
    # delayed ACK holds the body back ~40 ms on every response.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if not isinstance(error, ForbiddenError):
            super()._send_error_response(error)
            return
        self._send_json(404, {"error": "Not found"})

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # "GET /path" alone: http.server would answer a bare body
            self.request_version = "HTTP/1.0"  # so the refusal has a status line and headers
            self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not supported: send 'GET /path HTTP/1.1'")
            return False
        return True

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        headers = {"Connection": "close"}
        if code == HTTPStatus.NOT_IMPLEMENTED:  # a method http.server has no do_<METHOD> for
            code, message = HTTPStatus.METHOD_NOT_ALLOWED, f"Method {self.command} is not supported"
            headers["Allow"] = ", ".join(sorted(ALLOWED_METHODS))
        if code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:  # the client's mistake: a 4xx, as gunicorn answers
            code, message = HTTPStatus.BAD_REQUEST, f"{message}: send HTTP/1.1"
        try:
            default = HTTPStatus(code).phrase
        except ValueError:
            default = "Request rejected"
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # never parsed (a version http.server refuses): http.server
            self.request_version = "HTTP/1.0"  # would send the body alone, with no status line or headers
        self._send_json(code, {"error": message or default}, headers)

    def _parse_payload(self) -> tuple[dict[str, str], Optional[bytes]]:
        if any(isinstance(defect, MALFORMED_HEADER_LINES) for defect in self.headers.defects):
            raise BodyRejected(400, "Malformed header section: every header line must be 'Name: value'")
        # As gunicorn (and API Gateway) refuse them: the header parser takes a line folded onto the one
        # before it, a bare CR or LF and a NUL into the value, and a bare-LF line as a header of its own.
        if any(not HEADER_NAME.fullmatch(name) or FORBIDDEN_IN_HEADER_VALUE.search(value)
               for name, value in self.headers.items()):
            raise BodyRejected(400, "Malformed header section: a header name is a token and a value holds no "
                                    "CR, LF or NUL (no folded lines)")
        limit = wiring.current().settings.service.max_body_bytes
        try:
            body = self._read_body(limit)
        except TimeoutError:
            raise BodyRejected(408, f"Request body not received within {IDLE_TIMEOUT_SECONDS} s") from None
        multi_value: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            multi_value.setdefault(name.lower(), []).append(value)
        return RequestHeaders(dict(self.headers), multi_value), body

    def _read_body(self, limit: int) -> Optional[bytes]:
        codings = self.headers.get_all("transfer-encoding", [])
        lengths = {value.strip() for value in self.headers.get_all("content-length", [])}
        if codings:
            coding = ",".join(codings).strip().lower()
            if coding != "chunked":
                raise BodyRejected(400, f"Transfer-Encoding {coding!r} is not supported; send the body chunked "
                                        "or with a Content-Length")
            if lengths:  # RFC 9112 6.3: the length is ignored, and a server closes after such a message
                self.close_connection = True
            return self._read_chunked(64 * limit, limit) or None
        if len(lengths) > 1:
            raise BodyRejected(400, "Content-Length is given more than once with different values")
        # Chalice's int() accepts " 1_0" and "-1" (read to EOF, hanging the connection); and the
        # deployed gateway caps bodies, so a huge length is refused before reading it.
        length = parse_bounded_int(lengths.pop() if lengths else "0", 0, 10 * 1024 * 1024)
        if length is None:
            raise BodyRejected(400, "Content-Length must be a whole number of bytes")
        if length > 64 * limit:
            raise BodyRejected(413, f"Request body is {length} bytes; the limit is {limit} bytes")
        return self.rfile.read(length) if length else None

    def _read_chunked(self, cap: int, limit: int) -> bytes:
        """A chunked body (RFC 9112 7.1), which API Gateway and gunicorn take and http.server does not
        read at all: it would take the body for the next request on the connection."""
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024)
            size_digits = size_line.split(b";", 1)[0].strip()  # a chunk extension (";name=value") is ignored
            if not size_line.endswith(b"\n") or not CHUNK_SIZE.fullmatch(size_digits):
                raise BodyRejected(400, "Chunked body is malformed: each chunk starts with its size in hexadecimal")
            size = int(size_digits, 16)
            if size == 0:
                break
            if len(body) + size > cap:
                raise BodyRejected(413, f"Request body is over {cap} bytes; the limit is {limit} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BodyRejected(400, "Chunked body is malformed: a chunk is not the size it announced")
            body += chunk
        for _ in range(MAX_TRAILER_LINES):
            if self.rfile.readline(65537) in (b"\r\n", b"\n", b""):
                return bytes(body)
        raise BodyRejected(431, f"More than {MAX_TRAILER_LINES} trailer lines after the chunked body")

    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except BodyRejected as rejected:
            self.close_connection = True
            self._send_json(rejected.status, {"error": rejected.message}, {"Connection": "close"})

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
