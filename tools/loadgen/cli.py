"""``loadgen``: send a scenario's load to a base URL, print the report, exit non-zero on failed thresholds."""
from __future__ import annotations

import argparse
import json
import socket
import sys
from typing import Optional
from urllib.parse import urlsplit

from tools.loadgen.profile import DEFAULT_MAX_REQUESTS, LoadProfile, Stage, parse_duration
from tools.loadgen.report import (
    EXIT_INTEGRITY, EXIT_INTERRUPTED, EXIT_THRESHOLDS, EXIT_USAGE, exit_code, render_text)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # the local stack (make run)

EPILOG = f"""
models:
  --rate R              open model: R iterations/s whatever the server does (latency from the scheduled start)
  --clients N           closed model: N clients, each sending its next iteration when the last one ends
  --stage 30s:50        repeatable: ramp to 50 (rate or clients) over 30 s; --start sets where the ramp begins
every run is bounded by --duration (or the stages) and --max-requests.

thresholds (repeatable --threshold, as k6): p50|p90|p95|p99|max|mean (ms), error_rate, rate, requests, dropped,
optionally for one request: --threshold 'list-users.p95<200' (quoted: < and > are shell redirections).
--slo-gate also fails the run when an SLO objective is missed.

exit codes: 0 ok, {EXIT_THRESHOLDS} a threshold (or, with --slo-gate, an SLO) failed, {EXIT_INTEGRITY} the integrity
check found missing or extra data, {EXIT_USAGE} bad arguments or scenario, or nothing answers at the base URL,
{EXIT_INTERRUPTED} stopped early with Ctrl-C (the report covers what was sent until then).
"""


def stage(text: str) -> Stage:
    """``--stage``'s type: argparse shows an ArgumentTypeError's own words (a ValueError as 'invalid value')."""
    try:
        return Stage.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loadgen", description=__doc__, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", help="scenario file (YAML/JSON) or shipped name: crud-mix, users-list, ...")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"default {DEFAULT_BASE_URL}")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--rate", type=float, help="open model: iterations per second")
    model.add_argument("--clients", type=int, help="closed model: concurrent clients (default 8)")
    parser.add_argument("--open", action="store_true", help="with --stage: the stages are rates (open model)")
    parser.add_argument("--duration", default="30s", help="e.g. 30s, 5m (default 30s; ignored with --stage)")
    parser.add_argument("--stage", action="append", default=[], type=stage, metavar="DURATION:TARGET")
    parser.add_argument("--start", type=float, help="target at the start of the first stage (default: constant)")
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS,
                        help=f"stop after this many requests (default {DEFAULT_MAX_REQUESTS})")
    parser.add_argument("--max-in-flight", type=int, default=256, help="open model: outstanding requests at most")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds (default 10)")
    parser.add_argument("--threshold", action="append", default=[], metavar="EXPR")
    parser.add_argument("--slo-gate", action="store_true", help="a missed SLO objective fails the run")
    parser.add_argument("--check", action="store_true", help="integrity check after the run")
    parser.add_argument("--seed", type=int, help="random seed for the request mix")
    parser.add_argument("--json", action="store_true", help="print the report as JSON (no live view)")
    parser.add_argument("--no-progress", action="store_true", help="no live view")
    return parser


def profile_from(args: argparse.Namespace) -> LoadProfile:
    options = dict(max_requests=args.max_requests, max_in_flight=args.max_in_flight, timeout=args.timeout)
    if args.stage:
        model = "open" if (args.open or args.rate is not None) else "closed"
        return LoadProfile(model, tuple(args.stage), start=args.start, **options)
    duration = parse_duration(args.duration)
    if args.rate is not None:
        return LoadProfile.constant_rate(args.rate, duration, **options)
    return LoadProfile.concurrency(8 if args.clients is None else args.clients, duration, **options)


def nothing_answers_at(base_url: str, timeout: float = 3.0) -> Optional[str]:
    """Why no TCP connection opens to the base URL's host and port, or None when one does."""
    address = urlsplit(base_url)
    try:
        port = address.port or (443 if address.scheme == "https" else 80)
        with socket.create_connection((address.hostname or "", port), timeout=timeout):
            return None
    except (OSError, ValueError) as exc:
        return str(exc) or type(exc).__name__


def main(argv: Optional[list[str]] = None) -> int:
    from rich.console import Console

    from tools.loadgen import ScenarioError, check_base_url, load_scenario, run_load

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        profile = profile_from(args)
        scenario = load_scenario(args.scenario)
        check_base_url(args.base_url)
    except (ValueError, ScenarioError) as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unreachable = nothing_answers_at(args.base_url)
    if unreachable:
        hint = " (start the local stack with `make run`)" if args.base_url == DEFAULT_BASE_URL else ""
        print(f"loadgen: nothing answers at {args.base_url}: {unreachable}{hint}", file=sys.stderr)
        return EXIT_USAGE
    console = Console(stderr=True)
    live = None if args.json or args.no_progress or not console.is_terminal else console
    try:
        summary = run_load(args.base_url, scenario, profile, thresholds=args.threshold, check=args.check,
                           seed=args.seed, console=live, interruptible=True)
    except (ValueError, ScenarioError) as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    code = exit_code(summary, slo_gate=args.slo_gate)
    summary["exit_code"] = code
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        render_text(summary, Console())
    return code


if __name__ == "__main__":
    sys.exit(main())
