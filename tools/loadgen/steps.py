"""Step mode: constant arrival rates, one step after another, until an SLO objective breaks.

Each step is an open-model run at one rate (latency counted from each request's scheduled
start, so queueing shows), judged against the SLO objectives like any run. The ramp stops at
the first step that misses one, or that the server could not keep up with (fewer than
``MIN_ACHIEVED_SHARE`` of the offered requests completed, or iterations dropped because
``max_in_flight`` requests were outstanding): the rate of the step before is the highest that held.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Optional

from tools.loadgen.profile import (
    MAX_DURATION_SECONDS, MAX_SCHEDULED_ITERATIONS, LoadProfile, parse_duration, short_count)
from tools.loadgen.scenario import Scenario

MIN_ACHIEVED_SHARE = 0.9  # of the offered rate, for a step to count as served
MAX_DROPPED_SHARE = 0.01
MAX_STEPS = 1000


@dataclass(frozen=True)
class StepRamp:
    start_rps: float
    step_rps: float
    max_rps: float
    step_seconds: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(value) for value in (self.start_rps, self.step_rps, self.max_rps, self.step_seconds)):
            raise ValueError("a ramp's rates and step duration must be finite numbers")
        if self.start_rps <= 0 or self.step_rps <= 0 or self.max_rps < self.start_rps or self.step_seconds <= 0:
            raise ValueError("steps need 0 < start <= max, a positive step and a positive step duration")
        # As a float first: a tiny step (1:1e-310:2) made a count no int() could take, or one of 300 digits.
        steps = self._steps_as_float()
        if not steps <= MAX_STEPS or steps * self.step_seconds > MAX_DURATION_SECONDS:
            raise ValueError(f"a ramp has at most {MAX_STEPS} steps and lasts at most {MAX_DURATION_SECONDS // 3600}h;"
                             f" this one has {short_count(steps)} steps of {self.step_seconds:g}s")
        if not self.max_rps * self.step_seconds <= MAX_SCHEDULED_ITERATIONS:
            raise ValueError(f"a step sends at most 10^9 requests (rate x step duration); one at the maximum rate "
                             f"would send {short_count(self.max_rps * self.step_seconds)}")

    @classmethod
    def parse(cls, text: str, step_duration: str | float) -> "StepRamp":
        """``5:5:50``: from 5 requests/s, 5 more each step, up to 50."""
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"not a ramp: {text!r} (use START:STEP:MAX, e.g. 5:5:50)")
        try:
            start, step, maximum = (float(part) for part in parts)
        except ValueError:
            raise ValueError(f"not a ramp: {text!r} (use START:STEP:MAX, e.g. 5:5:50)") from None
        return cls(start, step, maximum, parse_duration(step_duration))

    def _steps_as_float(self) -> float:
        ratio = (self.max_rps - self.start_rps) / self.step_rps + 1e-9
        return math.floor(ratio) + 1.0 if math.isfinite(ratio) else ratio

    @property
    def step_count(self) -> int:
        return int(self._steps_as_float())

    def rates(self) -> list[float]:
        return [round(self.start_rps + index * self.step_rps, 6) for index in range(self.step_count)]


def check_one_request_per_iteration(scenario: Scenario) -> None:
    """Steps offer requests/s (the saturation point's unit), so each iteration must be one request: an
    iteration with follow-ups is several, and a step of 5 iterations/s of crud-mix sent 10-15 requests/s."""
    chained = sorted(spec.name for spec in scenario.requests if len(spec.steps) > 1)
    if chained:
        raise ValueError(f"step mode offers requests/s, and scenario {scenario.name} sends more than one request "
                         f"per iteration ({', '.join(chained)} with follow-ups); use one whose requests stand alone "
                         "(users-list, health-live)")


def _judge(summary: dict[str, Any], offered: float, step_seconds: float) -> Optional[str]:
    """Why the step broke, or None when it held."""
    missed = [verdict for verdict in summary["slo"] if verdict["met"] is False]
    if missed:
        return "; ".join(f"{verdict['slo']} ({verdict['kind']}) measured {verdict['measured']} "
                         f"against {verdict['objective']}" for verdict in missed)
    if all(verdict["met"] is None for verdict in summary["slo"]):
        return "no valid requests to judge"
    expected = offered * step_seconds
    dropped = summary["requests"]["dropped_iterations"]
    if dropped > MAX_DROPPED_SHARE * expected:
        return f"{dropped} iterations dropped: {summary['profile']['max_in_flight']} requests were outstanding"
    if summary["requests"]["completed"] < MIN_ACHIEVED_SHARE * expected:
        return (f"served {summary['requests']['completed']} of {expected:.0f} offered requests "
                f"(below {MIN_ACHIEVED_SHARE:.0%})")
    return None


def step_record(summary: dict[str, Any], offered: float, broke: Optional[str]) -> dict[str, Any]:
    latency = summary["latency_ms"]
    achieved = summary["rate"]["achieved_rps"]
    mean_seconds = (summary["service_time_ms"].get("mean_ms") or 0) / 1000
    return {"offered_rps": offered, "achieved_rps": achieved, "completed": summary["requests"]["completed"],
            "p50_ms": latency.get("p50_ms"), "p99_ms": latency.get("p99_ms"), "mean_ms": latency.get("mean_ms"),
            # Little's law: requests in flight on average = arrival rate x time in the system. Each request
            # in flight is one Lambda execution, so this is the concurrency the step used.
            "concurrency": round(achieved * mean_seconds, 3),
            "slo": summary["slo"], "held": broke is None, "broke": broke}


async def run_steps_async(base_url: str, scenario: Scenario, ramp: StepRamp, *,
                          slos: Optional[Iterable[Any]] = None, max_in_flight: int = 256, timeout: float = 10.0,
                          seed: Optional[int] = None, interruptible: bool = False,
                          on_ramp_start: Optional[Callable[[str], None]] = None) -> dict[str, Any]:
    """Run the ramp; returns every step and the highest rate that held the objectives. Then what the
    steps stored (the first step's seed data, what each created) is deleted, as ``loadgen --cleanup``
    does, when the scenario says how (``cleanup`` in the result).

    ``interruptible`` (the command line): Ctrl-C ends the ramp at the step it interrupts, which is
    not judged (``interrupted`` in the result), and the cleanup still runs; a second Ctrl-C stops it.
    A failed setup request ends the ramp before its first step's load (``setup_failures`` in the
    result): each step would measure a service without the scenario's seed data. The cleanup still runs.
    ``on_ramp_start``: called with the ramp's run id before the first step (the command line prints it
    then: a ramp lasts minutes, and its requests carry the id).
    """
    from tools.loadgen import run_load_async
    from tools.loadgen.cleanup import CleanupReport, clean_up_until_ctrl_c
    from tools.loadgen.engine import after_run_headers, new_run_id
    from tools.loadgen.integrity import Ledger, after_run_timeout

    check_one_request_per_iteration(scenario)
    # One id for the ramp: each step's run id starts with it, and the cleanup's requests carry it.
    ramp_id = new_run_id()
    if on_ramp_start is not None:
        on_ramp_start(ramp_id)
    stored = Ledger()
    objectives = list(slos) if slos is not None else None
    steps = []
    broke_at: Optional[dict[str, Any]] = None
    interrupted_at: Optional[float] = None
    setup_failures = 0
    for number, rate in enumerate(ramp.rates(), start=1):
        expected = rate * ramp.step_seconds
        profile = LoadProfile.constant_rate(rate, ramp.step_seconds, max_requests=int(expected * 1.2) + 10,
                                            max_in_flight=max_in_flight, timeout=timeout)
        summary = await run_load_async(base_url, scenario, profile, slos=objectives, seed=seed, ledger=stored,
                                       run_id=f"{ramp_id}-step{number}", interruptible=interruptible,
                                       load_after_failed_setup=False)
        # The seed data is stored once, by the first step: each step storing it again grew the table
        # by its setup (users-list: 100 users a step), so later steps measured a larger service.
        scenario = replace(scenario, setup=())
        if summary["interrupted"]:
            interrupted_at = rate
            break
        if summary["requests"]["setup_failures"]:
            setup_failures = summary["requests"]["setup_failures"]
            break
        broke = _judge(summary, rate, ramp.step_seconds)
        steps.append(step_record(summary, rate, broke))
        if broke is not None:
            broke_at = steps[-1]
            break
    cleanup = None
    if scenario.cleanup is not None:
        report = CleanupReport.of(stored)
        await clean_up_until_ctrl_c(base_url, scenario.cleanup, stored, report, interruptible=interruptible,
                                    headers=after_run_headers(scenario, ramp_id, "cleanup"),
                                    timeout=after_run_timeout(timeout))
        cleanup = report.summary()
    held = [step for step in steps if step["held"]]
    highest = held[-1] if held else None
    if interrupted_at is not None:
        ended = f"interrupted (Ctrl-C) during the step at {interrupted_at:g} requests/s, which was not judged"
    elif setup_failures:
        ended = (f"setup: {setup_failures} setup requests failed, so the ramp did not start (its steps would have "
                 "measured a service without the scenario's seed data)")
    elif broke_at is not None:
        ended = broke_at["broke"]
    else:
        ended = f"held every step up to {ramp.max_rps:g} requests/s: the saturation point is above the ramp"
    return {"run_id": ramp_id, "scenario": scenario.name, "target": base_url,
            "ramp": {"start_rps": ramp.start_rps, "step_rps": ramp.step_rps, "max_rps": ramp.max_rps,
                     "step_seconds": ramp.step_seconds},
            "steps": steps,
            "highest_holding_rps": highest["offered_rps"] if highest else None,
            "concurrency_at_highest": highest["concurrency"] if highest else None,
            "breaking_rps": broke_at["offered_rps"] if broke_at else None,
            "breaking_reason": ended, "interrupted": interrupted_at is not None, "setup_failures": setup_failures,
            "cleanup": cleanup}


def run_steps(base_url: str, scenario: Scenario, ramp: StepRamp, **kwargs: Any) -> dict[str, Any]:
    import asyncio

    return asyncio.run(run_steps_async(base_url, scenario, ramp, **kwargs))
