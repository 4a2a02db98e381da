"""The end of a run: the summary, the SLO verdict, thresholds (as k6: a failed one fails the run)."""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from tools.loadgen.engine import RunResult
from tools.loadgen.cleanup import CleanupReport
from tools.loadgen.integrity import IntegrityReport
from tools.loadgen.stats import latency_summary

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTEGRITY = 97
EXIT_SETUP = 98  # setup requests failed: the load ran without the data it was to measure against
EXIT_THRESHOLDS = 99  # as k6
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped
_LATENCY_METRIC = re.compile(r"^latency_good_([0-9]+)ms$")
_SUCCESS_METRICS = {"good_availability"}
_THRESHOLD = re.compile(r"^\s*(?:(?P<request>[a-z0-9][a-z0-9-]*)\.)?(?P<metric>[a-z0-9_]+)\s*"
                        r"(?P<op><=|>=|<|>|==)\s*(?P<value>[0-9.]+)\s*$")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}
THRESHOLD_METRICS = ("p50", "p90", "p95", "p99", "max", "mean", "error_rate", "rate", "requests", "dropped")
RUN_ONLY_METRICS = ("rate", "dropped")  # of the whole run: a dropped iteration has no request yet


@dataclass(frozen=True)
class SloObjective:
    """What a load run can judge of an SLO: a latency threshold, or the success (non-5xx) ratio."""

    slo: str
    kind: str  # latency | success
    target: float
    threshold_ms: Optional[int] = None


def objectives_from_slos(directory: Optional[Path] = None) -> list[SloObjective]:
    """The objectives of the shipped SLOs (slos/*.yaml, through the SLO engine's own loader)."""
    from chalicelib.slo.config import load_slos

    objectives = []
    for slo in load_slos(directory):
        names = [ref.name for ref in slo.indicator.metrics()]
        good = slo.indicator.good.metrics() if slo.indicator.good is not None else ()
        latency = [int(match.group(1)) for ref in good if (match := _LATENCY_METRIC.match(ref.name))]
        if latency:
            objectives.append(SloObjective(slo.name, "latency", slo.target, latency[0]))
        elif _SUCCESS_METRICS & set(names) or slo.indicator.good and slo.indicator.good.type_name == "ApiGateway":
            objectives.append(SloObjective(slo.name, "success", slo.target))
    return objectives


def slo_verdict(result: RunResult, objectives: Iterable[SloObjective]) -> list[dict[str, Any]]:
    recorder = result.recorder
    verdicts = []
    for objective in objectives:
        if recorder.valid == 0:
            verdicts.append({"slo": objective.slo, "kind": objective.kind, "objective": objective.target,
                             "met": None, "reason": "no valid (non-4xx) requests"})
            continue
        if objective.kind == "latency":
            under = recorder.valid_under.get(objective.threshold_ms or 0, 0)
            share = under / recorder.valid
            verdicts.append({"slo": objective.slo, "kind": "latency", "threshold_ms": objective.threshold_ms,
                             "objective": objective.target, "measured": round(share, 5),
                             "met": share >= objective.target})
        else:
            error_ratio = recorder.server_errors / recorder.valid
            verdicts.append({"slo": objective.slo, "kind": "success", "objective": objective.target,
                             "error_budget": round(1 - objective.target, 5), "error_ratio": round(error_ratio, 5),
                             "measured": round(1 - error_ratio, 5), "met": 1 - error_ratio >= objective.target})
    return verdicts


def summarize(result: RunResult, objectives: Iterable[SloObjective] = (),
              integrity: Optional[IntegrityReport] = None, cleanup: Optional[CleanupReport] = None) -> dict[str, Any]:
    recorder, progress, profile = result.recorder, result.progress, result.profile
    seconds = max(result.wall_seconds, 1e-9)
    return {
        "run_id": result.run_id, "scenario": result.scenario.name, "target": result.base_url,
        "started_at": result.started_at, "profile": profile.describe(), "duration_s": round(result.wall_seconds, 3),
        "interrupted": result.interrupted,
        "requests": {"sent": progress.sent, "completed": recorder.completed, "cancelled": progress.cancelled,
                     "unexpected": recorder.unexpected,
                     "iterations": progress.iterations,
                     "dropped_iterations": progress.dropped, "skipped": progress.skipped,
                     "skipped_because": [
                         {"request": name, "placeholder": placeholder, "iterations": count,
                          "never_sent": name not in recorder.by_name}
                         for (name, placeholder), count in sorted(progress.skipped_because.items())],
                     "setup_failures": result.setup_failures},
        "rate": {"achieved_rps": round(recorder.completed / seconds, 2),
                 "achieved_iterations_per_s": round(progress.iterations / seconds, 2),
                 "target": round(profile.arrivals_by(profile.duration) / profile.duration, 2)
                 if profile.model == "open" else None},
        "error_rate": round(recorder.unexpected / recorder.completed, 5) if recorder.completed else 0.0,
        "latency_ms": latency_summary(recorder.latency),
        "service_time_ms": latency_summary(recorder.service_time),
        "by_request": {name: stats.summary() for name, stats in sorted(recorder.by_name.items())},
        "statuses": dict(sorted(recorder.statuses.items())),
        "error_samples": recorder.error_samples,
        "refusals_without_retry_after": recorder.refusals_without_retry_after,
        "timeline": recorder.timeline_summary(),
        "slo": slo_verdict(result, objectives),
        "integrity": integrity.summary() if integrity is not None else None,
        "cleanup": cleanup.summary() if cleanup is not None else None,
    }


def threshold_value(summary: dict[str, Any], metric: str, request: Optional[str] = None) -> Optional[float]:
    """The run's figure for a threshold; None for a request the run never sent (nothing to judge)."""
    if request is not None:
        stats = summary["by_request"].get(request)
        if stats is None:
            return None
        if metric in ("requests",):
            return stats["count"]
        if metric == "error_rate":
            return stats["unexpected"] / stats["count"] if stats["count"] else 0.0
        return stats[f"{metric}_ms"]
    if metric in ("p50", "p90", "p95", "p99", "max", "mean"):
        return summary["latency_ms"][f"{metric}_ms"]  # None when nothing was answered
    return {"error_rate": summary["error_rate"], "rate": summary["rate"]["achieved_rps"],
            "requests": summary["requests"]["completed"], "dropped": summary["requests"]["dropped_iterations"]}[metric]


def parse_threshold(expression: str) -> tuple[Optional[str], str, str, float]:
    match = _THRESHOLD.match(expression)
    try:
        value = float(match.group("value")) if match else None
    except ValueError:  # 1.2.3
        value = None
    if value is None or match is None or match.group("metric") not in THRESHOLD_METRICS:
        raise ValueError(f"not a threshold: {expression!r} (e.g. p95<200, error_rate<0.01, rate>=50, "
                         f"list-users.p99<500; metrics: {', '.join(THRESHOLD_METRICS)}; latencies in ms)")
    if match.group("request") is not None and match.group("metric") in RUN_ONLY_METRICS:
        per_request = ", ".join(metric for metric in THRESHOLD_METRICS if metric not in RUN_ONLY_METRICS)
        raise ValueError(f"threshold {expression!r}: {match.group('metric')} is a figure of the whole run; "
                         f"one request's thresholds take {per_request}")
    return match.group("request"), match.group("metric"), match.group("op"), value


def evaluate_thresholds(summary: dict[str, Any], expressions: Iterable[str]) -> list[dict[str, Any]]:
    results = []
    for expression in expressions:
        request, metric, op, limit = parse_threshold(expression)
        value = threshold_value(summary, metric, request)
        if value is None:  # a threshold with nothing to judge fails: it cannot vouch for the run
            results.append({"threshold": expression.strip(), "value": None, "passed": False,
                            "reason": f"no {request} request was sent in this run" if request
                            else "no request was answered in this run"})
            continue
        results.append({"threshold": expression.strip(), "value": value, "passed": _OPS[op](value, limit)})
    return results


def exit_code(summary: dict[str, Any], *, slo_gate: bool = False) -> int:
    if summary.get("interrupted"):  # a partial run passes nothing, whatever its figures say
        return EXIT_INTERRUPTED
    if summary["requests"].get("setup_failures"):  # it measured another service state than it says
        return EXIT_SETUP
    if any(not item["passed"] for item in summary.get("thresholds", [])):
        return EXIT_THRESHOLDS
    if slo_gate and any(item["met"] is False for item in summary.get("slo", [])):
        return EXIT_THRESHOLDS
    if summary.get("integrity") and not summary["integrity"]["ok"]:
        return EXIT_INTEGRITY
    if any(skip["never_sent"] for skip in summary["requests"].get("skipped_because", ())):
        return EXIT_USAGE  # the scenario names a value no answer had: it never did what it says
    return EXIT_OK


def render_text(summary: dict[str, Any], console: Any) -> None:
    """The human report (rich)."""
    from rich.table import Table

    requests, rate = summary["requests"], summary["rate"]
    console.print(f"[bold]{summary['scenario']}[/] against {summary['target']}  run {summary['run_id']}  "
                  f"({summary['profile']['model']} model, {summary['duration_s']:.1f} s)")
    if summary.get("interrupted"):
        console.print("[yellow]interrupted[/]: the run was stopped early; figures cover what was sent until then")
    target = f" of {rate['target']:g}/s scheduled" if rate["target"] is not None else ""
    console.print(f"requests: {requests['completed']} completed, {rate['achieved_rps']:.1f}/s; "
                  f"unexpected {requests['unexpected']} ({summary['error_rate']:.2%}); iterations (a request and "
                  f"its follow-ups) {requests['iterations']}, {rate['achieved_iterations_per_s']:.1f}/s{target}, "
                  f"dropped {requests['dropped_iterations']}, skipped {requests['skipped']}")
    for skip in summary["requests"].get("skipped_because", ()):  # bandit reads requests.get as an HTTP call
        console.print(f"[red]skipped[/] {skip['request']} in {skip['iterations']} iterations: {skip['placeholder']} "
                      "named a value the answer did not have" + ("; it was never sent" if skip["never_sent"] else ""))
    if requests["cancelled"]:
        console.print(f"[yellow]cancelled[/]: {requests['cancelled']} of the requests sent had no answer when the run "
                      "ended; they are in no latency or status figure")
    if requests["setup_failures"]:
        console.print(f"[red]setup[/]: {requests['setup_failures']} setup requests failed (none was sent after the "
                      "first failure); the load ran without the data they were to store")
    table = Table(title="latency (ms)" + (", from the scheduled start" if summary["profile"]["model"] == "open"
                                          else ""))
    for column in ("request", "count", "p50", "p90", "p95", "p99", "max", "unexpected"):
        table.add_column(column, justify="left" if column == "request" else "right")
    rows = [("all", {"count": requests["completed"], "unexpected": requests["unexpected"],
                     **summary["latency_ms"]})] + list(summary["by_request"].items())
    for name, stats in rows:
        table.add_row(name, str(stats["count"]), *("-" if stats[f"{p}_ms"] is None else f"{stats[f'{p}_ms']:.1f}"
                                                   for p in ("p50", "p90", "p95", "p99", "max")),
                      str(stats["unexpected"]))
    console.print(table)
    console.print("statuses: " + ", ".join(f"{status}: {count}" for status, count in summary["statuses"].items()))
    for sample in summary["error_samples"][:5]:
        console.print(f"  [red]error[/] {sample['request']}: {sample['error']}")
    for verdict in summary["slo"]:
        mark = {True: "[green]met[/]", False: "[red]NOT met[/]", None: "[yellow]no data[/]"}[verdict["met"]]
        if verdict.get("measured") is None:
            console.print(f"SLO {verdict['slo']}: {mark} ({verdict['reason']})")
        elif verdict["kind"] == "latency":
            console.print(f"SLO {verdict['slo']}: {verdict['measured']:.2%} of valid requests answered under "
                          f"{verdict['threshold_ms']} ms, objective {verdict['objective']:.2%}: {mark}")
        else:
            console.print(f"SLO {verdict['slo']}: error ratio {verdict['error_ratio']:.3%}, budget "
                          f"{verdict['error_budget']:.2%} (objective {verdict['objective']:.2%}): {mark}")
    for item in summary.get("thresholds", []):
        mark = "[green]pass[/]" if item["passed"] else "[red]FAIL[/]"
        value = item["reason"] if item["value"] is None else f"{item['value']:g}"
        console.print(f"threshold {item['threshold']}: {value} {mark}")
    integrity = summary.get("integrity")
    if integrity:
        state = "[green]ok[/]" if integrity["ok"] else "[red]FAILED[/]"
        console.print(f"integrity {state}: {integrity['checked_present']} acknowledged creates checked: "
                      f"{integrity['stored_as_sent']} stored once as sent; {integrity['checked_gone']} acknowledged "
                      f"deletes checked: {integrity['gone']} gone, {integrity['checked_gone'] - integrity['gone']} "
                      f"still there; {integrity['uncertain']} uncertain, {integrity['unacknowledged_creates']} "
                      f"creates unacknowledged (a 5xx or no answer); missing {integrity['missing_count']}, "
                      f"extra {integrity['extra_count']}")
        if integrity.get("error"):
            console.print(f"  [red]not checked[/] {integrity['error']}")
        for problem in integrity["missing"][:10]:
            console.print(f"  [red]missing[/] {problem}")
        for problem in integrity["extra"][:10]:
            console.print(f"  [red]extra[/] {problem}")
    cleanup = summary.get("cleanup")
    if cleanup:
        complete = not cleanup["failed"] and not cleanup["error"]
        state = "[green]done[/]" if complete else "[yellow]INCOMPLETE[/]"
        unnamed = (f"; {cleanup['unacknowledged_creates']} creates unacknowledged (a 5xx or no answer) may have "
                   "stored what no cleanup can name" if cleanup["unacknowledged_creates"] else "")
        console.print(f"cleanup {state}: {cleanup['deleted']} of the {cleanup['left']} resources the run created "
                      f"and left deleted, {cleanup['already_gone']} already gone, {cleanup['failed']} failed{unnamed}")
        if cleanup.get("error"):
            console.print(f"  [yellow]stopped[/] {cleanup['error']}")
        for failure in cleanup["failures"][:10]:
            console.print(f"  [yellow]not deleted[/] {failure}")
