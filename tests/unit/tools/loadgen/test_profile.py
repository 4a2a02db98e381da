import pytest

from tools.loadgen import LoadProfile, Stage, parse_duration


def test_durations_read_units():
    assert [parse_duration(text) for text in ("90", "90s", "1.5m", "1h", "250ms")] == [90, 90, 90, 3600, 0.25]


def test_a_constant_rate_schedules_evenly_and_ends_with_the_duration():
    profile = LoadProfile.constant_rate(10, "2s")
    assert [round(profile.arrival_time(index), 3) for index in (0, 1, 10, 19)] == [0.0, 0.1, 1.0, 1.9]
    assert profile.arrival_time(20) is None


def test_a_ramp_schedules_the_integral_of_the_rate():
    profile = LoadProfile("open", (Stage(10, 20),), start=0)
    assert profile.arrivals_by(10) == pytest.approx(100)
    assert profile.target_at(5) == pytest.approx(10)
    assert profile.arrival_time(25) == pytest.approx(5, abs=1e-6)  # 25 iterations by 5 s: 20/10*5²/2


def test_stages_parse_and_chain():
    profile = LoadProfile("closed", (Stage.parse("2s:4"), Stage.parse("3s:4"), Stage.parse("1s:0")), start=0)
    assert profile.duration == 6
    assert profile.target_at(1) == pytest.approx(2)
    assert profile.target_at(3) == pytest.approx(4)
    assert profile.peak == 4


def test_a_profile_without_bounds_is_refused():
    with pytest.raises(ValueError):
        LoadProfile.concurrency(4, "10s", max_requests=0)
