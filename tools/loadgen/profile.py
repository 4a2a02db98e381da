"""How much load, for how long: the open model (arrival rate) or the closed model (concurrency), with stages."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional

OPEN = "open"
CLOSED = "closed"
DEFAULT_MAX_REQUESTS = 100_000
# Bounds a typo cannot get past: a day is four times the longest soak; more clients than this
# exhaust a process's file descriptors before they load anything.
MAX_DURATION_SECONDS = 24 * 3600
MIN_DURATION_SECONDS = 0.001
MAX_CLIENTS = 4096
# Each finite alone, a rate and a duration can still multiply past what a float holds (1e308/s for
# 1 s): the schedule then overflowed into a traceback, or into "Infinity" in the JSON report.
MAX_SCHEDULED_ITERATIONS = 10**9
# A request unanswered this long is a failed one: without a bound, a server that hangs held a run
# (which waits for its requests in flight) for as long as --timeout said, past its duration.
MAX_TIMEOUT_SECONDS = 300.0
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str | float) -> float:
    """Seconds from ``90``, ``90s``, ``1.5m``, ``1h`` or ``250ms``."""
    if isinstance(text, (int, float)):
        return float(text)
    match = _DURATION.match(text.strip())
    if text.strip().startswith("-"):
        raise ValueError(f"a duration is positive, not {text!r} (use e.g. 30s, 2m, 1h)")
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 2m, 1h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def short_count(value: float) -> str:
    """A count for a message: exact while short, else in powers of ten; never hundreds of digits."""
    return f"{value:.6g}" if math.isfinite(value) else "over 1e308"  # what a float holds


@dataclass(frozen=True)
class Stage:
    """Over ``duration`` seconds, move linearly to ``target`` (iterations/s, or clients in the closed model)."""

    duration: float
    target: float

    @classmethod
    def parse(cls, text: str) -> "Stage":
        """``30s:50``: reach 50 over 30 seconds."""
        duration, _, target = text.partition(":")
        if not target:
            raise ValueError(f"not a stage: {text!r} (use DURATION:TARGET, e.g. 30s:50)")
        return cls(parse_duration(duration), float(target))


@dataclass(frozen=True)
class LoadProfile:
    """A run is bounded twice: by the stages' total duration and by ``max_requests``.

    ``start`` is the target when the first stage begins (default: the first stage's target, i.e. constant).
    Open model: ``max_in_flight`` caps the requests outstanding at once; an iteration that cannot
    start before the end of the run is counted as dropped.
    """

    model: str
    stages: tuple[Stage, ...]
    start: Optional[float] = None
    max_requests: int = DEFAULT_MAX_REQUESTS
    max_in_flight: int = 256
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.model not in (OPEN, CLOSED):
            raise ValueError(f"model must be {OPEN} or {CLOSED}")
        numbers = [self.timeout, *(value for stage in self.stages for value in (stage.duration, stage.target))]
        if self.start is not None:
            numbers.append(self.start)
        if not all(math.isfinite(number) for number in numbers):
            raise ValueError("rates, clients, durations and the timeout must be finite numbers")
        if not self.stages or any(stage.duration <= 0 or stage.target < 0 for stage in self.stages):
            raise ValueError("a profile needs stages with a positive duration and a target >= 0")
        if (self.start or 0) < 0 or self.peak <= 0:
            raise ValueError("a profile must send something: a rate or a number of clients above 0")
        if self.duration > MAX_DURATION_SECONDS:
            raise ValueError(f"a run lasts at most {MAX_DURATION_SECONDS // 3600}h; this one would last "
                             f"{self.duration:.0f}s")
        if self.duration < MIN_DURATION_SECONDS:  # 0.001ms: no client got to send anything
            raise ValueError(f"a run lasts at least {MIN_DURATION_SECONDS * 1000:g} ms; this one would last "
                             f"{self.duration * 1000:g} ms")
        scheduled = self.arrivals_by(self.duration) if self.model == OPEN else 0.0
        if not scheduled <= MAX_SCHEDULED_ITERATIONS:  # not finite, or too many
            raise ValueError(f"a run schedules at most 10^9 iterations (rate x duration, over every stage); "
                             f"this one would schedule {short_count(scheduled)}")
        if self.model == CLOSED and not all(float(value).is_integer() for value in (self.initial, *(
                stage.target for stage in self.stages))):  # a stage to 0.4 clients ran none and passed
            raise ValueError("the closed model's targets are numbers of clients: whole numbers "
                             "(with --open, stages are rates)")
        if self.model == CLOSED and self.peak > MAX_CLIENTS:
            raise ValueError(f"at most {MAX_CLIENTS} clients; asked for {self.peak:.0f}")
        if self.max_requests < 1 or self.max_in_flight < 1 or self.timeout <= 0:
            raise ValueError("max_requests, max_in_flight and timeout must be positive")
        if self.timeout > MAX_TIMEOUT_SECONDS:
            raise ValueError(f"the timeout is at most {MAX_TIMEOUT_SECONDS:g} s per request; asked for {self.timeout:g} s")

    @classmethod
    def constant_rate(cls, rate: float, duration: float | str, **kwargs: object) -> "LoadProfile":
        return cls(OPEN, (Stage(parse_duration(duration), float(rate)),), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def concurrency(cls, clients: int, duration: float | str, **kwargs: object) -> "LoadProfile":
        return cls(CLOSED, (Stage(parse_duration(duration), float(clients)),), **kwargs)  # type: ignore[arg-type]

    @property
    def duration(self) -> float:
        return sum(stage.duration for stage in self.stages)

    @property
    def initial(self) -> float:
        return self.stages[0].target if self.start is None else self.start

    @property
    def peak(self) -> float:
        return max(self.initial, *(stage.target for stage in self.stages))

    def target_at(self, elapsed: float) -> float:
        begin, level = 0.0, self.initial
        for stage in self.stages:
            if elapsed < begin + stage.duration:
                return level + (stage.target - level) * (elapsed - begin) / stage.duration
            begin, level = begin + stage.duration, stage.target
        return 0.0

    def arrivals_by(self, elapsed: float) -> float:
        """Open model: iterations due in the first ``elapsed`` seconds (the integral of the rate)."""
        total, begin, level = 0.0, 0.0, self.initial
        for stage in self.stages:
            span = min(stage.duration, max(0.0, elapsed - begin))
            if span > 0:
                at_end = level + (stage.target - level) * span / stage.duration
                total += (level + at_end) / 2 * span
            begin, level = begin + stage.duration, stage.target
        return total

    def arrival_time(self, index: int) -> Optional[float]:
        """When iteration ``index`` (from 0) is due, in seconds from the start; None if after the end."""
        if self.arrivals_by(self.duration) <= index:
            return None
        low, high = 0.0, self.duration
        for _ in range(60):  # bisection: the integral is monotonic
            middle = (low + high) / 2
            if self.arrivals_by(middle) > index:
                high = middle
            else:
                low = middle
        return high if index else 0.0

    def describe(self) -> dict[str, object]:
        return {"model": self.model, "start": self.initial,
                "stages": [{"duration_s": stage.duration, "target": stage.target} for stage in self.stages],
                "unit": "iterations/s" if self.model == OPEN else "clients",
                "duration_s": self.duration, "max_requests": self.max_requests,
                "max_in_flight": self.max_in_flight, "timeout_s": self.timeout}
