"""The app's ceiling on this machine: the same Chalice app and local server, users kept in memory.

``python -m bench._memory_app --port N``. No AWS at all: no breaker, no webhook outbox, and
the EMF records (one per request) go to /dev/null instead of to CloudWatch.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._memory_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                       "POWERTOOLS_TRACE_DISABLED": "true",
                       "CHAOS_FAULT_STORE": "memory"})
    console = sys.stdout
    sys.stdout = open(os.devnull, "w")  # the request records; the server's own output goes to the console

    import app as app_module
    from chalicelib import wiring
    from chalicelib.users.memory import InMemoryUserRepository
    from chalicelib.users.service import UserService
    from devstack.gateway import create_gateway

    service = UserService(InMemoryUserRepository())
    wiring.current().user_service = service  # the routes take it from the wiring at call time
    gateway = create_gateway(app_module.app, args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=gateway.server.shutdown).start())
    print(f"in-memory app on http://{args.host}:{args.port}", file=console, flush=True)
    gateway.server.serve_forever()
    gateway.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
