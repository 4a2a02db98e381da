"""Chalice's local server, answering unknown routes as the deployed gateway does."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any, Optional, Union

from chalice.config import Config
from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, ForbiddenError, LocalChalice, LocalDevServer,
                           LocalGatewayException, ThreadedHTTPServer)

from chalicelib import wiring
from chalicelib.http.strict import dumps, parse_bounded_int
from chalicelib.observability.middleware import SECURITY_HEADERS

ALLOWED_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


class BodyRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class GatewayRequestHandler(ChaliceRequestHandler):
    """Answers as the deployed gateway does, in JSON: unknown routes (MISSING_AUTHENTICATION_TOKEN,
    mapped to 404 JSON in terraform/), and everything ``http.server`` itself refuses before the
    app sees it (414 request line too long, 431 headers too large, unsupported methods), which it
    would otherwise answer with an HTML page."""

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

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if not isinstance(error, ForbiddenError):
            super()._send_error_response(error)
            return
        self._send_json(404, {"error": "Not found"})

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        headers = {"Connection": "close"}
        if code == HTTPStatus.NOT_IMPLEMENTED:  # a method http.server has no do_<METHOD> for
            code, message = HTTPStatus.METHOD_NOT_ALLOWED, f"Method {self.command} is not supported"
            headers["Allow"] = ", ".join(sorted(ALLOWED_METHODS))
        try:
            default = HTTPStatus(code).phrase
        except ValueError:
            default = "Request rejected"
        self.close_connection = True
        self._send_json(code, {"error": message or default}, headers)

    def _parse_payload(self) -> tuple[dict[str, str], Optional[bytes]]:
        raw_length = self.headers.get("content-length", "0")
        limit = wiring.current().settings.service.max_body_bytes
        # Chalice's int() accepts " 1_0" and "-1" (read to EOF, hanging the connection); and the
        # deployed gateway caps bodies, so a huge length is refused before reading it.
        length = parse_bounded_int(raw_length.strip(), 0, 10 * 1024 * 1024)
        if length is None:
            raise BodyRejected(400, "Content-Length must be a whole number of bytes")
        if length > 64 * limit:
            raise BodyRejected(413, f"Request body is {length} bytes; the limit is {limit} bytes")
        body = self.rfile.read(length) if length else None
        return dict(self.headers), body

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
        super()._send_http_response_with_body(code, headers, body)

    def log_message(self, format: str, *args: Any) -> None:  # the app logs every request as JSON already
        return


class GatewayServer(ThreadedHTTPServer):
    # The default backlog of 5 resets connections under a burst of simultaneous clients.
    request_queue_size = 128


def create_gateway(app: Any, host: str, port: int) -> LocalDevServer:
    """As ``chalice.local.create_local_server`` (thread-local current_request), with our handler."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="local", app_name=app.app_name, lambda_timeout=30)
    return LocalDevServer(app, config, host, port, handler_cls=GatewayRequestHandler,
                          server_cls=GatewayServer)
