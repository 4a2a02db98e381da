"""``loadgen``: send a scenario's load to a base URL, print the report, exit non-zero on failed thresholds."""
from __future__ import annotations

import json
import socket
import sys
from types import SimpleNamespace
from typing import Any, Optional, Sequence
from urllib.parse import urlsplit

import click
from click.core import ParameterSource

from tools.command_line import CONTEXT_SETTINGS, Duration, parse_options, print_to_stdout, refuse, stdout_console
from tools.loadgen.local_stack import local_port, run_command
from tools.loadgen.profile import DEFAULT_MAX_REQUESTS, LoadProfile, Stage
from tools.loadgen.report import (
    EXIT_INTEGRITY, EXIT_INTERRUPTED, EXIT_SETUP, EXIT_THRESHOLDS, EXIT_USAGE, exit_code, render_text)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # the local stack (make run)
HELP = ("Send a scenario's load to a base URL (the local stack by default), print the report, exit non-zero "
        "on failed thresholds.")

EPILOG = f"""
models:
  --rate R              open model: R iterations/s whatever the server does (latency from the scheduled start)
  --clients N           closed model: N clients, each sending its next iteration when the last one ends
  --stage 30s:50        repeatable: ramp to 50 clients (with --open: 50 iterations/s) over 30 s; --start sets
                        where the ramp begins
every run is bounded by --duration (or the stages) and --max-requests; its setup by its repeat counts, and
setup stops at its first failed request.

thresholds (repeatable --threshold, as k6): p50|p90|p95|p99|max|mean (ms), error_rate, rate, requests, dropped,
optionally for one request (all but rate and dropped): --threshold 'list-users.p95<200'
(quoted: < and > are shell redirections).
--slo-gate also fails the run when an SLO objective is missed.

exit codes: 0 ok, {EXIT_THRESHOLDS} a threshold (or, with --slo-gate, an SLO) failed, {EXIT_INTEGRITY} the integrity
check found missing or extra data (or got no answer), {EXIT_SETUP} a setup request failed (the load ran without
its seed data), {EXIT_USAGE} bad arguments or scenario (one of its requests
never sent: it names a value no answer had), or nothing answers at the base URL, {EXIT_INTERRUPTED} stopped early with Ctrl-C (the report covers what was sent until then).
A reader that stops reading the report early (| head) cuts the report short, not the exit code.
"""


class StageType(click.ParamType):
    name = "DURATION:TARGET"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Stage:
        if isinstance(value, Stage):
            return value
        try:
            return Stage.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def build_command() -> click.Command:
    """The options; parsed by ``parse_options`` (tools/command_line.py says why click)."""
    positive = click.FloatRange(min=0, min_open=True)
    options = [
        click.Argument(["scenario"]),
        click.Option(["--base-url"], default=DEFAULT_BASE_URL, show_default=True),
        click.Option(["--rate"], type=positive, help="open model: iterations per second"),
        click.Option(["--clients"], type=click.IntRange(min=1), help="closed model: concurrent clients (default 8)"),
        click.Option(["--open"], is_flag=True, help="with --stage: the stages are rates (open model)"),
        click.Option(["--duration"], type=Duration(), default="30s",
                     help="e.g. 30s, 5m (default 30s; ignored with --stage)"),
        click.Option(["--stage"], type=StageType(), multiple=True,
                     help="ramp to TARGET over DURATION (repeatable)"),
        click.Option(["--start"], type=click.FloatRange(min=0),
                     help="target at the start of the first stage (default: constant)"),
        click.Option(["--max-requests"], type=click.IntRange(min=1), default=DEFAULT_MAX_REQUESTS,
                     show_default=True, help="stop after this many requests"),
        click.Option(["--max-in-flight"], type=click.IntRange(min=1), default=256, show_default=True,
                     help="open model: outstanding requests at most"),
        click.Option(["--timeout"], type=positive, default=10.0, show_default=True, help="per request, seconds (at most 300)"),
        click.Option(["--threshold"], multiple=True, metavar="EXPR", help="e.g. 'p95<200' (repeatable)"),
        click.Option(["--slo-gate"], is_flag=True, help="a missed SLO objective fails the run"),
        click.Option(["--check"], is_flag=True, help="integrity check after the run"),
        click.Option(["--cleanup"], is_flag=True,
                     help="then delete what the run created and did not delete (its setup's too)"),
        click.Option(["--seed"], type=int, help="random seed for the request mix"),
        click.Option(["--json"], is_flag=True, help="print the report as JSON (no live view)"),
        click.Option(["--no-progress"], is_flag=True, help="no live view"),
    ]
    # \b keeps click from rewrapping the paragraphs that follow it.
    epilog = "\n\n".join("\b\n" + paragraph for paragraph in EPILOG.strip().split("\n\n"))
    return click.Command("loadgen", params=options, help=HELP, epilog=epilog,
                         context_settings=CONTEXT_SETTINGS)


def parse_arguments(argv: Optional[Sequence[str]]) -> SimpleNamespace:
    ctx = parse_options(build_command(), argv, "loadgen")
    if ctx.params["rate"] is not None and ctx.params["clients"] is not None:
        refuse(ctx, "--rate (open model) and --clients (closed model) are two models; give one")
    # Each was ignored without a word: `--open --duration 1m` ran 8 clients (the closed model).
    if ctx.params["stage"]:
        for option in ("rate", "clients"):
            if ctx.params[option] is not None:
                refuse(ctx, f"--{option} with --stage: the stages give the {option} (add --open for rates)")
    else:
        for option, given in (("open", ctx.params["open"]), ("start", ctx.params["start"] is not None)):
            if given:
                refuse(ctx, f"--{option} shapes a ramp of --stage; without one, give --rate R (open model) "
                            "or --clients N (closed model)")
    open_model = ctx.params["rate"] is not None or (ctx.params["stage"] and ctx.params["open"])
    if not open_model and ctx.get_parameter_source("max_in_flight") is not ParameterSource.DEFAULT:
        refuse(ctx, "--max-in-flight caps the open model's outstanding requests (--rate, or --stage with --open); "
                    "the closed model has one per client (--clients)")
    return SimpleNamespace(**ctx.params)


def profile_from(args: SimpleNamespace) -> LoadProfile:
    options = dict(max_requests=args.max_requests, max_in_flight=args.max_in_flight, timeout=args.timeout)
    if args.stage:
        model = "open" if args.open else "closed"
        return LoadProfile(model, tuple(args.stage), start=args.start, **options)
    if args.rate is not None:
        return LoadProfile.constant_rate(args.rate, args.duration, **options)
    return LoadProfile.concurrency(8 if args.clients is None else args.clients, args.duration, **options)


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

    from tools.loadgen import ScenarioError, check_base_url, check_thresholds, load_scenario, run_load

    args = parse_arguments(argv)
    try:
        profile = profile_from(args)
        scenario = load_scenario(args.scenario)
        check_thresholds(scenario, args.threshold)
        check_base_url(args.base_url)
    except (ValueError, ScenarioError) as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unreachable = nothing_answers_at(args.base_url)
    if unreachable:
        port = local_port(args.base_url)
        hint = f" (start the local stack with `{run_command(port)}`)" if port else ""
        print(f"loadgen: nothing answers at {args.base_url}: {unreachable}{hint}", file=sys.stderr)
        return EXIT_USAGE
    console = Console(stderr=True)
    live = None if args.json or args.no_progress or not console.is_terminal else console
    try:
        summary = run_load(args.base_url, scenario, profile, thresholds=args.threshold, check=args.check,
                           cleanup=args.cleanup, seed=args.seed, console=live, interruptible=True)
    except (ValueError, ScenarioError) as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    code = exit_code(summary, slo_gate=args.slo_gate)
    summary["exit_code"] = code
    if args.json:
        print_to_stdout(lambda: print(json.dumps(summary, indent=2, allow_nan=False)))
    else:
        print_to_stdout(lambda: render_text(summary, stdout_console()))
    return code


if __name__ == "__main__":
    sys.exit(main())
