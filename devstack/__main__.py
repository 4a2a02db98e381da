"""`python -m devstack`: the whole service locally, at http://127.0.0.1:8000 by default."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from devstack.ports import PortInUse
from devstack.provision import LOCAL_OPERATOR
from devstack.stack import LocalStack, StackConfig


def parse_args(argv: list[str]) -> StackConfig:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("DEVSTACK_HOST", "127.0.0.1"),
                        help="bind address (env DEVSTACK_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEVSTACK_PORT", "8000")),
                        help="app port (env DEVSTACK_PORT, default 8000)")
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("DEVSTACK_AWS_PORT", "0")),
                        help="embedded AWS (moto server) port (env DEVSTACK_AWS_PORT, default: any free port)")
    parser.add_argument("--control-port", type=int,
                        default=int(os.environ["DEVSTACK_CONTROL_PORT"]) if os.environ.get("DEVSTACK_CONTROL_PORT")
                        else None, help="loopback control API port (env DEVSTACK_CONTROL_PORT; off by default)")
    parser.add_argument("--no-schedules", action="store_true",
                        help="do not fire scheduled functions (tests fire them through the control API)")
    args = parser.parse_args(argv)
    return StackConfig(host=args.host, port=args.port, aws_port=args.aws_port, control_port=args.control_port,
                       schedules=not args.no_schedules)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("werkzeug", "botocore", "pynamodb"):  # one line per moto call drowns the app's own logs
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = LocalStack(parse_args(argv))
    try:
        stack.start()
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        stack.stop()
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(f"serverless-sre is running\n"
          f"  app:          {stack.base_url}/\n"
          f"  API:          {stack.base_url}/api/users\n"
          f"  health:       {stack.base_url}/health\n"
          f"  OpenAPI:      {stack.base_url}/openapi.json\n"
          f"  embedded AWS: {stack.aws_endpoint} (AWS_ENDPOINT_URL for the aws CLI / boto3)\n"
          + (f"  control API:  http://{stack.config.host}:{stack.config.control_port}/status\n"
             if stack.config.control_port else "")
          + f"Operator: {LOCAL_OPERATOR} (audited by that name); its token:\n"
          f"  AWS_ENDPOINT_URL={stack.aws_endpoint} aws secretsmanager get-secret-value "
          f"--secret-id serverless-sre/operator-token --query SecretString --output text\n"
          "Ctrl-C stops everything.", flush=True)
    stopping.wait()
    print("stopping...", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
