"""gunicorn's threaded worker, answering what gunicorn itself refuses in JSON, as the gateway does.

gunicorn writes its own error answers (414 request line too long, 431 headers too large, 400 for
a malformed request) as HTML pages through ``gunicorn.util.write_error`` and offers no setting to
change their format; the API's contract is a JSON ``{"error": ...}`` for every 4xx. So this
worker replaces that one function in its own process, keeping gunicorn's status codes.
"""
from __future__ import annotations

from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from chalicelib.http.strict import dumps
from chalicelib.observability.middleware import SECURITY_HEADERS


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    message = reason if not mesg or status_int >= 500 else f"{reason}: {mesg}"
    body = dumps({"error": message}).encode()
    headers = {**SECURITY_HEADERS, "Connection": "close", "Content-Type": "application/json",
               "Content-Length": str(len(body))}
    head = f"HTTP/1.1 {status_int} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JsonErrorThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        util.write_error = write_json_error
        super().init_process()
