"""Growth prediction over daily peaks: least squares and Holt's linear trend, one chosen per series.

Written by hand: numpy/statsmodels are not dependencies of the Lambda package (statsmodels
alone is ~40 MB and seconds of import), and the formulas here are a few lines each over
series of at most a few hundred points.

- Least squares: ``y = a + b t``; the prediction interval at ``t0`` is
  ``q * s * sqrt(1 + 1/n + (t0 - mean t)^2 / Sxx)`` (ordinary regression prediction interval).
- Holt's linear trend (ETS(A,A,N)): level and trend smoothed with ``alpha``/``beta`` picked
  by least one-step-ahead squared error on a grid; the ``h``-step interval uses
  ``sigma^2 * (1 + (h-1) * (alpha^2 + alpha*beta*h + beta^2*h*(2h-1)/6))``
  (Hyndman & Athanasopoulos, FPP3 table 5.2 / 8.8).
- Backtest: from each of the last days (rolling origin), each model fitted on the days before
  forecasts the following week; Holt is chosen when its mean absolute error is at least 10%
  below least squares' (the straight line is the simpler claim), and ``reason`` says so with
  both errors.
- Days until a limit: the day the point forecast reaches it, and the interval between the day
  the upper band reaches it (soonest) and the day the lower band does (latest; ``None`` when
  not within ``HORIZON_DAYS``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Callable, Mapping, Optional, Sequence

MIN_HISTORY_DAYS = 14  # fewer daily peaks: no trend is stated
HORIZON_DAYS = 730  # limits further away are reported as "not within two years"
CONFIDENCE = 0.95
MAX_ORIGINS = 10  # backtest forecast origins
BACKTEST_HORIZON = 7  # days forecast from each origin
HOLT_MARGIN = 0.10  # Holt is chosen when its backtest error is at least 10% below least squares'
_GRID = tuple(round(0.05 * step, 2) for step in range(1, 20))  # 0.05 .. 0.95

Json = dict[str, Any]


def _quantile(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True)
class Fit:
    """A fitted model: ``point(h)`` and ``half_width(h)`` are ``h`` days after the last observed day."""
    model: str
    params: Mapping[str, float]
    point: Callable[[int], float]
    half_width: Callable[[int], float]
    slope_per_day: float


def fit_least_squares(values: Sequence[float], confidence: float = CONFIDENCE) -> Fit:
    n = len(values)
    ts = range(n)
    t_mean = (n - 1) / 2
    y_mean = sum(values) / n
    sxx = sum((t - t_mean) ** 2 for t in ts)
    slope = sum((t - t_mean) * (y - y_mean) for t, y in zip(ts, values)) / sxx
    intercept = y_mean - slope * t_mean
    residuals = [y - (intercept + slope * t) for t, y in zip(ts, values)]
    s = math.sqrt(sum(r * r for r in residuals) / max(1, n - 2))
    q = _quantile(confidence)
    last = n - 1

    def point(h: int) -> float:
        return intercept + slope * (last + h)

    def half_width(h: int) -> float:
        return q * s * math.sqrt(1 + 1 / n + (last + h - t_mean) ** 2 / sxx)

    return Fit("least_squares", {"intercept": intercept, "slope": slope, "residual_sd": s}, point, half_width,
               slope)


def _holt_run(values: Sequence[float], alpha: float, beta: float) -> tuple[float, float, float]:
    """(level, trend, sum of squared one-step errors) after the whole series."""
    level, trend = values[0], values[1] - values[0]
    sse = 0.0
    for y in values[1:]:
        forecast = level + trend
        sse += (y - forecast) ** 2
        previous = level
        level = alpha * y + (1 - alpha) * forecast
        trend = beta * (level - previous) + (1 - beta) * trend
    return level, trend, sse


def fit_holt(values: Sequence[float], confidence: float = CONFIDENCE) -> Fit:
    best: Optional[tuple[float, float, float, float, float]] = None
    for alpha in _GRID:
        for beta in _GRID:
            if beta > alpha:  # beta* = beta/alpha <= 1 keeps the model admissible
                continue
            level, trend, sse = _holt_run(values, alpha, beta)
            if best is None or sse < best[4]:
                best = (alpha, beta, level, trend, sse)
    assert best is not None
    alpha, beta, level, trend, sse = best
    sigma = math.sqrt(sse / max(1, len(values) - 3))
    q = _quantile(confidence)

    def point(h: int) -> float:
        return level + h * trend

    def half_width(h: int) -> float:
        h = max(1, h)
        return q * sigma * math.sqrt(1 + (h - 1) * (alpha ** 2 + alpha * beta * h + beta ** 2 * h * (2 * h - 1) / 6))

    return Fit("holt", {"alpha": alpha, "beta": beta, "level": level, "trend": trend, "residual_sd": sigma},
               point, half_width, trend)


FITTERS: dict[str, Callable[[Sequence[float]], Fit]] = {"least_squares": fit_least_squares, "holt": fit_holt}


def backtest_errors(values: Sequence[float]) -> tuple[int, dict[str, float]]:
    """Rolling origin over the last quarter (3 to ``MAX_ORIGINS`` origins): each model is fitted on the
    days before each origin and forecasts up to ``BACKTEST_HORIZON`` days from it; mean absolute error."""
    holdout = min(MAX_ORIGINS, max(3, len(values) // 4))
    errors = {}
    for name, fitter in FITTERS.items():
        total, count = 0.0, 0
        for origin in range(len(values) - holdout, len(values)):
            fit = fitter(values[:origin])
            for h, actual in enumerate(values[origin:origin + BACKTEST_HORIZON], start=1):
                total += abs(fit.point(h) - actual)
                count += 1
        errors[name] = total / count
    return holdout, errors


def choose_model(errors: Mapping[str, float]) -> str:
    """Holt only when it forecasts clearly better: a straight line is the simpler, steadier claim."""
    return "holt" if errors["holt"] < errors["least_squares"] * (1 - HOLT_MARGIN) else "least_squares"


def _first_day(reaches: Callable[[int], bool]) -> Optional[int]:
    for h in range(0, HORIZON_DAYS + 1):
        if reaches(h):
            return h
    return None


@dataclass(frozen=True)
class DaysToLimit:
    limit: float
    days: Optional[int]  # None: not within the horizon (flat/falling trend, or too far)
    soonest: Optional[int]  # the upper band reaches the limit
    latest: Optional[int]  # the lower band reaches it; None: not within the horizon
    note: str

    def to_json(self) -> Json:
        return {"limit": self.limit, "days": self.days, "interval": {"soonest": self.soonest, "latest": self.latest},
                "note": self.note}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "DaysToLimit":
        return cls(limit=body["limit"], days=body["days"], soonest=body["interval"]["soonest"],
                   latest=body["interval"]["latest"], note=body["note"])


def days_to_limit(fit: Fit, latest_value: float, limit: float) -> DaysToLimit:
    if latest_value >= limit:
        return DaysToLimit(limit, 0, 0, 0, "the latest daily peak is already at or above the limit")
    days = _first_day(lambda h: fit.point(h) >= limit) if fit.slope_per_day > 0 else None
    soonest = _first_day(lambda h: fit.point(h) + fit.half_width(h) >= limit)
    latest = _first_day(lambda h: fit.point(h) - fit.half_width(h) >= limit) if fit.slope_per_day > 0 else None
    if days is None:
        note = ("trend flat or falling: the forecast does not reach the limit" if fit.slope_per_day <= 0
                else f"not reached within {HORIZON_DAYS} days")
    else:
        note = f"reached in {days} days at {fit.slope_per_day:+.4g} per day"
    return DaysToLimit(limit, days, soonest, latest, note)


@dataclass(frozen=True)
class Forecast:
    series: str
    history_days: int
    model: Optional[str]  # None when there is too little history
    reason: str
    backtest_mae: Mapping[str, float]
    slope_per_day: Optional[float]
    next_7_days: tuple[Mapping[str, float], ...]  # {"day": h, "value", "low", "high"}
    limits: tuple[DaysToLimit, ...]

    @property
    def insufficient_history(self) -> bool:
        return self.model is None

    def to_json(self) -> Json:
        return {"series": self.series, "history_days": self.history_days, "model": self.model,
                "insufficient_history": self.insufficient_history, "reason": self.reason,
                "backtest_mae": dict(self.backtest_mae), "slope_per_day": self.slope_per_day,
                "next_7_days": [dict(point) for point in self.next_7_days],
                "limits": [limit.to_json() for limit in self.limits]}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Forecast":
        return cls(series=body["series"], history_days=body["history_days"], model=body["model"],
                   reason=body["reason"], backtest_mae=dict(body["backtest_mae"]),
                   slope_per_day=body["slope_per_day"],
                   next_7_days=tuple(dict(point) for point in body["next_7_days"]),
                   limits=tuple(DaysToLimit.from_json(limit) for limit in body["limits"]))


def forecast(series: str, daily_peaks: Sequence[float], limits: Sequence[float] = (),
             min_history_days: int = MIN_HISTORY_DAYS) -> Forecast:
    """The chosen model's forecast of ``daily_peaks`` (oldest first, one per day, no gaps)."""
    values = [float(value) for value in daily_peaks]
    if len(values) < min_history_days:
        return Forecast(series, len(values), None,
                        f"too little history: {len(values)} daily peaks, a trend needs at least {min_history_days}",
                        {}, None, (), ())
    holdout, errors = backtest_errors(values)
    chosen = choose_model(errors)
    other = next(name for name in errors if name != chosen)
    rule = ("at least 10% lower" if chosen == "holt"
            else "Holt's linear trend is chosen only when at least 10% lower")
    reason = (f"{chosen}: forecasting up to {BACKTEST_HORIZON} days ahead from each of the last {holdout} days, "
              f"mean absolute error {errors[chosen]:.4g} against {errors[other]:.4g} for {other} ({rule})")
    fit = FITTERS[chosen](values)
    upcoming = tuple({"day": h, "value": round(fit.point(h), 4), "low": round(fit.point(h) - fit.half_width(h), 4),
                      "high": round(fit.point(h) + fit.half_width(h), 4)} for h in range(1, 8))
    return Forecast(series, len(values), chosen, reason, {name: round(err, 4) for name, err in errors.items()},
                    round(fit.slope_per_day, 6), upcoming,
                    tuple(days_to_limit(fit, values[-1], limit) for limit in limits))
