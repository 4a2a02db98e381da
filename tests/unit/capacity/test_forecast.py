"""Forecasts against synthetic daily peaks whose trend and noise are known."""
import random

import pytest

from chalicelib.capacity.forecast import MIN_HISTORY_DAYS, days_to_limit, fit_least_squares, forecast


def linear(days, start, slope, noise_sd, seed):
    rng = random.Random(seed)
    return [start + slope * t + rng.gauss(0, noise_sd) for t in range(days)]


def flat_then_rising(days, knee, level, slope, noise_sd, seed):
    rng = random.Random(seed)
    return [level + max(0, t - knee) * slope + rng.gauss(0, noise_sd) for t in range(days)]


@pytest.mark.parametrize("noise_sd", [4, 20])
def test_a_straight_trend_with_noise_is_forecast_by_least_squares(noise_sd):
    result = forecast("requests", linear(60, 100, 5, noise_sd, seed=1), limits=[800])
    assert result.model == "least_squares"
    assert result.reason.startswith("least_squares: forecasting up to 7 days ahead from each of the last 10 days")


def test_a_trend_that_changed_is_forecast_by_holt():
    result = forecast("requests", flat_then_rising(60, 40, 200, 8, 3, seed=2), limits=[800])
    assert result.model == "holt"
    assert result.backtest_mae["holt"] < result.backtest_mae["least_squares"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_days_to_limit_is_within_tolerance_and_the_interval_covers_the_truth(seed):
    # 100 + 5t reaches 800 at t = 140: 81 days after the last of 60 days (t = 59).
    result = forecast("requests", linear(60, 100, 5, 4, seed=seed), limits=[800])
    (limit,) = result.limits
    assert abs(limit.days - 81) <= 4
    assert limit.soonest <= 81 <= limit.latest
    assert limit.latest - limit.soonest <= 10


def test_holt_days_to_limit_covers_the_truth_after_a_change_of_trend():
    # From day 40 on: 200 + 8 (t - 40) reaches 800 at t = 115, 56 days after t = 59.
    result = forecast("requests", flat_then_rising(60, 40, 200, 8, 3, seed=2), limits=[800])
    (limit,) = result.limits
    assert abs(limit.days - 56) <= 0.2 * 56
    # Holt's interval widens with the cube of the horizon: its lower band may never get there.
    assert limit.soonest <= 56 and (limit.latest is None or limit.latest >= 56)


def test_a_flat_series_never_reaches_the_limit_but_its_upper_band_may():
    result = forecast("requests", linear(30, 500, 0, 2, seed=7), limits=[1000])
    (limit,) = result.limits
    assert limit.days is None and limit.latest is None
    assert "flat" in limit.note or "not reached" in limit.note


def test_a_peak_already_at_the_limit_has_zero_days():
    fit = fit_least_squares([10.0 * t for t in range(20)])
    assert days_to_limit(fit, 190, 150).days == 0


def test_too_little_history_is_said_instead_of_a_trend():
    result = forecast("requests", [100, 120, 140, 160, 180], limits=[200])
    assert result.insufficient_history and result.model is None
    assert result.limits == () and result.next_7_days == ()
    assert f"too little history: 5 daily peaks, a trend needs at least {MIN_HISTORY_DAYS}" == result.reason


def test_a_forecast_survives_its_json_form():
    result = forecast("requests", linear(30, 100, 5, 4, seed=3), limits=[400, 900])
    assert type(result).from_json(result.to_json()) == result
