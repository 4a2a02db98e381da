import json

import pytest

from chalicelib.resilience import FleetCircuitBreaker, register_transition_listener
from chalicelib.resilience.listeners import announce_transition


@pytest.fixture
def emitted():
    from chalicelib.observability import metrics

    records = []
    metrics.add_record_listener(records.append)
    yield records
    metrics.remove_record_listener(records.append)


def test_registered_listener_hears_a_trip(clock):
    heard = []
    register_transition_listener(lambda *args: heard.append(args))
    breaker = FleetCircuitBreaker("dep", fail_max=1, clock=clock)
    with pytest.raises(RuntimeError):
        breaker.call(lambda: (_ for _ in ()).throw(RuntimeError()))
    name, old, new, details = heard[0]
    assert (name, old, new, details["reason"], details["failures"]) == ("dep", "closed", "open", "failures", 1)


def test_transition_emits_a_metric_with_breaker_and_state(emitted):
    announce_transition("dep", "closed", "open", {"reason": "failures"})
    record = emitted[0]
    assert (record["circuit_breaker_transitions"], record["breaker"], record["to_state"]) == ([1.0], "dep", "open")


def test_transition_is_logged_as_structured_json(capsys):
    announce_transition("dep", "closed", "open", {"reason": "failures"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"message"' in line]
    assert any(line["message"] == "Circuit breaker transition" and line["new_state"] == "open" for line in lines)


def test_a_failing_listener_does_not_stop_the_others():
    heard = []

    def broken(*args):
        raise ValueError("bug")

    register_transition_listener(broken)
    register_transition_listener(lambda *args: heard.append(args))
    announce_transition("dep", "closed", "open", {"reason": "failures"})
    assert len(heard) == 1
