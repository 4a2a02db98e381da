"""The escalation policy read from settings."""
from __future__ import annotations

import json

import pytest

from chalicelib.incidents.policy import EscalationPolicy, PolicyInvalid, parse_levels, parse_response_seconds
from chalicelib.settings import IncidentSettings, Settings


def test_defaults_match_the_severity_and_escalation_matrices():
    policy = EscalationPolicy.from_settings(IncidentSettings())
    assert policy.response_seconds == {"P0": 900, "P1": 3600, "P2": 14400, "P3": 86400}
    assert [level.role for level in policy.levels] == [
        "On-call engineer", "Senior engineer", "Engineering manager", "Director/VP"]
    assert policy.repeat_last_level is True


def test_response_times_are_configurable(monkeypatch):
    monkeypatch.setenv("INCIDENT_RESPONSE_SECONDS", "P0=60,P1=120,P2=240,P3=480")
    assert EscalationPolicy.from_settings(Settings.from_env().incidents).response_seconds["P2"] == 240


@pytest.mark.parametrize("raw, message", [
    ("P0=900,P1=3600,P2=14400", "no response time for P3"),
    ("P0=0,P1=1,P2=1,P3=1", "P0 must be"),
    ("P5=1", "is not"),
])
def test_bad_response_times_say_what_is_wrong(raw, message):
    with pytest.raises(PolicyInvalid, match=message):
        parse_response_seconds(raw)


def test_levels_may_have_their_own_topics():
    levels = parse_levels(json.dumps([{"level": 1, "role": "On-call"},
                                      {"level": 2, "role": "Lead", "topic_arn": "arn:aws:sns:us-east-1:1:lead"}]))
    assert [(level.level, level.topic_arn) for level in levels] == [(1, None), (2, "arn:aws:sns:us-east-1:1:lead")]


@pytest.mark.parametrize("raw", ["[]", "{", json.dumps([{"level": 2, "role": "x"}]),
                                 json.dumps([{"level": 1, "role": ""}]),
                                 json.dumps([{"level": 1, "role": "x", "topic_arn": "not-an-arn"}])])
def test_bad_levels_are_refused(raw):
    with pytest.raises(PolicyInvalid):
        parse_levels(raw)
