"""The OpenAPI document's field rules are the validators' rules, code point for code point."""
import re
import sys
from pathlib import Path

import pytest

from chalicelib.incidents.api import _text
from chalicelib.users.validation import _check_email, _check_name
from chalicelib.web.openapi import openapi_document

ROOT = Path(__file__).resolve().parents[3]
# Every code point but the surrogates, which the patterns leave out (no engine but Python's takes
# them in a class, and only a lone \u escape in JSON could carry one).
CODE_POINTS = [chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]


def schemas():
    return openapi_document()["components"]["schemas"]


def matcher(*patterns):
    """Whether a value matches every one of ``patterns``: each is compiled once, since the tests
    below try it on every code point."""
    # JSON Schema patterns are ECMA-262: "$" is the end of input; in Python it also matches before a final "\n".
    compiled = [re.compile(re.sub(r"\$$", r"\\Z", pattern)) for pattern in patterns]
    return lambda value: all(regex.search(value) is not None for regex in compiled)


@pytest.mark.parametrize("template", ["{}", "a{}a"])  # alone (trimmed at both ends), and inside
def test_the_name_pattern_accepts_exactly_the_names_the_validator_accepts(template):
    accepted_by = matcher(schemas()["UserInput"]["properties"]["name"]["pattern"])
    disagreements = [char for char in CODE_POINTS
                     if accepted_by(template.format(char)) != (not _check_name(template.format(char))[1])]
    assert disagreements == []


@pytest.mark.parametrize("template", ["{}ada@example.com", "a{}a@example.com"])
def test_the_email_pattern_accepts_exactly_the_emails_the_validator_accepts(template):
    email = schemas()["UserInput"]["properties"]["email"]
    accepted_by = matcher(email["pattern"], *[part["pattern"] for part in email["allOf"]])
    disagreements = [char for char in CODE_POINTS
                     if accepted_by(template.format(char)) != (not _check_email(template.format(char))[1])]
    assert disagreements == []


@pytest.mark.parametrize("local", ["a" * 64, "a" * 65, "a." * 32 + "a", "a" * 30 + "." + "b" * 33])
def test_the_email_local_part_limit_is_in_the_document(local):
    email = schemas()["UserInput"]["properties"]["email"]
    value = f"{local}@example.com"
    documented = matcher(email["pattern"], *[part["pattern"] for part in email["allOf"]])(value)
    assert documented == (not _check_email(value)[1])


@pytest.mark.parametrize("field, required", [("title", True), ("summary", False)])
def test_incident_text_patterns_accept_exactly_what_the_api_accepts(field, required):
    accepted_by = matcher(schemas()["IncidentInput"]["properties"][field]["pattern"])
    for template in ("{}", "x{}x"):
        disagreements = []
        for char in CODE_POINTS:
            errors: dict = {}
            _text({field: template.format(char)}, field, 10, errors, required=required)
            if accepted_by(template.format(char)) != (field not in errors):
                disagreements.append(char)
        assert disagreements == []


def test_incident_details_patterns_accept_exactly_what_the_api_accepts():
    from chalicelib.http.errors import ApiError
    from chalicelib.incidents.api import create_incident

    details = schemas()["IncidentInput"]["properties"]["details"]
    value_accepted_by = matcher(details["additionalProperties"]["anyOf"][0]["pattern"])
    name_accepted_by = matcher(details["propertyNames"]["pattern"])

    class Request:
        def __init__(self, body):
            self.raw_body = body.encode("utf-8", "surrogatepass")

    def refused(details_value):
        import json

        try:
            create_incident(None, None, Request(json.dumps({"title": "t", "severity": "P9", "details": details_value})),
                            None)
        except ApiError as exc:
            return "details" in (exc.details or {})
        raise AssertionError("a P9 incident was not refused")

    # Every character the rule names is in these two blocks (U+2066-U+2069 the last); the rest are the same.
    disagreements = [char for char in CODE_POINTS if (ord(char) < 0x100 or 0x2000 <= ord(char) < 0x2100)
                     and (value_accepted_by(f"x{char}x") == refused({"k": f"x{char}x"})
                          or name_accepted_by(f"x{char}x") == refused({f"x{char}x": 1}))]
    assert disagreements == []


@pytest.mark.parametrize("field", ["scenario", "target", "breaking_reason"])
def test_saturation_point_text_patterns_accept_exactly_what_the_api_accepts(field):
    from chalicelib.capacity.saturation import saturation_from_body
    from chalicelib.http.errors import ApiError

    accepted_by = matcher(schemas()["SaturationPointInput"]["properties"][field]["pattern"])

    def accepted(value):
        body = {"scenario": "s", "target": "t", "highest_holding_rps": None, "breaking_rps": None,
                "breaking_reason": "r", "capacity_unit": "task", "capacity_units": 1, field: value}
        try:
            saturation_from_body(body, "2026-12-05T00:00:00+00:00")
        except ApiError as exc:
            assert set(exc.details) == {field}, exc.details
            return False
        return True

    # Every character the rules name is below U+3100 (U+3000 the last space); the rest are the same.
    disagreements = [char for template in ("{}", "x{}x") for char in CODE_POINTS[:0x3100]
                     if accepted_by(template.format(char)) != accepted(template.format(char))]
    assert disagreements == []


def breaker_reason_patterns():
    paths = openapi_document()["paths"]
    return {action: paths[f"/sre/circuit-breakers/{{name}}/{action}"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]["reason"]["pattern"] for action in ("open", "close", "reset")}


def test_the_breaker_reason_pattern_accepts_exactly_what_the_api_accepts():
    from chalicelib.http.errors import ApiError
    from chalicelib.resilience.operations import _reason

    def accepted(value):
        try:
            _reason({"reason": value})
        except ApiError:
            return False
        return True

    patterns = breaker_reason_patterns()
    assert len(set(patterns.values())) == 1, patterns  # one validator serves the three actions
    accepted_by = matcher(patterns["close"])
    disagreements = [char for template in ("{}", "x{}x") for char in CODE_POINTS
                     if accepted_by(template.format(char)) != accepted(template.format(char))]
    assert disagreements == []


def test_the_runbook_enum_lists_every_runbook_with_and_without_its_folder():
    names = sorted(path.name for path in (ROOT / "runbooks").glob("*.md"))
    enum = schemas()["IncidentInput"]["properties"]["runbook"]["enum"]
    assert sorted(name for name in enum if name) == sorted(names + [f"runbooks/{name}" for name in names])


def test_optional_fields_the_api_takes_as_absent_are_documented_nullable():
    incident = schemas()["IncidentInput"]["properties"]
    for field in ("summary", "fingerprint", "by", "details"):
        assert "null" in incident[field]["type"], field
    assert None in incident["runbook"]["enum"]
    paths = openapi_document()["paths"]
    for verb in ("ack", "mitigate", "resolve"):
        body = paths[f"/sre/incidents/{{incident_id}}/{verb}"]["post"]["requestBody"]["content"]["application/json"]
        assert all("null" in spec["type"] for spec in body["schema"]["properties"].values())


def test_a_new_incident_is_documented_with_deduplicated_not_changed():
    responses = openapi_document()["paths"]["/sre/incidents"]["post"]["responses"]
    for status in ("200", "201"):
        properties = responses[status]["content"]["application/json"]["schema"]["properties"]
        assert "deduplicated" in properties and "changed" not in properties


def test_every_operation_declares_the_400_and_413_any_request_can_get():
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert {"400", "413"} <= set(operation["responses"]), f"{method.upper()} {path}"
