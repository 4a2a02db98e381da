"""What make capacity-test posts is what the API documents and accepts."""
import json

import jsonschema

from chalicelib.capacity.saturation import saturation_from_body
from chalicelib.web.openapi import openapi_document
from tools.capacity_test import saturation_body

RESULT = {"scenario": "users-list", "target": "http://127.0.0.1:8000", "highest_holding_rps": 20,
          "concurrency_at_highest": 0.4, "breaking_rps": 25, "breaking_reason": "latency (latency) measured 0.9",
          "steps": [{"offered_rps": 20, "achieved_rps": 19.8, "completed": 99, "p50_ms": 4.0, "p99_ms": 30.0,
                     "mean_ms": 6.0, "concurrency": 0.4, "slo": [], "held": True, "broke": None}]}


def input_schema():
    schemas = openapi_document()["components"]["schemas"]
    return json.loads(json.dumps(schemas["SaturationPointInput"]).replace("#/components/schemas/", "#/$defs/"))


def test_the_posted_body_matches_the_documented_schema_and_the_server_accepts_it():
    body = saturation_body(RESULT, tasks=None)
    jsonschema.validate(body, input_schema())
    point = saturation_from_body(body, "2026-03-09T00:00:00+00:00")
    assert point.capacity_unit == "concurrent execution" and point.rps_per_unit == 50


def test_with_tasks_the_unit_is_a_task():
    body = saturation_body(RESULT, tasks=3)
    assert (body["capacity_unit"], body["capacity_units"]) == ("task", 3.0)
    assert saturation_from_body(body, "2026-03-09T00:00:00+00:00").rps_per_unit == round(20 / 3, 4)


def test_fewer_than_one_task_is_refused_before_any_request(capsys):
    from tools.capacity_test import main

    assert main(["--no-record", "--tasks", "0", "--base-url", "http://127.0.0.1:9"]) == 2
    assert "--tasks" in capsys.readouterr().err
