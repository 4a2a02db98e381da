"""The load generator: scenarios (YAML/JSON), open and closed models, HDR latencies, SLO verdicts, integrity.

As a library (bench, chaos experiments and the capacity test use it)::

    from tools.loadgen import LoadProfile, load_scenario, run_load

    report = run_load("http://127.0.0.1:8000", load_scenario("crud-mix"),
                      LoadProfile.concurrency(8, "30s"), thresholds=["p95<200"], check=True)
    report["latency_ms"]["p95_ms"], report["slo"], report["integrity"]

From a shell: ``loadgen --help`` (installed into the venv by ``make``), or ``make load``.
"""
from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Mapping, Optional, TypeVar
from urllib.parse import urlsplit

from tools.loadgen.profile import CLOSED, OPEN, LoadProfile, Stage, parse_duration
from tools.loadgen.scenario import Scenario, ScenarioError, load_scenario, parse_scenario, shipped_scenarios

if TYPE_CHECKING:
    from tools.loadgen.engine import Runner

T = TypeVar("T")
__all__ = ["CLOSED", "OPEN", "LoadProfile", "Scenario", "ScenarioError", "Stage", "check_base_url", "check_thresholds",
           "load_scenario", "parse_duration", "parse_scenario", "run_load", "run_load_async", "shipped_scenarios"]


def check_base_url(base_url: str) -> None:
    try:
        address = urlsplit(base_url)
        address.port  # noqa: B018 (raises for a port that is no number or out of range)
    except ValueError as exc:  # "Invalid IPv6 URL" alone did not say which option was wrong
        raise ValueError(f"base URL {base_url!r}: {exc}") from None
    if address.scheme not in ("http", "https") or not address.hostname:
        raise ValueError(f"base URL must be http:// or https:// and name a host, not {base_url!r}")
    if address.query or address.fragment or base_url.rstrip().endswith(("?", "#")):
        # Paths are appended to it: http://host/?x=1 sent every request to / with a longer query.
        raise ValueError(f"base URL must end with a host or a path, not a query or fragment: {base_url!r}")


def check_thresholds(scenario: Scenario, thresholds: Iterable[str]) -> None:
    """Refuse a malformed threshold, or one naming a request the scenario does not have, before any load."""
    from tools.loadgen.report import parse_threshold

    names = sorted({step.name for spec in scenario.requests for step in spec.steps})
    for expression in thresholds:
        request = parse_threshold(expression)[0]
        if request is not None and request not in names:
            raise ValueError(f"threshold {expression!r}: scenario {scenario.name} has no request named {request!r} "
                             f"(its requests: {', '.join(names)})")


async def run_load_async(base_url: str, scenario: Scenario, profile: LoadProfile, *,
                         thresholds: Iterable[str] = (), check: bool = False, cleanup: bool = False,
                         slos: Optional[Iterable[Any]] = None, run_id: Optional[str] = None,
                         seed: Optional[int] = None, console: Any = None,
                         after_run_headers: Optional[Mapping[str, str]] = None, ledger: Any = None,
                         interruptible: bool = False,
                         on_start: Optional[Callable[[], None]] = None,
                         load_after_failed_setup: bool = True) -> dict[str, Any]:
    """Run ``scenario`` against ``base_url``; returns the report (see ``report.summarize``).

    ``slos``: objectives to judge (default: those of slos/*.yaml). ``check``: run the integrity
    check afterwards (the scenario must say how). ``cleanup``: then delete what the run created and
    left (the scenario's ``cleanup`` says how). ``after_run_headers``: added to the requests of both.
    ``ledger``: where the run notes what it stored (``integrity.Ledger``; several runs may share one).
    ``console``: a rich Console for the live view.
    ``interruptible``: Ctrl-C ends the run early and still reports (for the command line).
    ``on_start``: called when the load starts, after the setup requests (the reliability tests
    start their fault schedule there: the report's timeline counts seconds from that moment).
    ``load_after_failed_setup``: False sends no load after a failed setup request (the capacity test:
    a rate measured without the seed data is no saturation point); the report then counts no request.
    """
    from tools.loadgen.cleanup import CleanupReport, clean_up_until_ctrl_c
    from tools.loadgen.engine import Runner
    from tools.loadgen.integrity import IntegrityReport, after_run_timeout, check_integrity_async
    from tools.loadgen.report import evaluate_thresholds, objectives_from_slos, summarize
    from tools.loadgen.stats import Recorder

    check_base_url(base_url)
    objectives = list(slos) if slos is not None else objectives_from_slos()
    thresholds = list(thresholds)
    check_thresholds(scenario, thresholds)
    if check and scenario.integrity is None:
        raise ScenarioError(f"scenario {scenario.name} has no integrity section; it cannot be checked "
                            "(run it without --check; `make load` passes --check unless LOAD_ARGS is given)")
    if cleanup and scenario.cleanup is None and scenario.creates():
        raise ScenarioError(f"scenario {scenario.name} has no cleanup section; it cannot clean up after itself "
                            "(run it without --cleanup)")
    recorder = Recorder(tuple(sorted({o.threshold_ms for o in objectives if o.threshold_ms})))
    runner = Runner(base_url, scenario, profile, run_id=run_id, recorder=recorder, seed=seed, ledger=ledger)
    if interruptible:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, runner.stop)
    display = None
    if console is not None:
        from tools.loadgen.display import show_progress

        display = asyncio.create_task(show_progress(runner, console))
    try:
        result = await runner.run(on_start=on_start, load_after_failed_setup=load_after_failed_setup)
    finally:
        runner.progress.finished = True
        if display is not None:
            await display
    timeout_after_run = after_run_timeout(profile.timeout)
    integrity = None
    if check:
        integrity = await until_ctrl_c(check_integrity_async(
            base_url, scenario.integrity, runner.ledger, headers=_tagged(runner, "check", after_run_headers),
            timeout=timeout_after_run), interruptible)
        if integrity is None:  # Ctrl-C during the check: listing a large table takes a while
            integrity = IntegrityReport(uncertain=len(runner.ledger.uncertain),
                                        unacknowledged_creates=runner.ledger.unacknowledged_creates)
            integrity.error = "the check was stopped with Ctrl-C before it judged anything"
            result.interrupted = True
    cleaned = None
    if cleanup:
        # Also after a Ctrl-C that stopped the check (as after one that stopped the load): the cleanup
        # deletes what the run stored, by id, and a second Ctrl-C stops it.
        cleaned = CleanupReport.of(runner.ledger)
        if not await clean_up_until_ctrl_c(base_url, scenario.cleanup, runner.ledger, cleaned,
                                             interruptible=interruptible,
                                             headers=_tagged(runner, "cleanup", after_run_headers),
                                             timeout=timeout_after_run):
            result.interrupted = True
    summary = summarize(result, objectives, integrity, cleaned)
    summary["thresholds"] = evaluate_thresholds(summary, thresholds)
    return summary


def _tagged(runner: Runner, purpose: str, extra: Optional[Mapping[str, str]]) -> Any:
    """The headers of the requests made after the load: the scenario's, tagged with the run id, then ``extra``."""
    headers = runner.after_run_headers(purpose)
    headers.update(extra or {})
    return headers


async def until_ctrl_c(work: Awaitable[T], interruptible: bool) -> Optional[T]:
    """``work``'s result, or None when Ctrl-C stopped it (``interruptible``: the command line)."""
    task = asyncio.ensure_future(work)
    stopped: list[bool] = []
    if interruptible:
        def stop() -> None:
            stopped.append(True)
            task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop)
    try:
        return await task
    except asyncio.CancelledError:
        if not stopped:
            raise
        return None


def run_load(base_url: str, scenario: Scenario, profile: LoadProfile, **kwargs: Any) -> dict[str, Any]:
    """``run_load_async`` for callers without an event loop."""
    return asyncio.run(run_load_async(base_url, scenario, profile, **kwargs))
