"""``make capacity-test``: find the saturation point of a running stack and record it.

Raises the arrival rate step by step (the load generator's step mode) until the latency or
success SLO breaks, then records the highest rate that held, per unit of capacity, through
``POST /sre/capacity/saturation`` (operator token), where ``GET /sre/capacity`` turns it into
recommendations. The unit is a concurrent execution (the concurrency of the highest holding
step, by Little's law from the client's figures) or, for the ECS variant, a task (``--tasks``).

    make capacity-test CAPACITY_ARGS="--ramp 5:5:60 --step-duration 5s"

Targets 127.0.0.1 by default; the operator token comes from ``--token`` or ``OPERATOR_TOKEN``
(``make run`` prints it).
"""
from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace
from typing import Any, Callable, Optional

from tools.loadgen.local_stack import local_port, run_command, token_command

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
EXIT_CODES = ("\b\nexit codes: 0 measured (and recorded unless --no-record), 1 the stack refused the token, the "
              "base URL\ndid not answer its check as the service does, or the point could not be recorded, 2 bad "
              "options or\nnothing answers at the base URL, 98 a setup request failed (no step ran, nothing "
              "recorded), 130 stopped\nwith Ctrl-C (nothing recorded).")
STEP_FIELDS = ("offered_rps", "achieved_rps", "completed", "p50_ms", "p99_ms", "mean_ms", "concurrency", "held",
               "broke")


def saturation_body(result: dict[str, Any], *, tasks: Optional[int]) -> dict[str, Any]:
    """The body of ``POST /sre/capacity/saturation`` for a step-mode result."""
    if tasks:
        unit, units = "task", float(tasks)
    else:
        unit, units = "concurrent execution", max(result["concurrency_at_highest"] or 0.0, 1e-3)
    return {"scenario": result["scenario"], "target": result["target"],
            "highest_holding_rps": result["highest_holding_rps"], "breaking_rps": result["breaking_rps"],
            "breaking_reason": result["breaking_reason"][:500], "capacity_unit": unit, "capacity_units": units,
            "steps": [{name: step[name] for name in STEP_FIELDS if step.get(name) is not None}
                      for step in result["steps"]]}


def _post_saturation(base_url: str, token: str, body: dict[str, Any], timeout: float) -> Any:
    import requests

    try:
        return requests.post(f"{base_url}/sre/capacity/saturation", data=json.dumps(body), timeout=timeout,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    except requests.RequestException as exc:
        raise RuntimeError(f"POST {base_url}/sre/capacity/saturation got no answer: {exc}") from None


def _token_hint(base_url: str) -> str:
    """Where the operator token of a local stack at ``base_url`` comes from ('' for another host)."""
    port = local_port(base_url)
    return f"; `{token_command(port)}` prints the local stack's" if port else ""


def check_token(base_url: str, token: str, timeout: float = 30.0) -> None:
    """Refuse a token the stack will not take before the ramp, not after it: an empty body is
    checked for the token first (401/403) and then refused as invalid (400, the missing fields named in
    ``details``), so nothing is stored. Any other answer is no such stack: a server that is not the
    service (501 from a static file server) ran the whole ramp, then failed the recording."""
    response = _post_saturation(base_url, token, {}, timeout)
    if response.status_code in (401, 403):
        raise RuntimeError(f"the stack refused the operator token ({response.status_code} {response.text})"
                           f"{_token_hint(base_url)}")
    if not _refused_as_invalid(response):
        raise RuntimeError(f"{base_url} does not answer as the service: the token check (POST /sre/capacity/saturation "
                           f"with an empty point) expects a 400 naming the missing fields, and got {_excerpt(response)}")


def _refused_as_invalid(response: Any) -> bool:
    """Whether ``response`` is the service's refusal of an empty point: 400, its fields in ``details``."""
    if response.status_code != 400:
        return False
    try:
        body = response.json()
    except ValueError:  # not JSON: not the service's answer
        return False
    return isinstance(body, dict) and isinstance(body.get("details"), dict)


def _excerpt(response: Any) -> str:
    """The status and the start of the body, on one line."""
    text = " ".join(response.text.split())
    return f"{response.status_code} {text[:120]}{'...' if len(text) > 120 else ''}".strip()


def record(base_url: str, token: str, body: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    response = _post_saturation(base_url, token, body, timeout)
    if response.status_code != 200:
        raise RuntimeError(f"recording the saturation point failed: {response.status_code} {response.text}")
    return response.json()["saturation_point"]


def capacity_test(base_url: str, token: Optional[str], *, scenario: str = "users-list", ramp: str = "5:5:60",
                  step_duration: str = "5s", tasks: Optional[int] = None, seed: Optional[int] = None,
                  max_in_flight: int = 256, interruptible: bool = False,
                  on_ramp_start: Optional[Callable[[str], None]] = None) -> dict[str, Any]:
    from tools.loadgen import check_base_url, load_scenario
    from tools.loadgen.steps import StepRamp, run_steps

    steps, load = StepRamp.parse(ramp, step_duration), load_scenario(scenario)
    check_base_url(base_url)
    if token:
        check_token(base_url, token)
    result = run_steps(base_url, load, steps, seed=seed, max_in_flight=max_in_flight, interruptible=interruptible,
                       on_ramp_start=on_ramp_start)
    stored = record(base_url, token, saturation_body(result, tasks=tasks)) if token and measured(result) else None
    return {"result": result, "recorded": stored}


def measured(result: dict[str, Any]) -> bool:
    """Whether the ramp found where the service breaks: an interrupted ramp did not, and one whose setup
    failed measured a service without its seed data (its steps are not run)."""
    return not result["interrupted"] and not result["setup_failures"]


def build_command() -> "click.Command":
    import click

    from tools.command_line import CONTEXT_SETTINGS, Duration

    options = [
        click.Option(["--base-url"], default=DEFAULT_BASE_URL, show_default=True),
        click.Option(["--scenario"], default="users-list", show_default=True),
        click.Option(["--ramp"], default="5:5:60", show_default=True, help="START:STEP:MAX requests/s"),
        click.Option(["--step-duration"], type=Duration(), default="5s", show_default=True,
                     help="each step's duration"),
        click.Option(["--tasks"], type=click.IntRange(min=1),
                     help="ECS variant: the running tasks (the unit becomes a task)"),
        click.Option(["--token"], default=os.environ.get("OPERATOR_TOKEN"), show_default="OPERATOR_TOKEN",
                     help="operator token"),
        click.Option(["--no-record"], is_flag=True, help="measure only; store nothing"),
        click.Option(["--seed"], type=int),
    ]
    return click.Command("capacity-test", params=options, help=__doc__.replace("``", "`"), epilog=EXIT_CODES,
                         context_settings=CONTEXT_SETTINGS)


def _print_ramp_id(ramp_id: str) -> None:
    print(f"ramp run {ramp_id} (each step's requests carry it in X-Correlation-Id)", flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    from tools.command_line import parse_options, refuse
    from tools.loadgen import ScenarioError, check_base_url, load_scenario
    from tools.loadgen.cli import nothing_answers_at
    from tools.loadgen.report import EXIT_INTERRUPTED, EXIT_SETUP
    from tools.loadgen.steps import StepRamp, check_one_request_per_iteration

    ctx = parse_options(build_command(), argv, "capacity-test")
    args = SimpleNamespace(**ctx.params)
    if not args.token and not args.no_record:
        refuse(ctx, "an operator token is needed to record the point (--token or OPERATOR_TOKEN"
                    f"{_token_hint(args.base_url)}), or pass --no-record")
    if args.tasks is not None and args.no_record:
        refuse(ctx, "--tasks gives the unit of the recorded point; with --no-record nothing is recorded")
    try:
        StepRamp.parse(args.ramp, args.step_duration)
    except ValueError as exc:
        refuse(ctx, f"--ramp {args.ramp}: {exc}")
    try:
        check_one_request_per_iteration(load_scenario(args.scenario))
        check_base_url(args.base_url)
    except (ValueError, ScenarioError) as exc:
        refuse(ctx, str(exc))
    unreachable = nothing_answers_at(args.base_url)
    if unreachable:
        port = local_port(args.base_url)
        hint = f" (start the local stack with `{run_command(port)}`)" if port else ""
        refuse(ctx, f"nothing answers at {args.base_url}: {unreachable}{hint}")
    try:
        outcome = capacity_test(args.base_url, None if args.no_record else args.token, scenario=args.scenario,
                                ramp=args.ramp, step_duration=args.step_duration, tasks=args.tasks, seed=args.seed,
                                interruptible=True, on_ramp_start=_print_ramp_id)
    except (ValueError, RuntimeError) as exc:
        print(f"capacity-test: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # before the ramp (the token check); during it, Ctrl-C ends the ramp instead
        print("capacity-test: interrupted; nothing recorded", file=sys.stderr)
        return EXIT_INTERRUPTED
    result = outcome["result"]
    for step in result["steps"]:
        p99 = "-" if step["p99_ms"] is None else format(step["p99_ms"], ".1f")
        print(f"{step['offered_rps']:>8g} req/s offered  {step['achieved_rps']:>8g} served  "
              f"p99 {p99:>8} ms  concurrency {step['concurrency']:>6g}  "
              f"{'held' if step['held'] else 'BROKE: ' + step['broke']}")
    if not measured(result):
        print(f"capacity-test: {result['breaking_reason']}")
    elif result["highest_holding_rps"] is None:
        print(f"no step held the SLOs, not even the first; {result['breaking_reason']}")
    else:
        print(f"highest rate that held the SLOs: {result['highest_holding_rps']} req/s; {result['breaking_reason']}")
    cleanup = result.get("cleanup")
    if cleanup:
        print(f"deleted {cleanup['deleted']} of the {cleanup['left']} resources the ramp stored"
              + (f" ({cleanup['failed']} not deleted: {cleanup['failures'][:3]})" if cleanup["failed"] else "")
              + (f"; {cleanup['error']}" if cleanup["error"] else ""))
    if outcome["recorded"]:
        point = outcome["recorded"]
        per_unit = "no rate held" if point["rps_per_unit"] is None else f"{point['rps_per_unit']} req/s"
        print(f"recorded: {per_unit} per {point['capacity_unit']} at {point['measured_at']}")
    if result["interrupted"]:
        print("capacity-test: interrupted; nothing recorded", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result["setup_failures"]:
        print(f"capacity-test: {result['setup_failures']} setup requests failed; no step ran, nothing recorded",
              file=sys.stderr)
        return EXIT_SETUP
    return 0


if __name__ == "__main__":
    sys.exit(main())
