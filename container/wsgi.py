"""The Chalice app as a WSGI application, for gunicorn.

Chalice ships no WSGI adapter, and the maintained adapters go the other way
(WSGI/ASGI apps into Lambda: apig-wsgi, mangum). So this takes Chalice's own
API Gateway emulation, ``chalice.local.LocalGateway`` (route matching, the
proxy event, CORS preflight; routes matched on the path as sent,
``container/routing.py``), and maps WSGI to it: the app runs with the
same middleware, breakers and EMF records as in Lambda, from the same event.
What API Gateway answers without the Lambda is answered as the deployed
stack's gateway responses do (terraform/modules/rest_api): unknown routes 404
JSON, bodies over the 10 MB payload limit 413 JSON.
"""
from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any, Callable, Iterable, Optional
from urllib.parse import quote

from chalice.config import Config
from chalice.local import ForbiddenError, LocalChalice

from chalicelib.http import limits
from chalicelib.http.routing import STANDARD_METHODS, method_not_supported
from chalicelib.http.strict import dumps, parse_bounded_int
from chalicelib.observability.middleware import server_answer_headers
from container.routing import AsSentGateway

# API Gateway's payload limit: larger requests never reach the Lambda.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _json_error(start_response: StartResponse, code: int, message: str,
                extra_headers: Iterable[tuple[str, str]] = ()) -> Iterable[bytes]:
    body = dumps({"error": message}).encode()
    start_response(_status_line(code), [*server_answer_headers().items(), *extra_headers,
                                        ("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
               if key.startswith("HTTP_")}
    if "CONTENT_TYPE" in environ:  # gunicorn sets it when sent: an empty one is a 415, as through API Gateway
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    return headers


def _raw_path(environ: dict[str, Any]) -> str:
    """The path and query as the client sent them (percent-encoded), as API Gateway matches them."""
    raw = environ.get("RAW_URI")  # gunicorn's; other servers give the decoded PATH_INFO only
    if raw and raw.startswith("/"):
        return raw
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/;=,!$&'()*+:@~")
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


class BodyCutShort(Exception):
    """The body ended (its client closed its side) before the bytes its Content-Length announced:
    gunicorn hands on what did arrive, which is not the request the client framed (``{}`` followed
    by announced spaces never sent would otherwise be served as a whole request)."""

    def __init__(self, received: int, announced: int) -> None:
        super().__init__(f"Request body ended after {received} of the {announced} bytes its Content-Length announced")


def _read_body(environ: dict[str, Any]) -> Optional[bytes]:
    """The request body, or None without one; raises OverflowError past MAX_REQUEST_BYTES,
    ValueError for a Content-Length that is not a byte count and BodyCutShort."""
    raw_length = (environ.get("CONTENT_LENGTH") or "").strip()
    length = None
    if raw_length:
        length = parse_bounded_int(raw_length, 0, 10 ** 18)
        if length is None:
            raise ValueError(raw_length)
        if length > MAX_REQUEST_BYTES:
            raise OverflowError(length)
    body = environ["wsgi.input"].read(MAX_REQUEST_BYTES + 1)
    if len(body) > MAX_REQUEST_BYTES:
        raise OverflowError(len(body))
    if length is not None and len(body) < length:
        raise BodyCutShort(len(body), length)
    return body or None


# No body, so no Content-Type or Content-Length (RFC 9110 8.6, 15.3.5).
BODYLESS_STATUSES = (204, 304)


def _response_headers(response: dict[str, Any], body: bytes) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, value in (response.get("headers") or {}).items():
        if name.lower() != "content-length":
            headers.append((name, str(value)))
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(value)) for value in values)
    if response["statusCode"] in BODYLESS_STATUSES:
        return [(name, value) for name, value in headers if name.lower() != "content-type"]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(body))))
    return headers


class ChaliceWSGI:
    """A WSGI callable serving ``app`` as API Gateway + Lambda would."""

    def __init__(self, app: Any) -> None:
        if not isinstance(app, LocalChalice):
            # LocalChalice keeps ``current_request`` per thread; gunicorn's threaded workers need that.
            app.__class__ = type("ThreadSafeChalice", (LocalChalice, app.__class__), {})
        config = Config.create(chalice_stage="container", app_name=app.app_name, lambda_timeout=30)
        self._gateway = AsSentGateway(app, config)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answer = self._answer(environ, start_response)
        # A HEAD answer has the headers of the answer alone: gunicorn drops a body, warning on the console.
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else answer

    def _answer(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method not in STANDARD_METHODS:  # as the local gateway: CONNECT host:443 was a 404 here, a 405 there
            message, allow = method_not_supported(method)
            return _json_error(start_response, 405, message, [("Allow", allow)])
        if environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and "HTTP_HOST" not in environ:
            return _json_error(start_response, 400, limits.HOST_MISSING)
        try:
            body = _read_body(environ)
        except OverflowError:
            return _json_error(start_response, 413, "Request body too large")
        except ValueError:
            return _json_error(start_response, 400, "Content-Length must be a whole number of bytes")
        except BodyCutShort as cut:
            return _json_error(start_response, 400, str(cut))
        try:
            response = self._gateway.handle_request(method=method, path=_raw_path(environ),
                                                    headers=_request_headers(environ), body=body)
        except ForbiddenError:  # no such route: the deployed gateway's MISSING_AUTHENTICATION_TOKEN is 404 JSON
            return _json_error(start_response, 404, "Not found")
        payload = response.get("body") or b""
        if response.get("isBase64Encoded"):
            payload = base64.b64decode(payload)
        elif isinstance(payload, str):
            payload = payload.encode("utf-8")
        start_response(_status_line(response["statusCode"]), _response_headers(response, payload))
        return [payload]


def create_application() -> ChaliceWSGI:
    from app import app

    return ChaliceWSGI(app)


application = create_application()
