"""Chalice's local server, answering unknown routes as the deployed gateway does."""
from __future__ import annotations

import json
from typing import Any

from chalice.config import Config
from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, ForbiddenError, LocalChalice, LocalDevServer,
                           LocalGatewayException, ThreadedHTTPServer)

from chalicelib.observability.middleware import SECURITY_HEADERS

NOT_FOUND_BODY = json.dumps({"error": "Not found"}).encode()


class GatewayRequestHandler(ChaliceRequestHandler):
    """Deployed, MISSING_AUTHENTICATION_TOKEN is a gateway response mapped to 404 JSON (terraform/)."""

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if not isinstance(error, ForbiddenError):
            super()._send_error_response(error)
            return
        self.send_response(404)
        for name, value in {**SECURITY_HEADERS, "Content-Type": "application/json",
                            "Content-Length": str(len(NOT_FOUND_BODY))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(NOT_FOUND_BODY)

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
