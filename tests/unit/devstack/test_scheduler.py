import pytest

from devstack.scheduler import Scheduler, rate_seconds


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("expression, seconds", [("rate(1 minute)", 60), ("rate(5 minutes)", 300),
                                                 ("rate(2 hours)", 7200), ("rate(1 day)", 86400)])
def test_rate_expressions_become_periods(expression, seconds):
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize("expression", ["cron(0 * * * ? *)", "rate(0 minutes)", "rate(1 fortnight)", "every minute"])
def test_unsupported_expressions_fail_loudly(expression):
    with pytest.raises(ValueError):
        rate_seconds(expression)


def test_a_function_fires_once_per_period():
    clock, calls = FakeClock(), []
    scheduler = Scheduler({"evaluator": "rate(1 minute)"}, lambda key, event: calls.append(key), clock=clock)
    assert scheduler.run_due() == []
    clock.now += 60
    assert scheduler.run_due() == ["evaluator"]
    assert scheduler.wait_idle()
    assert scheduler.run_due() == []
    clock.now += 60
    scheduler.run_due()
    assert scheduler.wait_idle()
    assert calls == ["evaluator", "evaluator"]


def test_a_late_tick_fires_once_not_for_every_missed_period():
    clock, calls = FakeClock(), []
    scheduler = Scheduler({"evaluator": "rate(1 minute)"}, lambda key, event: calls.append(key), clock=clock)
    clock.now += 600
    scheduler.run_due()
    assert scheduler.wait_idle()
    scheduler.run_due()
    assert scheduler.wait_idle()
    assert calls == ["evaluator"]


def test_the_event_looks_like_an_eventbridge_schedule():
    clock, events = FakeClock(), []
    scheduler = Scheduler({"probe": "rate(1 minute)"}, lambda key, event: events.append(event), clock=clock)
    clock.now += 60
    scheduler.run_due()
    assert scheduler.wait_idle()
    assert events[0]["source"] == "aws.events" and events[0]["detail-type"] == "Scheduled Event"


def test_a_failing_function_is_counted_and_does_not_stop_the_others():
    clock, calls = FakeClock(), []

    def invoke(key, event):
        if key == "broken":
            raise RuntimeError("boom")
        calls.append(key)

    scheduler = Scheduler({"broken": "rate(1 minute)", "fine": "rate(1 minute)"}, invoke, clock=clock)
    clock.now += 60
    scheduler.run_due()
    assert scheduler.wait_idle()
    assert calls == ["fine"]
    assert scheduler.failures == {"broken": 1, "fine": 0}


def test_the_summary_counts_failed_runs_apart():
    clock = FakeClock()

    def invoke(key, event):
        if key == "broken":
            raise RuntimeError("boom")

    scheduler = Scheduler({"broken": "rate(1 minute)", "fine": "rate(1 minute)"}, invoke, clock=clock)
    clock.now += 120
    scheduler.run_due()
    assert scheduler.wait_idle()
    assert scheduler.summary() == "1 scheduled run, 1 failed"


def test_before_the_first_run_the_summary_says_when_it_is_due():
    clock = FakeClock()
    scheduler = Scheduler({"evaluator": "rate(1 minute)", "daily": "rate(1 day)"}, lambda key, event: None, clock=clock)
    clock.now += 45
    assert scheduler.summary() == "0 scheduled runs; the first was due 15 s later"


def test_a_period_override_replaces_the_rate():
    clock, calls = FakeClock(), []
    scheduler = Scheduler({"evaluator": "rate(1 minute)"}, lambda key, event: calls.append(key), clock=clock,
                          period_overrides={"evaluator": 15})
    for _ in range(4):
        clock.now += 15
        scheduler.run_due()
        assert scheduler.wait_idle()
    assert calls == ["evaluator"] * 4


def test_an_override_for_an_unscheduled_function_is_refused():
    with pytest.raises(ValueError, match="unscheduled"):
        Scheduler({"evaluator": "rate(1 minute)"}, lambda key, event: None, period_overrides={"nope": 5})


def test_the_command_line_takes_schedule_overrides():
    from devstack.__main__ import parse_args

    assert parse_args(["--schedule", "slo-evaluator=15"])[0].schedule_overrides == {"slo-evaluator": 15.0}
    with pytest.raises(SystemExit):
        parse_args(["--schedule", "slo-evaluator=soon"])


def test_a_slow_run_delays_only_its_own_function():
    """The daily collection taking longer than a minute must not hold back the probe and the evaluator."""
    import threading

    clock, calls, release = FakeClock(), [], threading.Event()

    def invoke(key, event):
        if key == "collector":
            release.wait(10)
        calls.append(key)

    scheduler = Scheduler({"collector": "rate(1 minute)", "probe": "rate(1 minute)"}, invoke, clock=clock)
    clock.now += 60
    assert scheduler.run_due() == ["collector", "probe"]
    clock.now += 60
    assert scheduler.run_due() == ["probe"]  # the collector still runs: not started twice
    assert scheduler.wait_idle(timeout=0.5) is False
    assert (calls, scheduler.skipped) == (["probe", "probe"], {"collector": 1, "probe": 0})
    release.set()
    assert scheduler.wait_idle()
    assert calls == ["probe", "probe", "collector"]


def test_a_throttled_function_counts_as_failed_with_a_warning_and_no_traceback(caplog):
    from devstack.functions import FunctionThrottled

    def invoke(key, event):
        raise FunctionThrottled("serverless-sre-outbox-drainer")

    clock = FakeClock()
    scheduler = Scheduler({"outbox-drainer": "rate(1 minute)"}, invoke, clock=clock)
    clock.now += 60
    with caplog.at_level("WARNING", logger="devstack.scheduler"):
        scheduler.run_due()
        assert scheduler.wait_idle()
    assert scheduler.failures == {"outbox-drainer": 1}
    assert [(record.levelname, record.exc_info) for record in caplog.records] == [("WARNING", None)]
    assert "reserved concurrency is 0" in caplog.text
