"""``make bench-soak``: one hour at a moderate constant rate against a fresh local stack.

Prints the SLO evaluator's run time, the time ``GET /sre/dashboard`` takes (its business figures
list and read the request metrics) and the stack's resident memory (the stack's process and its
embedded AWS) at the start, at a few points on the way and at the end: all must stay flat
(moto's CloudWatch store grows by minutes, not by requests; see devstack/metrics_sink.py; the
embedded AWS finds a query's datapoints without reading the others, devstack/embedded_aws/cloudwatch.py).
``python -m bench._soak [--duration 1h] [--rate 10] [--samples 6] [--warmup 2m]``; a shorter
``--duration`` shows it works. The load is the crud-cycle scenario: every iteration deletes the
user it created, so the stored data (and what memory it needs) stays the same. Each created
user also leaves a delivered webhook event in the outbox, which its TTL removes (the embedded
AWS applies TTL); the soak keeps them ``OUTBOX_KEEP_SECONDS``, less than the warm-up, so the
start sample already holds as many as any later one.
"""
from __future__ import annotations

import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

import click
import requests

from bench._targets import local_stack, rss_kib
from devstack.embedded_aws.ttl import TTL_SWEEP_SECONDS
from tools.command_line import CONTEXT_SETTINGS, Duration, parse_options, refuse
from tools.loadgen import LoadProfile, load_scenario, run_load
from tools.loadgen.report import EXIT_INTERRUPTED

EVALUATOR = "slo-evaluator"
# Flat: the evaluator's end run time within this factor of the start (plus an allowance for noise);
# memory growing by less than this rate (metric datapoints add up by minutes) plus allocator noise.
MAX_GROWTH = 1.5
EVALUATOR_SLACK_SECONDS = 1.0
MAX_RSS_GROWTH_MIB_PER_HOUR = 32.0
RSS_SLACK_MIB = 16.0
OUTBOX_KEEP_SECONDS = 60


def sample(target: Any, elapsed: float) -> dict[str, Any]:
    started = time.monotonic()
    response = target.invoke(EVALUATOR, timeout=300)
    evaluator_seconds = time.monotonic() - started
    if response.status_code != 200:
        raise RuntimeError(f"{EVALUATOR} failed: {response.status_code} {response.text[:300]}")
    started = time.monotonic()
    dashboard = requests.get(f"{target.base_url}/sre/dashboard", timeout=300)
    dashboard_seconds = time.monotonic() - started
    if dashboard.status_code != 200:
        raise RuntimeError(f"GET /sre/dashboard failed: {dashboard.status_code} {dashboard.text[:300]}")
    pids = target.pids()
    return {"elapsed_s": round(elapsed), "evaluator_s": round(evaluator_seconds, 3),
            "dashboard_s": round(dashboard_seconds, 3),
            "rss_mib": round(sum(rss_kib(pid) for pid in pids) / 1024, 1),
            "metric_datapoints": target.status().get("metric_datapoints_sent")}


def build_command() -> click.Command:
    options = [
        click.Option(["--duration"], type=Duration(), default="1h", show_default=True),
        click.Option(["--rate"], type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
                     help="crud-cycle iterations per second"),
        click.Option(["--samples"], type=click.IntRange(min=0), default=6, show_default=True,
                     help="evaluator/RSS samples between start and end"),
        click.Option(["--warmup"], type=Duration(), default="2m", show_default=True,
                     help="load before the start sample: code paths imported, caches and pools filled"),
    ]
    return click.Command("python -m bench._soak", params=options, help=__doc__.replace("``", "`"),
                         epilog="\b\nexit codes: 0 flat, 1 something grew or the integrity check failed, 2 bad "
                                "options, 130 stopped with Ctrl-C.", context_settings=CONTEXT_SETTINGS)


def main(argv: list[str]) -> int:
    ctx = parse_options(build_command(), argv, "python -m bench._soak")
    args = SimpleNamespace(**ctx.params)
    duration, warmup = args.duration, args.warmup
    try:
        # Built (and so checked) before a stack starts.
        profile = LoadProfile.constant_rate(args.rate, duration, max_requests=10_000_000, max_in_flight=64)
    except ValueError as exc:
        refuse(ctx, str(exc))
    if warmup >= duration:
        refuse(ctx, "--warmup must be shorter than --duration")
    if warmup <= OUTBOX_KEEP_SECONDS + TTL_SWEEP_SECONDS:
        refuse(ctx, f"--warmup must be longer than the outbox's {OUTBOX_KEEP_SECONDS} s retention "
                    f"and a TTL sweep ({TTL_SWEEP_SECONDS:g} s)")
    try:
        return soak(args, profile, duration, warmup)
    except KeyboardInterrupt:  # the stack was stopped on the way out; the load thread dies with the process
        print("\nbench-soak: interrupted; the local stack is stopped, no verdict", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def soak(args: SimpleNamespace, profile: LoadProfile, duration: float, warmup: float) -> int:
    samples: list[dict[str, Any]] = []
    with local_stack(schedules=True, env={"OUTBOX_KEEP_FINISHED_SECONDS": str(OUTBOX_KEEP_SECONDS)}) as target:
        print(f"local stack at {target.base_url}; {args.rate:g} crud-cycle iterations/s for {duration:g} s, "
              f"start sample after {warmup:g} s", flush=True)
        print(f"cold (before any load): {sample(target, 0)}", flush=True)
        report: dict[str, Any] = {}

        def load() -> None:
            report.update(run_load(target.base_url, load_scenario("crud-cycle"), profile, slos=None, check=True))

        runner = threading.Thread(target=load, name="soak-load", daemon=True)  # Ctrl-C must not wait for it
        started = time.monotonic()
        runner.start()
        interval = (duration - warmup) / (args.samples + 1)
        for index in range(args.samples + 1):
            time.sleep(max(0.0, started + warmup + index * interval - time.monotonic()))
            if not runner.is_alive():
                break
            samples.append(sample(target, time.monotonic() - started))
            print(f"{'start:' if index == 0 else '      '} {samples[-1]}", flush=True)
        runner.join()
        samples.append(sample(target, time.monotonic() - started))
        print(f"end:   {samples[-1]}", flush=True)

    first, last = samples[0], samples[-1]
    latency, rate = report.get("latency_ms", {}), report.get("rate", {})
    print(f"\nload: {report.get('requests', {}).get('completed')} requests, {rate.get('achieved_rps')} req/s, "
          f"p95 {latency.get('p95_ms')} ms, p99 {latency.get('p99_ms')} ms, statuses {report.get('statuses')}")
    for verdict in report.get("slo", []):
        print(f"SLO {verdict['slo']}: measured {verdict.get('measured')}, objective {verdict['objective']}, "
              f"met {verdict['met']}")
    integrity = report.get("integrity") or {}
    print(f"integrity ok: {integrity.get('ok')} (missing {integrity.get('missing_count')}, "
          f"extra {integrity.get('extra_count')})")
    print(f"evaluator run time: {first['evaluator_s']} s at start, {last['evaluator_s']} s at end")
    print(f"dashboard read time: {first['dashboard_s']} s at start, {last['dashboard_s']} s at end")
    print(f"stack resident memory: {first['rss_mib']} MiB at start, {last['rss_mib']} MiB at end")
    problems = []
    if last["evaluator_s"] > first["evaluator_s"] * MAX_GROWTH + EVALUATOR_SLACK_SECONDS:
        problems.append("the evaluator's run time grew")
    if last["dashboard_s"] > first["dashboard_s"] * MAX_GROWTH + EVALUATOR_SLACK_SECONDS:
        problems.append("the dashboard's read time grew")
    hours = (last["elapsed_s"] - first["elapsed_s"]) / 3600
    growth_mib = last["rss_mib"] - first["rss_mib"]
    print(f"memory growth: {growth_mib:.1f} MiB in {hours * 60:.0f} min "
          f"(allowed {RSS_SLACK_MIB + MAX_RSS_GROWTH_MIB_PER_HOUR * hours:.1f})")
    if growth_mib > RSS_SLACK_MIB + MAX_RSS_GROWTH_MIB_PER_HOUR * hours:
        problems.append("the stack's memory grew")
    if not integrity.get("ok"):
        problems.append("the integrity check failed")
    print("; ".join(problems) if problems else "flat: evaluator run time, dashboard read time and memory")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
