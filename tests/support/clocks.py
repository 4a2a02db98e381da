"""Clocks the tests move by hand."""
from __future__ import annotations

from datetime import datetime, timedelta


class ManualClock:
    """A ``() -> datetime`` clock (the SLO engine's, the incident flow's)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class EpochClock:
    """A ``() -> float`` clock of epoch seconds (breakers, the webhook outbox)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
