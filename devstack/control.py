"""A loopback-only control API of the local stack: invoke a function now, flush metrics, status.

``POST /lambda/<key>/invoke`` is how the embedded AWS runs a function a state machine invokes:
it answers the function's payload as Lambda does, with ``X-Amz-Function-Error`` when it raised.
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

log = logging.getLogger("devstack.control")


def control_server(host: str, port: int, *, status: Callable[[], dict[str, Any]],
                   invoke: Callable[[str, Any], Any], flush_metrics: Callable[[], int],
                   invoke_lambda: Callable[[str, bytes, dict], bytes],
                   actions: Optional[dict[str, Callable[[], Any]]] = None) -> ThreadingHTTPServer:
    """``actions``: more ``POST /<name>`` endpoints (the ECS variant's database stop/start)."""
    actions = actions or {}

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status_code: int, body: Any) -> None:
            payload = json.dumps(body, default=str, separators=(",", ":")).encode()
            self.send_response(status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path == "/status":
                self._reply(200, status())
            else:
                self._reply(404, {"error": "Not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path == "/metrics/flush":
                self._reply(200, {"sent": flush_metrics()})
                return
            if self.path.strip("/") in actions:
                self._reply(200, actions[self.path.strip("/")]())
                return
            parts = self.path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "lambda" and parts[2] == "invoke":
                response_headers: dict[str, str] = {}
                payload = invoke_lambda(parts[1], raw, response_headers)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if response_headers.get("x-amz-function-error"):
                    self.send_header("X-Amz-Function-Error", response_headers["x-amz-function-error"])
                self.end_headers()
                self.wfile.write(payload)
                return
            if len(parts) == 3 and parts[0] == "functions" and parts[2] == "invoke":
                try:
                    event = json.loads(raw) if raw else {}
                except ValueError:
                    self._reply(400, {"error": "event must be JSON"})
                    return
                try:
                    self._reply(200, {"result": invoke(parts[1], event)})
                except KeyError:
                    self._reply(404, {"error": f"unknown function {parts[1]}"})
                except Exception as exc:  # report the handler's failure to the caller instead of hanging
                    log.exception("function %s failed", parts[1])
                    self._reply(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            self._reply(404, {"error": "Not found"})

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="devstack-control", daemon=True).start()
    return server
