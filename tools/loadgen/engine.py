"""Sending the load: asyncio + aiohttp, one event loop, keep-alive connections.

Open model (as k6's constant/ramping-arrival-rate, wrk2 and vegeta): iterations start on a
schedule whatever the server does, and each first request's latency counts from the moment
it was due, so a stalled server shows its stall (coordinated omission corrected). Closed
model: a number of clients, each starting its next iteration when the previous one ends.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from tools.loadgen.integrity import Ledger
from tools.loadgen.profile import OPEN, LoadProfile
from tools.loadgen.scenario import MissingValue, RequestSpec, Scenario, render
from tools.loadgen.stats import Outcome, Recorder

CORRELATION_HEADER = "X-Correlation-Id"
SETUP_CONCURRENCY = 8


def new_run_id() -> str:
    return f"lg-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def after_run_headers(scenario: Scenario, run_id: str, purpose: str) -> Any:
    """The scenario's headers for requests made after the load (``purpose``: e.g. cleanup), tagged
    with the run id as the load's are (a ramp's: the id its steps' ids start with)."""
    from multidict import CIMultiDict

    context = {"run_id": run_id, "seq": 0, "unique": f"{run_id}-{purpose}"}
    headers = CIMultiDict(render(dict(scenario.headers), context))
    headers.setdefault(CORRELATION_HEADER, f"{run_id}-{purpose}")
    headers.setdefault("User-Agent", f"serverless-sre-loadgen ({run_id})")
    return headers


@dataclass
class Progress:
    """What the live display reads while the run goes on."""

    started: float = 0.0
    duration: float = 0.0
    sent: int = 0
    iterations: int = 0  # of the load (not the setup): a request and its follow-ups
    dropped: int = 0
    cancelled: int = 0  # sent, but the run ended (its end or Ctrl-C) before the answer came
    skipped: int = 0
    # (request, placeholder) -> iterations that stopped there: the placeholder named a value the answer lacked
    skipped_because: Counter = field(default_factory=Counter)
    in_flight: int = 0
    phase: str = "starting"
    finished: bool = False

    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0


@dataclass
class RunResult:
    run_id: str
    base_url: str
    scenario: Scenario
    profile: LoadProfile
    recorder: Recorder
    progress: Progress
    ledger: Ledger
    wall_seconds: float
    started_at: str
    setup_failures: int = 0
    interrupted: bool = False  # stopped early (Ctrl-C): fewer requests than the profile asked for
    extras: dict[str, Any] = field(default_factory=dict)


def _needs_answer(spec: RequestSpec) -> set[str]:
    """Names of the steps whose answer a later template (or the integrity check) reads."""
    needed = set()
    for step in spec.steps:
        if step.records:
            needed.add(step.name)
    templates = json.dumps([[step.path, step.headers, step.json_body, step.id_template] for step in spec.steps])
    for step in spec.steps:
        if f"${{{step.name}." in templates:
            needed.add(step.name)
    return needed


class Runner:
    def __init__(self, base_url: str, scenario: Scenario, profile: LoadProfile, *, run_id: Optional[str] = None,
                 recorder: Optional[Recorder] = None, seed: Optional[int] = None,
                 ledger: Optional[Ledger] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.scenario = scenario
        self.profile = profile
        self.run_id = run_id or new_run_id()
        self.recorder = recorder or Recorder()
        self.progress = Progress(duration=profile.duration)
        self.ledger = ledger if ledger is not None else Ledger()
        self._rng = random.Random(seed)
        self._seq = itertools.count(1)
        self._needs = {spec.name: _needs_answer(spec) for spec in (*scenario.setup, *scenario.requests)}
        self._session: Any = None
        self._stop = asyncio.Event()
        self.setup_failures = 0

    def stop(self) -> None:
        """End the run early (Ctrl-C): no new iterations; those in flight finish."""
        self._stop.set()

    def after_run_headers(self, purpose: str) -> Any:
        return after_run_headers(self.scenario, self.run_id, purpose)

    # ------------------------------------------------------------------ one request
    async def _send(self, step: RequestSpec, context: dict[str, Any], due: float, seq: int, index: int,
                    keep_answer: bool) -> tuple[Optional[Outcome], Optional[dict[str, Any]]]:
        import aiohttp
        from multidict import CIMultiDict

        try:
            path = render(step.path, context)
            # Header names ignore case: a scenario's x-correlation-id was sent beside the run's X-Correlation-Id.
            headers = CIMultiDict(render(dict(self.scenario.headers), context))
            headers.update(render(dict(step.headers), context))
            body = render(step.json_body, context) if step.has_body else None
        except MissingValue as missing:
            self.progress.skipped += 1
            self.progress.skipped_because[(step.name, missing.placeholder)] += 1
            return None, None
        headers.setdefault(CORRELATION_HEADER, f"{self.run_id}-{seq}-{index}")
        headers.setdefault("User-Agent", f"serverless-sre-loadgen ({self.run_id})")
        self.progress.sent += 1
        self.progress.in_flight += 1
        sent_at = time.monotonic()
        status, error, answer, retry_after = 0, None, None, False
        try:
            async with self._session.request(step.method, self.base_url + path, json=body if step.has_body else None,
                                             headers=headers) as response:
                raw = await response.read()
                status = response.status
                retry_after = "Retry-After" in response.headers
                if keep_answer:
                    answer = {"status": status, "headers": dict(response.headers), "json": _json_or_none(raw)}
                elif not step.accepts(status):
                    answer = {"body": raw[:300].decode("utf-8", "replace")}
        except asyncio.TimeoutError:
            error = f"timeout after {self.profile.timeout:g}s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        except asyncio.CancelledError:
            self.progress.cancelled += 1
            # The open model cancels iterations still running well after its end. The service may have
            # done this write: unrecorded, the check read a delete as a lost resource, an update as a change.
            if step.records:
                self.ledger.note(step, context, body, None, self.scenario.integrity)
            raise
        finally:
            self.progress.in_flight -= 1
        done = time.monotonic()
        ok = error is None and step.accepts(status)
        detail = error
        if not ok and error is None:
            detail = f"{step.method} {path} -> {status} {(answer or {}).get('body', '')}".strip()[:300]
        outcome = Outcome(name=step.name, status=status, latency_us=int((done - due) * 1e6),
                          service_time_us=int((done - sent_at) * 1e6), ok=ok, error=detail, finished_at=done,
                          retry_after=retry_after)
        if step.records:
            self.ledger.note(step, context, body, answer if status else None, self.scenario.integrity)
        return outcome, answer

    # ------------------------------------------------------------------ one iteration
    async def _iteration(self, spec: RequestSpec, due: float, record: bool = True) -> bool:
        seq = next(self._seq)
        if record:
            self.progress.iterations += 1
        context: dict[str, Any] = {"run_id": self.run_id, "seq": seq, "unique": f"{self.run_id}-{seq}"}
        needs = self._needs[spec.name]
        all_ok = True
        for index, step in enumerate(spec.steps):
            if index and step.probability < 1 and self._rng.random() >= step.probability:
                continue
            if record and self.progress.sent >= self.profile.max_requests:
                return all_ok
            outcome, answer = await self._send(step, context, due if index == 0 else time.monotonic(), seq, index,
                                               step.name in needs)
            if outcome is None:
                return False
            if record:
                self.recorder.record(outcome)
            if answer is not None:
                context[step.name] = answer
            if not outcome.ok:
                return False  # the rest of the iteration depends on this answer
            all_ok = all_ok and outcome.ok
        return all_ok

    # ------------------------------------------------------------------ models
    def _over(self) -> bool:
        return (self._stop.is_set() or self.progress.elapsed() >= self.profile.duration
                or self.progress.sent >= self.profile.max_requests)

    async def _open_model(self) -> None:
        slots = asyncio.Semaphore(self.profile.max_in_flight)
        tasks: set[asyncio.Task] = set()
        end = self.progress.started + self.profile.duration

        async def arrival(spec: RequestSpec, due: float) -> None:
            async with slots:
                if time.monotonic() >= end or self._stop.is_set():
                    self.progress.dropped += 1
                    return
                await self._iteration(spec, due)

        # Every iteration sends at least its first request, so one beyond max_requests could never send
        # anything: scheduling stops there. A rate the loop cannot keep up with (--rate 1e7) left every
        # arrival due already, and the loop created tasks without yielding, none of which could send:
        # memory grew until the duration had passed, whatever --max-requests said.
        for index in range(self.profile.max_requests):
            offset = self.profile.arrival_time(index)
            if offset is None or self._stop.is_set() or self.progress.sent >= self.profile.max_requests:
                break
            due = self.progress.started + offset
            if time.monotonic() >= end:  # behind schedule at the end: what is left can no longer start
                due_in_run = math.ceil(self.profile.arrivals_by(self.profile.duration) - 1e-9)
                self.progress.dropped += max(0, min(due_in_run, self.profile.max_requests) - index)
                break
            delay = due - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                    break
                except asyncio.TimeoutError:
                    pass
            else:
                await asyncio.sleep(0)  # behind schedule: let the iterations already due send
            task = asyncio.create_task(arrival(self.scenario.pick(self._rng), due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=self.profile.timeout * 2 + 1)
        for task in tasks:
            task.cancel()
        # The run lasts its duration, as k6's arrival-rate executors do: ended at its last answer, a run of
        # 10 arrivals over 1 s took 0.9 s, and its achieved rate said 11/s of the 10/s offered.
        remaining = end - time.monotonic()
        if remaining > 0 and self.progress.sent < self.profile.max_requests:
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass

    async def _closed_model(self) -> None:
        async def client(number: int) -> None:
            while not self._over():
                if number >= self.profile.target_at(self.progress.elapsed()):
                    await asyncio.sleep(0.05)  # this client is not (yet, or any more) part of the stage
                    continue
                await self._iteration(self.scenario.pick(self._rng), time.monotonic())

        await asyncio.gather(*(client(number) for number in range(int(round(self.profile.peak)))))

    async def _setup(self) -> None:
        """Send the setup requests, bounded by their repeat counts. One failure already fails the run
        (exit 98), so none is sent after it; those in flight finish. Sending on took a server that never
        answers 100 timeouts' worth (~29 s at --timeout 2) to say what its first had said."""
        self.progress.phase = "setup"
        for spec in self.scenario.setup:
            counter = itertools.count()

            async def worker(spec: RequestSpec = spec, counter: itertools.count = counter) -> None:
                while not self._setup_over() and next(counter) < spec.repeat:
                    if not await self._iteration(spec, time.monotonic(), record=False):
                        self.setup_failures += 1

            await asyncio.gather(*(worker() for _ in range(min(SETUP_CONCURRENCY, spec.repeat))))
        self.progress.sent = 0
        self.progress.cancelled = 0
        self.progress.skipped = 0
        self.progress.skipped_because.clear()

    def _setup_over(self) -> bool:
        return self._stop.is_set() or self.setup_failures > 0

    async def _load(self, on_start: Optional[Callable[[], None]]) -> float:
        """The measured load; returns how long it lasted, in seconds."""
        self.progress.phase = "load"
        self.progress.started = time.monotonic()
        self.recorder.origin = self.progress.started
        if on_start is not None:
            on_start()
        if self.profile.model == OPEN:
            await self._open_model()
        else:
            await self._closed_model()
        return time.monotonic() - self.progress.started

    async def run(self, on_start: Optional[Callable[[], None]] = None, *,
                  load_after_failed_setup: bool = True) -> RunResult:
        """Setup, then the load (not sent after a failed setup request unless ``load_after_failed_setup``)."""
        import aiohttp

        started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        connector = aiohttp.TCPConnector(limit=max(self.profile.max_in_flight, int(self.profile.peak) + 1),
                                         limit_per_host=0, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=self.profile.timeout)
        wall = 0.0
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            self._session = session
            await self._setup()
            if load_after_failed_setup or not self.setup_failures:
                wall = await self._load(on_start)
            self.progress.phase = "done"
            self.progress.finished = True
        return RunResult(run_id=self.run_id, base_url=self.base_url, scenario=self.scenario, profile=self.profile,
                         recorder=self.recorder, progress=self.progress, ledger=self.ledger, wall_seconds=wall,
                         started_at=started_at, setup_failures=self.setup_failures,
                         interrupted=self._stop.is_set())


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
