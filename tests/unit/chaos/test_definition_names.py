"""Every SLO, window and breaker an experiment names must exist: a probe of an unknown one observes
nothing, so its hypothesis holds and its stop condition never fires whatever the service does."""
import copy

import pytest

from chalicelib.chaos import definition as definitions
from chalicelib.chaos.steps import _error_reason


def _route_latency(change):
    document = copy.deepcopy(definitions.catalog_entry("route-latency"))
    change(document)
    return document


def _probe(**probe):
    return lambda document: document["steady-state-hypothesis"]["probes"].__setitem__(0, {"name": "p", **probe})


@pytest.mark.parametrize("change, field, named", [
    (_probe(type="sli", slo="availabilty", window="5m", min=0.99), "steady-state-hypothesis/probes/0/slo",
     "availabilty"),
    (_probe(type="sli", slo="availability", window="7y", min=0.99), "steady-state-hypothesis/probes/0/window", "7y"),
    (_probe(type="breaker", breaker="datbase", state="closed"), "steady-state-hypothesis/probes/0/breaker", "datbase"),
    (lambda d: d["stop-conditions"]["conditions"][0].update(slo="latncy"), "stop-conditions/conditions/0/slo",
     "latncy"),
    (lambda d: d["expected-responses"].append({"name": "e", "type": "breaker_opens", "breaker": "nope",
                                               "within_seconds": 60}), "expected-responses/0/breaker", "nope"),
    (lambda d: d["expected-responses"].append({"name": "e", "type": "incident_opened", "target": "nope"}),
     "expected-responses/0/target", "nope"),
    (lambda d: d["budget"]["slos"].append("nope"), "budget/slos/1", "nope"),
])
def test_a_name_that_does_not_exist_is_refused_before_anything_runs(tables, wired, change, field, named):
    with pytest.raises(definitions.DefinitionError) as refused:
        wired.chaos_steps.new_record("inline", _route_latency(change), "alice")
    assert refused.value.field == field and repr(named) in refused.value.reason


@pytest.mark.parametrize("change", [
    _probe(type="sli", slo="availability", window="30d", min=0.99),
    _probe(type="burn_rate", slo="freshness", window="7d", max=2),
    _probe(type="breaker", breaker="webhook", state="closed"),
    lambda d: d["expected-responses"].append({"name": "e", "type": "incident_opened", "target": "latency"}),
])
def test_names_that_exist_are_accepted(tables, wired, change):
    assert wired.chaos_steps.new_record("inline", _route_latency(change), "alice").status == "running"


def test_an_errored_experiment_keeps_the_error_message_not_the_stack_trace():
    cause = ('{"errorType": "UnknownBreaker", "errorMessage": "\'nope\'", "stackTrace": '
             '["  File \\"/var/task/chalicelib/chaos/steps.py\\", line 210"]}')
    assert _error_reason({"Error": "UnknownBreaker", "Cause": cause}) == "UnknownBreaker: 'nope'"
    assert _error_reason({"Error": "States.Timeout", "Cause": "no heartbeat"}) == "States.Timeout: no heartbeat"
