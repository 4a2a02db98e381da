"""A capacity test's measured saturation point, as an operator records it (``POST /sre/capacity/saturation``).

The test runs outside the service (``make capacity-test``, or a step of a chaos experiment)
and posts what it measured; the body is checked field by field so a stored point is always
one the plan can use.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping, Optional

from chalicelib.capacity.records import SaturationPoint
from chalicelib.http.errors import ApiError
from chalicelib.http.request import json_kind

CAPACITY_UNITS = ("concurrent execution", "task")
MAX_STEPS = 100
MAX_RPS = 1e7
# A thousandth of a unit at least: DynamoDB stores no number below 1e-130, and the rate per unit
# (rps / units) must stay a finite number.
MIN_CAPACITY_UNITS = 0.001
MAX_COUNT = 10 ** 9
STEP_TEXT_MAX = 500
TEXT_RULE = "without control characters, line separators or bidirectional overrides"
# Text is stored and shown on the dashboard: no control characters, line separators or bidirectional
# overrides (the document's pattern says the same; chalicelib.http.strict says why) and no lone
# surrogates (which no JSON Schema pattern can state, nor UTF-8 encode).
TEXT = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069\ud800-\udfff]+$")
FIELDS = ("scenario", "target", "highest_holding_rps", "breaking_rps", "breaking_reason", "capacity_unit",
          "capacity_units", "steps")


def _number(value: Any, *, nullable: bool = False, minimum: float = 0.0) -> bool:
    if value is None:
        return nullable
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    return minimum <= value <= MAX_RPS


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit and TEXT.match(value) is not None


def _required_text(value: Any, limit: int) -> bool:
    """Text that says something: not only spaces (what the plan and the dashboard show it by)."""
    return _text(value, limit) and bool(value.strip())


def _is_json_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _step_measure_problem(value: Any) -> Optional[str]:
    if value is None:
        return None
    if not _is_json_number(value):
        return f"must be a number from 0 to {MAX_RPS:g}, or null; got {json_kind(value)}"
    if not 0 <= value <= MAX_RPS:
        return f"is out of range: {value:g} is not from 0 to {MAX_RPS:g}"
    return None


def _step_count_problem(value: Any) -> Optional[str]:
    """A whole number, written as 12 or 12.0 alike (JSON Schema's "integer" is the value, not the spelling)."""
    if not _is_json_number(value):
        return f"must be a whole number from 0 to {MAX_COUNT}; got {json_kind(value)}"
    if not float(value).is_integer():
        return f"must be a whole number from 0 to {MAX_COUNT}; {value:g} has a fraction"
    if not 0 <= value <= MAX_COUNT:
        return f"is out of range: {value:g} is not from 0 to {MAX_COUNT}"
    return None


def _step_flag_problem(value: Any) -> Optional[str]:
    return None if isinstance(value, bool) else f"must be true or false; got {json_kind(value)}"


def _step_text_problem(value: Any) -> Optional[str]:
    """Why the step broke: text, or null when it held."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"must be text saying why the step broke, or null; got {json_kind(value)}"
    if not value:
        return "is an empty string: give text saying why the step broke, or null when it held"
    if len(value) > STEP_TEXT_MAX:
        return f"is {len(value)} characters long; the limit is {STEP_TEXT_MAX}"
    if not TEXT.match(value):
        return f"must be text {TEXT_RULE}"
    return None


STEP_FIELDS = {"offered_rps": _step_measure_problem, "achieved_rps": _step_measure_problem,
               "p50_ms": _step_measure_problem, "p99_ms": _step_measure_problem, "mean_ms": _step_measure_problem,
               "concurrency": _step_measure_problem, "completed": _step_count_problem, "held": _step_flag_problem,
               "broke": _step_text_problem}


def _step_field_problem(name: str, value: Any) -> Optional[str]:
    check = STEP_FIELDS.get(name)
    if check is None:
        return f"is not a step field; the fields are {', '.join(STEP_FIELDS)}"
    return check(value)


def _step_problems(steps: Any) -> list[str]:
    if not isinstance(steps, list) or len(steps) > MAX_STEPS:
        return [f"Must be a list of at most {MAX_STEPS} objects."]
    problems = []
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            problems.append(f"Step {index} must be an object.")
            continue
        for name, value in step.items():
            problem = _step_field_problem(name, value)
            if problem is not None:
                problems.append(f"Step {index}: {name!r} {problem}.")
    return problems


def saturation_from_body(body: Mapping[str, Any], measured_at: str) -> SaturationPoint:
    problems: dict[str, list[str]] = {}
    for name in sorted(set(body) - set(FIELDS)):
        problems[name] = ["Unknown field."]
    checks = {
        "scenario": (_required_text(body.get("scenario"), 100),
                     f"Required text of at most 100 characters, not only spaces, {TEXT_RULE}."),
        "target": (_required_text(body.get("target"), 200),
                   f"Required text of at most 200 characters, not only spaces, {TEXT_RULE}."),
        # null is a value here (no step held, or none broke); a missing field is not.
        "highest_holding_rps": ("highest_holding_rps" in body
                                and _number(body["highest_holding_rps"], nullable=True),
                                f"A number from 0 to {MAX_RPS:g}, or null when no step held."),
        "breaking_rps": ("breaking_rps" in body and _number(body["breaking_rps"], nullable=True),
                         f"A number from 0 to {MAX_RPS:g}, or null when no step broke."),
        "breaking_reason": (_required_text(body.get("breaking_reason"), 500),
                            f"Required text of at most 500 characters, not only spaces, {TEXT_RULE}."),
        "capacity_unit": (body.get("capacity_unit") in CAPACITY_UNITS, f"One of {', '.join(CAPACITY_UNITS)}."),
        "capacity_units": (_number(body.get("capacity_units"), minimum=MIN_CAPACITY_UNITS),
                           f"A number from {MIN_CAPACITY_UNITS:g} to {MAX_RPS:g}: the concurrency or tasks that "
                           f"served the highest holding step."),
    }
    for name, (ok, message) in checks.items():
        if not ok:
            problems.setdefault(name, []).append(message)
    holding, breaking = body.get("highest_holding_rps"), body.get("breaking_rps")
    if not problems.keys() & {"highest_holding_rps", "breaking_rps"} and holding is not None \
            and breaking is not None and holding >= breaking:
        # The ramp stops at the first step that breaks, so every step that held is below it; a point
        # the other way round would put a rate that broke into the plan as one that held.
        problems["highest_holding_rps"] = [f"Must be below breaking_rps ({breaking:g}): the ramp rises until a "
                                           "step breaks."]
    step_problems = _step_problems(body.get("steps", []))
    if step_problems:
        problems["steps"] = step_problems
    if problems:
        raise ApiError("Validation failed", details=problems)
    return SaturationPoint(measured_at=measured_at, target=body["target"], scenario=body["scenario"],
                           highest_holding_rps=body["highest_holding_rps"], breaking_rps=body["breaking_rps"],
                           breaking_reason=body["breaking_reason"], capacity_unit=body["capacity_unit"],
                           capacity_units=body["capacity_units"], steps=tuple(_stored_step(step)
                                                                              for step in body.get("steps", [])))


def _stored_step(step: Mapping[str, Any]) -> dict[str, Any]:
    """A checked step as stored: a count sent as 12.0 is kept as 12."""
    return {**step, "completed": int(step["completed"])} if "completed" in step else dict(step)
