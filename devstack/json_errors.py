"""JSON error answers for the local stack's ``http.server`` handlers (the gateway, the control API).

``BaseHTTPRequestHandler`` answers what it refuses itself (a malformed request line, a line or
header section too large, a method it has no ``do_<METHOD>`` for, 501) with an HTML page, and a
request line without a version (HTTP/0.9) with a bare body and no status line at all.
"""
from __future__ import annotations

import http.server
from http import HTTPStatus
from typing import Any, Optional

from chalicelib.http.routing import method_not_supported
from chalicelib.http.strict import dumps
from chalicelib.observability.middleware import server_answer_headers


class RequestRejected(Exception):
    """A request refused before it reaches what serves it: the status and what is wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class JsonErrorPages(http.server.BaseHTTPRequestHandler):
    """Every error answer as ``{"error": "..."}`` with a status line; a method without a handler 405."""

    # The version of an answer given before the request line's version is read: HTTP/0.9 has no status line.
    default_request_version = "HTTP/1.0"

    def encode_json(self, body: Any) -> bytes:
        return dumps(body).encode()

    def send_json(self, status: int, body: Any, headers: Optional[dict[str, str]] = None) -> None:
        raw = self.encode_json(body)
        self.send_response(status)
        for name, value in {**server_answer_headers(), **(headers or {}), "Content-Type": "application/json",
                            "Content-Length": str(len(raw))}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        if code == HTTPStatus.NOT_IMPLEMENTED:  # a method http.server has no do_<METHOD> for
            self.refuse_method()
            return
        try:
            default = HTTPStatus(code).phrase
        except ValueError:
            default = "Request rejected"
        self.close_connection = True
        self.send_json(code, {"error": message or default}, {"Connection": "close"})

    def refuse_method(self) -> None:
        """405 with ``Allow``."""
        message, allow = self.method_not_supported()
        self.close_connection = True
        self.send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": message}, {"Connection": "close", "Allow": allow})

    def method_not_supported(self) -> tuple[str, str]:
        """The 405's message and ``Allow`` for the request's method; a server whose paths take
        different methods names the path's."""
        return method_not_supported(self.command)

    def parse_request(self) -> bool:
        """http.server's, refusing a request line without a version, which it would serve as HTTP/0.9."""
        if len(self.raw_requestline.split()) != 2:
            return super().parse_request()
        self.command, self.request_version, self.close_connection = None, self.default_request_version, True
        self.requestline = self.raw_requestline.decode("latin-1").rstrip("\r\n")
        self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not supported: send 'METHOD /path HTTP/1.1'")
        return False
