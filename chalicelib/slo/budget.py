"""Error budget arithmetic: pure functions of good/valid counts, no AWS.

For a window with ``valid`` events of which ``good`` were good, target ``t``:
SLI = good/valid; budget = (1 - t) * valid events; consumed = valid - good;
burn rate = (bad/valid) / (1 - t) (1.0 spends exactly the budget over the period);
time to exhaustion = remaining share of the *period's* budget * period / burn rate.
A window without valid events has no SLI and no budget: its figures are None, with the reason,
never a 100% that no request earned.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

HEALTHY, WARNING, EXHAUSTED = "healthy", "warning", "exhausted"
# Too little of the period has data (or too few events) for the remaining ratio to mean anything:
# the figures are shown, the budget policy (release freeze, "exhausted" severity) ignores it.
INSUFFICIENT_HISTORY = "insufficient_history"
STATES = (HEALTHY, WARNING, EXHAUSTED, INSUFFICIENT_HISTORY)


@dataclass(frozen=True)
class WindowFigures:
    window: str
    minutes: int
    good: int
    valid: int
    bad: int
    sli: Optional[float]
    budget_total_ratio: float
    budget_total: Optional[float]
    budget_consumed: int
    budget_remaining: Optional[float]
    budget_consumed_ratio: Optional[float]
    budget_remaining_ratio: Optional[float]
    burn_rate: Optional[float]
    unknown_reason: Optional[str]  # why the SLI and budget figures are None (no valid events), else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _tidy(value: Optional[float]) -> Optional[float]:
    """Drop binary noise (1 - 0.99 = 0.010000000000000009) so stored figures compare exactly."""
    return None if value is None else round(value, 10)


def no_events_reason(window: str) -> str:
    return f"no requests in the {window} window yet: the SLI and error budget are unknown"


def window_figures(window: str, minutes: int, good: int, valid: int, target: float) -> WindowFigures:
    allowed = _tidy(1.0 - target)
    bad = valid - good
    if not valid:
        return WindowFigures(
            window=window, minutes=minutes, good=good, valid=valid, bad=bad, sli=None,
            budget_total_ratio=allowed, budget_total=None, budget_consumed=bad, budget_remaining=None,
            budget_consumed_ratio=None, budget_remaining_ratio=None, burn_rate=None,
            unknown_reason=no_events_reason(window))
    budget_total = _tidy(allowed * valid)
    consumed_ratio = _tidy(bad / budget_total) if budget_total > 0 else 0.0
    return WindowFigures(
        window=window, minutes=minutes, good=good, valid=valid, bad=bad,
        sli=_tidy(good / valid),
        budget_total_ratio=allowed, budget_total=budget_total, budget_consumed=bad,
        budget_remaining=_tidy(budget_total - bad), budget_consumed_ratio=consumed_ratio,
        budget_remaining_ratio=_tidy(1.0 - consumed_ratio),
        burn_rate=_tidy(bad / (valid * allowed)), unknown_reason=None)


def seconds_to_exhaustion(period_remaining_ratio: Optional[float], period_minutes: int,
                          burn_rate: Optional[float]) -> Optional[float]:
    """How long the period's remaining budget lasts at ``burn_rate``; None when it is not being spent
    or the budget is unknown."""
    if period_remaining_ratio is None:
        return None
    if period_remaining_ratio <= 0:
        return 0.0
    if not burn_rate:
        return None
    return period_remaining_ratio * period_minutes * 60 / burn_rate


@dataclass(frozen=True)
class HistoryCoverage:
    """How much of the period window holds data, against what the budget needs."""

    since: Optional[str]  # the first minute (hour precision) with valid events in the period window
    minutes: int
    required_minutes: int
    valid_events: int
    required_events: int

    @property
    def sufficient(self) -> bool:
        return self.minutes >= self.required_minutes and self.valid_events >= self.required_events

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "minutes": self.minutes, "required_minutes": self.required_minutes,
                "valid_events": self.valid_events, "required_events": self.required_events,
                "sufficient": self.sufficient}


def assessed_state(period_remaining_ratio: Optional[float], warning_below: float, history: HistoryCoverage) -> str:
    """The budget state the policy acts on; ``insufficient_history`` until the history suffices
    (and while the budget is unknown: no events in the period)."""
    if not history.sufficient or period_remaining_ratio is None:
        return INSUFFICIENT_HISTORY
    return budget_state(period_remaining_ratio, warning_below)


def budget_state(period_remaining_ratio: float, warning_below: float) -> str:
    if period_remaining_ratio <= 0:
        return EXHAUSTED
    if period_remaining_ratio < warning_below:
        return WARNING
    return HEALTHY


def freezes_releases(state: str, freeze_when: str) -> bool:
    if freeze_when == "never":
        return False
    if freeze_when == "warning":
        return state in (WARNING, EXHAUSTED)
    return state == EXHAUSTED
