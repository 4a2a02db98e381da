import json

import pytest

from chalicelib.observability.metrics import Counters
from chalicelib.resilience import FleetCircuitBreaker, TransitionAnnouncer


@pytest.fixture
def emitted():
    from chalicelib.observability import metrics

    records = []
    metrics.add_record_listener(records.append)
    yield records
    metrics.remove_record_listener(records.append)


def announcer(*listeners, wired=None):
    from chalicelib import wiring

    wired = wired or wiring.current()
    return TransitionAnnouncer(listeners, Counters("ServerlessSRE", "user-api"), wired.logger)


def test_a_breakers_listener_hears_its_trip(clock):
    heard = []
    breaker = FleetCircuitBreaker("dep", fail_max=1, clock=clock, announce=announcer(lambda *args: heard.append(args)))
    with pytest.raises(RuntimeError):
        breaker.call(lambda: (_ for _ in ()).throw(RuntimeError()))
    name, old, new, details = heard[0]
    assert (name, old, new, details["reason"], details["failures"]) == ("dep", "closed", "open", "failures", 1)


def test_the_wiring_hands_each_breakers_transitions_to_the_incident_queue(wired):
    announce = wired.breakers.get("webhook")._announce
    assert wired.breaker_transition_queue in announce.listeners


def test_transition_emits_a_metric_with_breaker_and_state(emitted):
    announcer()("dep", "closed", "open", {"reason": "failures"})
    record = emitted[0]
    assert (record["circuit_breaker_transitions"], record["breaker"], record["to_state"]) == ([1.0], "dep", "open")


def test_transition_is_logged_as_structured_json(capsys):
    announcer()("dep", "closed", "open", {"reason": "failures"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"message"' in line]
    assert any(line["message"] == "Circuit breaker transition" and line["new_state"] == "open" for line in lines)


def test_a_failing_listener_does_not_stop_the_others():
    heard = []

    def broken(*args):
        raise ValueError("bug")

    announcer(broken, lambda *args: heard.append(args))("dep", "closed", "open", {"reason": "failures"})
    assert len(heard) == 1


@pytest.mark.parametrize("first, again", [("open", "open"), (None, "close"), (None, "reset")])
def test_an_operator_action_that_leaves_the_state_as_it_was_is_recorded_but_not_announced(clock, first, again):
    """A second "open" of a forced-open breaker used to open a new P2 incident and page for it."""
    heard = []
    breaker = FleetCircuitBreaker("dep", fail_max=1, clock=clock, announce=announcer(lambda *args: heard.append(args)))
    if first == "open":
        breaker.open(actor="alice")
    announced = len(heard)
    getattr(breaker, again)(actor="bob")
    assert len(heard) == announced
    assert breaker.state.name == ("open" if again == "open" else "closed")
    assert breaker.store.refresh().transitions[-1]["actor"] == "bob"
