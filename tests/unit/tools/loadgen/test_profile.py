import re

import pytest

from tools.loadgen import CLOSED, LoadProfile, Stage, parse_duration


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


@pytest.mark.parametrize("build", [lambda: LoadProfile.concurrency(0, "10s"), lambda: LoadProfile.constant_rate(0, "10s"),
                                   lambda: LoadProfile("open", (Stage(5, 0),), start=0)])
def test_a_profile_that_sends_nothing_is_refused(build):
    with pytest.raises(ValueError, match="must send something"):
        build()


@pytest.mark.parametrize("build", [lambda: LoadProfile.constant_rate(float("nan"), "10s"),
                                   lambda: LoadProfile.constant_rate(float("inf"), "10s"),
                                   lambda: LoadProfile.concurrency(2, "10s", timeout=float("inf")),
                                   lambda: LoadProfile("open", (Stage(5, 1),), start=float("nan"))])
def test_a_profile_with_a_number_that_is_not_finite_is_refused(build):
    with pytest.raises(ValueError, match="finite"):
        build()


@pytest.mark.parametrize("build", [lambda: LoadProfile.constant_rate(1e308, "1s"),
                                   lambda: LoadProfile.constant_rate(1e6, "24h"),
                                   lambda: LoadProfile("open", (Stage(1, 1), Stage(10, 1e308)), start=0)])
def test_a_rate_times_a_duration_past_a_billion_iterations_is_refused(build):
    """Each finite, their product was not: the run ended in an OverflowError, or printed "target": Infinity."""
    with pytest.raises(ValueError, match="at most 10\\^9 iterations"):
        build()


def test_a_billion_iterations_or_fewer_are_scheduled():
    assert LoadProfile.constant_rate(1e4, "24h").arrivals_by(86400) == pytest.approx(8.64e8)


def test_a_run_longer_than_a_day_is_refused():
    with pytest.raises(ValueError, match="at most 24h"):
        LoadProfile.concurrency(2, "99999999999999999999s")
    assert LoadProfile.concurrency(2, "24h").duration == 86400


def test_a_request_timeout_over_five_minutes_is_refused():
    with pytest.raises(ValueError, match="at most 300 s per request"):
        LoadProfile.concurrency(2, "10s", timeout=1e9)
    assert LoadProfile.concurrency(2, "10s", timeout=300).timeout == 300


def test_more_clients_than_the_process_can_hold_are_refused():
    with pytest.raises(ValueError, match="at most 4096 clients"):
        LoadProfile("closed", (Stage(10, 5000),))
    assert LoadProfile.constant_rate(5000, "10s").peak == 5000  # a rate is no client count


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1:8000", "127.0.0.1:8000", "http://", "localhost"])
def test_a_base_url_that_is_not_http_is_refused_before_any_request(base_url):
    from tools.loadgen import load_scenario, run_load

    with pytest.raises(ValueError, match="base URL must be http"):
        run_load(base_url, load_scenario("health-live"), LoadProfile.concurrency(1, "1s"))


@pytest.mark.parametrize("base_url, said", [("http://[::1", "Invalid IPv6 URL"),
                                            ("http://127.0.0.1:99999", "out of range")])
def test_a_base_url_that_cannot_be_read_is_refused_naming_it(base_url, said):
    from tools.loadgen import check_base_url

    with pytest.raises(ValueError, match=f"base URL '{re.escape(base_url)}': .*{said}"):
        check_base_url(base_url)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000/?x=1", "http://127.0.0.1:8000#top",
                                      "http://127.0.0.1:8000?"])
def test_a_base_url_with_a_query_or_fragment_is_refused_before_any_request(base_url):
    """The scenario's paths are appended: http://127.0.0.1:8000/?x=1 + /api/users asked for / every time."""
    from tools.loadgen import load_scenario, run_load

    with pytest.raises(ValueError, match="not a query or fragment"):
        run_load(base_url, load_scenario("health-live"), LoadProfile.concurrency(1, "1s"))


@pytest.mark.parametrize("stages, start", [((Stage(10, 0.4),), None), ((Stage(10, 2),), 1.5)])
def test_a_closed_model_target_that_is_no_whole_number_of_clients_is_refused(stages, start):
    """--stage 1s:0.4 without --open started round(0.4) = 0 clients: nothing sent, exit 0."""
    with pytest.raises(ValueError, match="numbers of clients: whole numbers"):
        LoadProfile(CLOSED, stages, start=start)


@pytest.mark.parametrize("make", [lambda: LoadProfile.concurrency(1, "0.001ms"),
                                  lambda: LoadProfile.constant_rate(1, "0.001ms")])
def test_a_profile_too_short_to_send_anything_is_refused(make):
    """--duration 0.001ms sent no request and exited 0."""
    with pytest.raises(ValueError, match="a run lasts at least 1 ms"):
        make()
