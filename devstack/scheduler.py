"""Fires the scheduled functions of infra/functions.json, as EventBridge does when deployed."""
from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Optional

log = logging.getLogger("devstack.scheduler")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"unsupported schedule expression {expression!r}: use rate(N minutes|hours|days)")
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    if count < 1:
        raise ValueError(f"schedule {expression!r} must be at least 1")
    return count * _UNIT_SECONDS[unit]


def scheduled_event(function_key: str, now: datetime) -> dict[str, Any]:
    return {"version": "0", "id": f"local-{function_key}-{int(now.timestamp())}", "detail-type": "Scheduled Event",
            "source": "aws.events", "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
            "resources": [f"arn:aws:events:us-east-1:123456789012:rule/serverless-sre-{function_key}"],
            "detail": {}}


class Scheduler:
    """Each function first runs one period after start, then every period; a slow run delays only itself.

    Every run has a thread of its own, as EventBridge invokes each rule's function on its own: a daily
    capacity collection that takes two minutes must not hold back the health probe or the SLO evaluator
    (run one after another, the probe missed its minutes and detection waited). A function whose last
    run is still going is not started again; the period is counted as skipped.
    """

    def __init__(self, schedules: dict[str, str], invoke: Callable[[str, Any], Any],
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 period_overrides: Optional[dict[str, float]] = None) -> None:
        """``period_overrides``: seconds per function key, replacing its rate (a test that measures
        detection delay runs the evaluator more often than the deployed minute)."""
        overrides = dict(period_overrides or {})
        unknown = sorted(set(overrides) - set(schedules))
        if unknown:
            raise ValueError(f"schedule override for unscheduled function(s): {', '.join(unknown)}")
        if any(seconds <= 0 for seconds in overrides.values()):
            raise ValueError("schedule overrides must be positive seconds")
        self._periods = {key: overrides.get(key) or rate_seconds(expression) for key, expression in schedules.items()}
        self._invoke = invoke
        self._clock = clock
        self._wall_clock = wall_clock
        start = clock()
        self._next_due = {key: start + period for key, period in self._periods.items()}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.runs: dict[str, int] = {key: 0 for key in self._periods}
        self.failures: dict[str, int] = {key: 0 for key in self._periods}
        self.skipped: dict[str, int] = {key: 0 for key in self._periods}
        self._running: dict[str, threading.Thread] = {}

    def run_due(self) -> list[str]:
        """Invoke every function that is due now; returns their keys."""
        now = self._clock()
        fired = []
        for key in sorted(self._periods):
            if now < self._next_due[key]:
                continue
            following = self._next_due[key] + self._periods[key]
            # After a stall, fire once and resume the cadence instead of replaying every missed period.
            self._next_due[key] = following if following > now else now + self._periods[key]
            running = self._running.get(key)
            if running is not None and running.is_alive():
                self.skipped[key] += 1
                log.warning("scheduled function %s skipped: its last run is still going", key)
                continue
            fired.append(key)
            thread = threading.Thread(target=self._run, args=(key, scheduled_event(key, self._wall_clock())),
                                      name=f"devstack-schedule-{key}", daemon=True)
            self._running[key] = thread
            thread.start()
        return fired

    def _run(self, key: str, event: dict[str, Any]) -> None:
        from devstack.functions import FunctionThrottled

        try:
            self._invoke(key, event)
            self.runs[key] += 1
        except FunctionThrottled as throttled:  # a chaos experiment's doing: no traceback each period
            self.failures[key] += 1
            log.warning("scheduled function %s not run: %s", key, throttled)
        except Exception:  # a failing schedule is logged and retried next period, like EventBridge
            self.failures[key] += 1
            log.exception("scheduled function %s failed", key)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the runs in progress to end; False when one still runs after ``timeout``."""
        deadline = time.monotonic() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._running.values())

    def summary(self) -> str:
        """What ran, for the stop message: "3 scheduled runs, 1 failed", and when nothing has yet,
        when the first is due (a schedule's first run comes one period after the start, as deployed)."""
        runs, failed = sum(self.runs.values()), sum(self.failures.values())
        text = f"{runs} scheduled run{'' if runs == 1 else 's'}" + (f", {failed} failed" if failed else "")
        if runs + failed == 0 and self._next_due:
            text += f"; the first was due {max(0.0, min(self._next_due.values()) - self._clock()):.0f} s later"
        return text

    def start(self, tick_seconds: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.wait(tick_seconds):
                self.run_due()

        self._thread = threading.Thread(target=loop, name="devstack-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.wait_idle(timeout=5)
