"""`python -m devstack`: the whole service locally, at http://127.0.0.1:8000 by default."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, Optional

from devstack.console import ConsoleLog
from devstack.ports import DEFAULT_PORT, PortInUse, next_free_port, port_number
from devstack.provision import LOCAL_OPERATOR
from devstack.resources import definitions
from devstack.stack import LocalStack, StackConfig
from devstack.token import run_command, running_state, state_path, token_command, write_state

# A scheduled function run more often than this would run back to back (an SLO evaluator run
# takes about half a second), starving the stack it watches.
MIN_SCHEDULE_SECONDS = 1.0

def optional_port_number(text: str) -> int:
    """A port, or 0 for any free one."""
    return 0 if text.strip() == "0" else port_number(text)


def _check_host_and_ports(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((args.host, 0))
    except OSError as exc:
        parser.error(f"--host {args.host}: no address of this machine to listen on ({exc.strerror or exc})")
    named: dict[int, str] = {}
    for name, port in (("--port", args.port), ("--aws-port", args.aws_port), ("--control-port", args.control_port)):
        if port and port in named:
            parser.error(f"{named[port]} and {name} are both {port}: each server needs a port of its own")
        named.setdefault(port, name)


def parse_args(argv: list[str]) -> tuple[StackConfig, Path]:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("DEVSTACK_HOST", "127.0.0.1"),
                        help="bind address (env DEVSTACK_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=os.environ.get("DEVSTACK_PORT", str(DEFAULT_PORT)),
                        help="app port (env DEVSTACK_PORT, default 8000)")
    parser.add_argument("--aws-port", type=optional_port_number, default=os.environ.get("DEVSTACK_AWS_PORT", "0"),
                        help="embedded AWS (moto server) port (env DEVSTACK_AWS_PORT, default: any free port)")
    parser.add_argument("--control-port", type=optional_port_number,
                        default=os.environ.get("DEVSTACK_CONTROL_PORT") or None,
                        help="loopback control API port (env DEVSTACK_CONTROL_PORT; default: any free port)")
    parser.add_argument("--variant", choices=("lambda", "ecs"), default=os.environ.get("VARIANT") or "lambda",
                        help="lambda: the app in-process, users in DynamoDB (default); ecs: the container's "
                             "command (gunicorn) against a local PostgreSQL (env VARIANT)")
    parser.add_argument("--no-schedules", action="store_true",
                        help="do not fire scheduled functions (tests fire them through the control API)")
    parser.add_argument("--log-file", type=Path, default=os.environ.get("DEVSTACK_LOG_FILE"),
                        help="where every request record and log line goes (env DEVSTACK_LOG_FILE, "
                             "default .devstack/service-<port>.log)")
    parser.add_argument("--schedule", action="append", default=[], metavar="FUNCTION=SECONDS",
                        help="run a scheduled function every SECONDS instead of its rate (repeatable; "
                             "env DEVSTACK_SCHEDULES, comma-separated), e.g. slo-evaluator=15")
    args = parser.parse_args(argv)
    _check_host_and_ports(parser, args)
    overrides = {}
    for item in [*filter(None, os.environ.get("DEVSTACK_SCHEDULES", "").split(",")), *args.schedule]:
        key, sep, seconds = item.strip().partition("=")
        try:
            overrides[key] = float(seconds)
        except ValueError:
            sep = ""
        if not sep or not key or not MIN_SCHEDULE_SECONDS <= overrides.get(key, 0) < float("inf"):
            parser.error(f"--schedule takes FUNCTION=SECONDS ({MIN_SCHEDULE_SECONDS:g} or more), not {item!r}")
    scheduled = sorted(key for key, spec in definitions("functions").items() if spec.get("schedule"))
    unknown = sorted(set(overrides) - set(scheduled))
    if unknown:
        parser.error(f"--schedule: {', '.join(unknown)} has no schedule; scheduled: {', '.join(scheduled)}")
    log_file = args.log_file or Path(".devstack") / f"service-{args.port}.log"
    return StackConfig(host=args.host, port=args.port, aws_port=args.aws_port, control_port=args.control_port,
                       schedules=not args.no_schedules, schedule_overrides=overrides,
                       variant=args.variant), log_file


class StopRequest:
    """What SIGINT and SIGTERM set. A plain attribute, not a threading.Event: a handler runs between two
    bytecodes of the main thread, so Event.set() from a second signal (Ctrl-C, then the terminal's or a
    supervisor's SIGTERM) deadlocks on the lock the first handler, or Event.wait(), holds."""

    POLL_SECONDS = 0.2

    def __init__(self) -> None:
        self.signal: Optional[int] = None

    def __call__(self, signum: int, frame: Any) -> None:
        self.signal = signum

    def is_set(self) -> bool:
        return self.signal is not None

    def wait(self) -> None:
        while self.signal is None:
            time.sleep(self.POLL_SECONDS)


def port_advice(taken: int, app_port: int, host: str = "127.0.0.1") -> str:
    """What to do about a taken port: the local stack already running there has a token to reuse."""
    if taken != app_port:
        return "stop what holds it, or choose another port (`python -m devstack --help` lists the port options)"
    port = app_port
    # A port that is free now: port + 1 was offered whatever held it (another stack, often), or 65536.
    other = f"e.g. `{run_command(next_free_port(host, port))}`"
    running = running_state(state_path(port))
    if running is not None:
        return (f"the local stack started by process {running['pid']} runs at {running['base_url']}: use it "
                f"(`{token_command(port)}` prints its token), stop it with Ctrl-C where it runs, or start "
                f"another on a port of its own ({other})")
    return f"stop what holds it, or start the stack on another port ({other}; `python -m devstack --help`)"


def banner(stack: LocalStack, log_file: Path) -> str:
    return (f"serverless-sre is running ({stack.config.variant} variant)\n"
            f"  app:            {stack.base_url}/\n"
            f"  API:            {stack.base_url}/api/users\n"
            f"  health:         {stack.base_url}/health\n"
            f"  OpenAPI:        {stack.base_url}/openapi.json\n"
            f"  dashboard:      {stack.base_url}/sre/dashboard-ui (the JSON: {stack.base_url}/sre/dashboard)\n"
            f"  embedded AWS:   {stack.aws_endpoint} (AWS_ENDPOINT_URL for the aws CLI / boto3)\n"
            f"  control API:    {stack.control_url}/status\n"
            f"  webhooks:       {stack.webhook_receiver_url} (what arrived; operator token)\n"
            f"  operator:       {LOCAL_OPERATOR} (audited by that name), token {stack.operator_token} "
            f"(`{token_command(stack.config.port)}` prints it)\n"
            f"                  (Authorization: Bearer <token> on /sre/*; in Secrets Manager as "
            f"serverless-sre/operator-token)\n"
            f"  request log:    {log_file.resolve()} (one record per request; this console shows errors, "
            f"warnings and state changes)\n"
            "Ctrl-C stops everything.")


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("werkzeug", "botocore", "pynamodb"):  # one line per moto call drowns the app's own logs
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config, log_file = parse_args(argv)
    log_existed = log_file.exists()  # a stack already on this port may be writing it
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_file, "a", encoding="utf-8")
    except OSError as exc:
        print(f"python -m devstack: error: --log-file {log_file}: cannot append to it ({exc.strerror or exc})",
              file=sys.stderr)
        return 2
    from devstack.aws_calls import install_from_environment

    install_from_environment()  # before any AWS client exists
    console = sys.stdout
    stack = LocalStack(config)
    stopping = StopRequest()
    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    with log:
        sys.stdout = ConsoleLog(log, console)
        try:
            try:
                stack.start()
            except PortInUse as exc:
                print(f"error: {exc}\n{port_advice(exc.port, config.port, config.host)}", file=sys.stderr)
                stack.stop()
                if not log_existed and log_file.stat().st_size == 0:  # a refused start leaves no empty log
                    log_file.unlink()
                return 2
            except BaseException:
                for part in stack.stop():
                    print(f"stopped {part}", file=console, flush=True)
                raise
            state = state_path(config.port)
            if not stopping.is_set():  # Ctrl-C while starting: announce no stack that is about to stop
                write_state(state, {"pid": os.getpid(), "base_url": stack.base_url,
                                    "aws_endpoint": stack.aws_endpoint, "control_url": stack.control_url,
                                    "operator": LOCAL_OPERATOR, "operator_token": stack.operator_token})
                print(banner(stack, log_file), file=console, flush=True)
            try:
                stopping.wait()
            finally:
                state.unlink(missing_ok=True)
            print("stopping...", file=console, flush=True)
            for part in stack.stop():
                print(f"stopped {part}", file=console, flush=True)
        finally:
            sys.stdout = console
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
