"""A loopback-only control API of the local stack: invoke a function now, flush metrics, status.

``POST /lambda/<key>/invoke`` is how the embedded AWS runs a function a state machine invokes:
it answers the function's payload as Lambda does, with ``X-Amz-Function-Error`` when it raised.
``POST /functions/<key>/invoke`` is for tests and people: 200 with the result, 404 for a key
infra/functions.json does not have, 502 naming the exception when the function raised on the
event it was given (a function error, as API Gateway answers one). Every answer is JSON: 404 for
an unknown path, 405 with ``Allow`` for another method, 400 for a query string (no route takes one).

Its actions (stopping the database, restarting a part, running a function, flushing metrics) are
control-plane actions: each needs the operator token (``Authorization: Bearer``, as ``/sre/``
actions do) and logs one ``audit`` line, refused attempts too. ``GET /status`` and the embedded
AWS's ``/lambda/<key>/invoke`` (a state machine's invocation, which AWS authorizes by role) need none.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl

from chalicelib.auth import UNAUTHENTICATED, audit
from chalicelib.http.errors import ApiError
from chalicelib.http.strict import parse_bounded_int
from devstack.functions import UnknownFunction
from devstack.json_errors import JsonErrorPages, RequestRejected

log = logging.getLogger("devstack.control")

# Lambda's limit for a synchronous invocation's payload: no function is given a larger event.
MAX_BODY_BYTES = 6 * 1024 * 1024
READ = ("GET", "HEAD")
ACTION = ("POST",)


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    answer: Callable[["ControlRequestHandler", bytes], None]
    operator: bool = False  # an action: the operator token, and an audit line


def function_failure(function_key: str, exc: Exception) -> str:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"function {function_key} failed: {detail}"


def parse_event(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        raise RequestRejected(400, "event must be JSON") from None
    except RecursionError:
        raise RequestRejected(400, "event must be JSON nested less deeply") from None


class ControlRequestHandler(JsonErrorPages):
    """Serves the routes ``route_for`` finds (set per server by ``control_server``)."""

    route_for: Callable[[str], Optional[Route]]
    operator_of: Callable[[Any], str]  # the name of the operator whose token the headers carry; ApiError else
    answered: Optional[int] = None

    def _answer(self) -> None:
        path, _, query = self.path.partition("?")
        route = self.route_for(path)
        if route is None:
            self.send_json(404, {"error": "Not found"})
        elif self.command not in route.methods:
            self.refuse_method()
        elif query:
            names = sorted({name for name, _ in parse_qsl(query, keep_blank_values=True)}) or [query]
            self.send_json(400, {"error": f"{path} takes no query parameter; got: {', '.join(names)}"})
        else:
            self._run(route, path)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

    def send_response(self, code: int, message: Optional[str] = None) -> None:
        self.answered = code
        super().send_response(code, message)

    def _run(self, route: Route, path: str) -> None:
        who = UNAUTHENTICATED
        try:
            if route.operator:
                who = self.operator_of(self.headers)
            route.answer(self, self.read_body())
        except ApiError as refused:  # the operator token: missing, wrong, or unreadable (503)
            self.close_connection = True  # its body is unread: it must not be taken for a next request
            self.send_json(refused.status_code, refused.body(), {**refused.headers, "Connection": "close"})
        except RequestRejected as rejected:
            self.send_error(rejected.status, rejected.message)
        except ConnectionError:  # the client hung up before its answer: nobody to answer
            self.close_connection = True
        except Exception:  # the stack's own failure (a restart, a flush): on the console, and a 500 JSON
            log.exception("control API: %s %s failed", self.command, path)
            self.send_json(500, {"error": "Internal server error"})
        if route.operator:
            outcome = "done" if self.answered is not None and self.answered < 300 else f"answered {self.answered}"
            audit(who, f"control {self.command} {path}", path.strip("/"), outcome)

    def read_body(self) -> bytes:
        """The body one Content-Length of at most MAX_BODY_BYTES frames, all of it."""
        if "Transfer-Encoding" in self.headers:
            raise RequestRejected(411, "Send the body with a Content-Length (no Transfer-Encoding)")
        lengths = self.headers.get_all("Content-Length", [])
        if len(lengths) > 1:
            raise RequestRejected(400, "Content-Length is given more than once; send one")
        length = parse_bounded_int(lengths[0].strip() if lengths else "0", 0, 10 ** 18)
        if length is None:
            raise RequestRejected(400, "Content-Length must be a whole number of bytes")
        if length > MAX_BODY_BYTES:
            raise RequestRejected(413, f"Request body is {length} bytes; the limit is {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client closed its side: what arrived is not the request it framed
            raise RequestRejected(400, f"Request body ended after {len(body)} of the {length} bytes "
                                       "its Content-Length announced")
        return body

    def method_not_supported(self) -> tuple[str, str]:
        path = self.path.partition("?")[0]
        route = self.route_for(path)
        allowed = ", ".join(route.methods if route is not None else (*READ, *ACTION))
        return f"Method {self.command} is not allowed on {path}; allowed: {allowed}", allowed

    def encode_json(self, body: Any) -> bytes:
        return json.dumps(body, default=str, separators=(",", ":")).encode()

    def send_payload(self, payload: bytes, headers: dict[str, str]) -> None:
        """A 200 with ``payload`` as it is, already JSON."""
        self.send_response(200)
        for name, value in {**headers, "Content-Type": "application/json", "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


def invoke_function(handler: ControlRequestHandler, invoke: Callable[[str, Any], Any], function_key: str,
                    raw: bytes) -> None:
    event = parse_event(raw)
    try:
        result = invoke(function_key, event)
    except UnknownFunction:
        handler.send_json(404, {"error": f"unknown function {function_key}"})
        return
    except Exception as exc:  # the function raised on this event: its failure, not the control API's
        log.exception("function %s failed", function_key)
        handler.send_json(502, {"error": function_failure(function_key, exc)})
        return
    handler.send_json(200, {"result": result})


def invoke_as_lambda(handler: ControlRequestHandler, invoke_lambda: Callable[[str, bytes, dict], bytes],
                     function_key: str, raw: bytes) -> None:
    """Lambda's Invoke API: a function error is a 200 whose payload describes it, flagged by a header."""
    response_headers: dict[str, str] = {}
    payload = invoke_lambda(function_key, raw, response_headers)
    error = response_headers.get("x-amz-function-error")
    handler.send_payload(payload, {"X-Amz-Function-Error": error} if error else {})


def control_server(host: str, port: int, *, status: Callable[[], dict[str, Any]],
                   invoke: Callable[[str, Any], Any], flush_metrics: Callable[[], int],
                   invoke_lambda: Callable[[str, bytes, dict], bytes], operator_of: Callable[[Any], str],
                   actions: Optional[dict[str, Callable[[], Any]]] = None) -> ThreadingHTTPServer:
    """``actions``: more ``POST /<name>`` endpoints (the ECS variant's database stop/start).
    ``invoke`` raises ``UnknownFunction`` for a key infra/functions.json does not have;
    ``operator_of(headers)`` names the operator whose token they carry (``OperatorAuth.require``)."""
    actions = actions or {}

    def _route_for(path: str) -> Optional[Route]:
        if path == "/status":
            return Route(READ, lambda handler, _: handler.send_json(200, status()))
        if path == "/metrics/flush":
            return Route(ACTION, lambda handler, _: handler.send_json(200, {"sent": flush_metrics()}), operator=True)
        name = path.strip("/")
        if name in actions:
            return Route(ACTION, lambda handler, _: handler.send_json(200, actions[name]()), operator=True)
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "lambda" and parts[2] == "invoke":
            return Route(ACTION, lambda handler, raw: invoke_as_lambda(handler, invoke_lambda, parts[1], raw))
        if len(parts) == 3 and parts[0] == "functions" and parts[2] == "invoke":
            return Route(ACTION, lambda handler, raw: invoke_function(handler, invoke, parts[1], raw), operator=True)
        return None

    named_operator = operator_of  # a class body cannot read an enclosing name it assigns

    class Handler(ControlRequestHandler):
        route_for = staticmethod(_route_for)
        operator_of = staticmethod(named_operator)

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="devstack-control", daemon=True).start()
    return server
