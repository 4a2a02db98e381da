"""`make report` (`python -m bench._report`): every benchmark and the reliability figures, one table.

In one run: ``python -m bench`` (every benchmark of this folder), the reliability suite
(tests/e2e/test_reliability.py: faults during load, the integrity check after each) and the
detection test (tests/e2e/test_detection.py: a full outage of the users table, the delay until
the first page). Each records its headline numbers (bench/_figures.py); the table at the end
puts them side by side with their targets. The outputs of the three stages are kept in the
folder printed at the start. Exit status 1 when a stage failed or a target was missed.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from bench._command import run_to_the_end
from bench._figures import FIGURES_VARIABLE, read
from tools.loadgen.report import EXIT_INTERRUPTED

ROOT = Path(__file__).resolve().parent.parent
E2E = ("tests/e2e/test_reliability.py", "tests/e2e/test_detection.py")


def _stage(title: str, command: list[str], env: dict[str, str], log: Path) -> int:
    print(f"== {title}: {' '.join(command)} (output in {log})", flush=True)
    with open(log, "w", encoding="utf-8") as out:
        code = run_to_the_end(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    print(f"   exit {code}", flush=True)
    return code


def _verdict(met: Optional[bool]) -> str:
    return {True: "[green]met[/]", False: "[red]NOT met[/]", None: "-"}[met]


def rows(bench: list[dict[str, Any]], reliability: list[dict[str, Any]],
         detection: list[dict[str, Any]]) -> Iterable[tuple[str, str, str, str, str]]:
    """(section, measure, figure, target, verdict) for the table."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for figure in bench:
        by_name.setdefault(figure["benchmark"], []).append(figure)

    def one(name: str) -> Optional[dict[str, Any]]:
        return by_name.get(name, [None])[-1]

    if (middleware := one("middleware")):
        yield ("overhead", "middleware (GET /health/live in-process)",
               f"{middleware['ratio']:.2f}x, +{middleware['added_us']:.0f} us/request", "<= 1.15x or < 100 us",
               _verdict(middleware["met"]))
    if (cold := one("cold_start")):
        yield ("overhead", "cold-start imports vs bare Chalice + boto3",
               f"{cold['ratio']:.2f}x ({cold['import_ms']:.0f} ms vs {cold['bare_ms']:.0f} ms)", "<= 1.5x",
               _verdict(cold["met"]))
    if (package := one("lambda_package")):
        yield ("overhead", "Lambda package size", f"{package['megabytes']:.2f} MB ({package['ratio']:.2f} of limit)",
               "< 10 MB", _verdict(package["met"]))
    for evaluator in by_name.get("slo_evaluator", []):
        yield ("overhead", f"SLO evaluator, {evaluator['slos']} SLOs x {evaluator['history_days']} d history",
               f"naive reads {evaluator['items_read_ratio']:.0f}x the items, takes {evaluator['wall_ratio']}x the time",
               "rollups cheaper", _verdict(evaluator["items_read_ratio"] > 1))
    if (breakers := one("breakers")):
        yield ("overhead", "breaker around a GetItem vs unprotected",
               f"{breakers['ratio']:.3f}x; breaker alone {breakers['breaker_alone_us']:.1f} us/call; "
               f"{breakers['reads_per_1000_calls']:.2f} state reads per 1000 calls", "-", "-")
    if (lookup := one("chaos_lookup")):
        yield ("overhead", "fault lookup, nothing active", f"{lookup['ratio']:.3f}x, +{lookup['added_us']:.2f} us/request",
               "< 5 us", _verdict(lookup["met"]))
    for load in by_name.get("user_api_load", []):
        rps, p95 = load["rps"], load["p95_ms"]
        yield ("throughput", f"{load['workload']}: req/s (p95 ms)",
               f"in-memory {rps['memory']:.0f} ({p95['memory']:.0f}), stack {rps['stack']:.0f} ({p95['stack']:.0f}), "
               f"ECS {rps['ecs']:.0f} ({p95['ecs']:.0f}), Flask+SQLite {rps['flask']:.0f} ({p95['flask']:.0f})",
               "-", "-")
        yield ("throughput", f"{load['workload']}: stack / in-memory, stack / peer",
               f"{load['stack_to_ceiling']:.2f}x, {load['stack_to_peer']:.2f}x", ">= 0.5x ceiling, p95 < 200 ms",
               _verdict(load["stack_to_ceiling"] >= 0.5 and p95["stack"] < 200))
        yield ("throughput", f"{load['workload']}: ECS / in-memory, ECS / peer",
               f"{load['ecs_to_ceiling']:.2f}x, {load['ecs_to_peer']:.2f}x", ">= 1.5x peer, lower p95",
               _verdict(load["ecs_to_peer"] >= 1.5 and p95["ecs"] < p95["flask"]))
    for found in detection:
        delay = found.get("first_slo_page_s")
        yield ("detection", "users table deleted under load: first SLO page",
               f"{delay:.0f} s (first page of any kind {found.get('first_page_s')} s)" if delay is not None
               else "no SLO page", f"<= {found['budget_s']} s",
               _verdict(delay is not None and delay <= found["budget_s"]))
    for run in reliability:
        integrity = run["integrity"]
        errors = sum(count for status, count in run["statuses"].items() if not status.isdigit() or status >= "500")
        yield ("integrity", f"{run['variant']}: {run['fault']}",
               f"{run['requests']} requests, {errors} 5xx/unanswered in the fault window; "
               f"{integrity['stored_as_sent']} of {integrity['checked_present']} writes present, "
               f"{integrity['gone']} of {integrity['checked_gone']} deletes gone, "
               f"{integrity['checked_conflicts']} 409s real; SLO bad events {run['slo_bad_events']['success']} "
               f"(success), {run['slo_bad_events']['latency']} (latency)",
               "nothing lost, recovers by itself", _verdict(integrity["ok"]))


def markdown(columns: Sequence[str], found: Iterable[tuple[str, ...]]) -> str:
    from rich.text import Text

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(Text.from_markup(cell).plain.replace("|", "/") for cell in row) + " |" for row in found]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    import argparse

    # No options: a --help (or a typo) must not start a run of every benchmark and the reliability suite.
    argparse.ArgumentParser(prog="python -m bench._report", description=__doc__.split("\n\n")[0]).parse_args(argv)
    try:
        return report()
    except KeyboardInterrupt:  # the stages' processes got the same Ctrl-C and stop with their stacks
        print("\nreport: interrupted; no table", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def report() -> int:
    from rich.console import Console
    from rich.table import Table

    folder = Path(tempfile.mkdtemp(prefix="serverless-sre-report-"))
    files = {"bench": folder / "bench.jsonl", "reliability": folder / "reliability.jsonl",
             "detection": folder / "detection.jsonl"}
    env = {**os.environ, FIGURES_VARIABLE: str(files["bench"]), "RELIABILITY_FIGURES": str(files["reliability"]),
           "DETECTION_FIGURES": str(files["detection"]), "PYTHONUNBUFFERED": "1"}
    print(f"report: figures and outputs in {folder}", flush=True)
    failed = []
    if _stage("benchmarks", [sys.executable, "-m", "bench"], env, folder / "bench.txt"):
        failed.append("benchmarks (a target was missed or a benchmark failed; see bench.txt)")
    if _stage("reliability and detection", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *E2E],
              env, folder / "e2e.txt"):
        failed.append("reliability or detection tests (see e2e.txt)")

    table = Table(title="serverless-sre report (make report)", show_lines=False)
    columns = ("", "measure", "figure", "target", "verdict")
    for column in columns:
        table.add_column(column, overflow="fold")
    found = list(rows(read(str(files["bench"])), read(str(files["reliability"])), read(str(files["detection"]))))
    for row in found:
        table.add_row(*row)
    console = Console(width=max(160, Console().width))
    console.print(table)
    (folder / "report.md").write_text(markdown(columns, found), encoding="utf-8")
    console.print(f"the same table in Markdown (for the README): {folder / 'report.md'}")
    for failure in failed:
        console.print(f"[red]failed:[/] {failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
