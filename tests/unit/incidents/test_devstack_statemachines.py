"""Rendering state machine definitions for the local stack (devstack/statemachines.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.resources import ROOT, definitions
from devstack.statemachines import ProvisioningError, render_definition


def test_quoted_placeholders_become_json_values():
    rendered = render_definition('{"Resource": "${Fn}", "Other": "x"}', {"Fn": "function:a"},
                                 lambda reference: f"arn:{reference}")
    assert json.loads(rendered) == {"Resource": "arn:function:a", "Other": "x"}


def test_placeholder_missing_from_infra_is_an_error():
    with pytest.raises(ProvisioningError, match="no entry"):
        render_definition('{"Resource": "${Fn}"}', {}, str)


def test_unquoted_placeholder_is_an_error():
    with pytest.raises(ProvisioningError, match="whole quoted"):
        render_definition('{"Resource": "arn:${Fn}"}', {"Fn": "function:a"}, str)


def test_every_placeholder_of_every_workflow_is_declared_and_resolvable():
    references = {"function": set(definitions("functions")), "topic": set(definitions("topics")),
                  "table": set(definitions("tables")), "statemachine": set(definitions("statemachines"))}
    for key, spec in definitions("statemachines").items():
        text = (ROOT / spec["definition"]).read_text()

        def resolve(reference):
            kind, _, name = reference.partition(":")
            assert name in references[kind], f"{key}: {reference} is not defined in infra/"
            return f"arn:aws:test:{reference}"

        json.loads(render_definition(text, spec["placeholders"], resolve))


def test_example_input_is_accepted_by_the_validation_rules():
    from chalicelib.incidents.escalation import EscalationSteps

    example = json.loads(Path(ROOT, "statemachines", "escalation.example-input.json").read_text())
    assert EscalationSteps._input_problem(example) is None
