"""What make capacity-test posts is what the API documents and accepts."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest

from chalicelib.capacity.saturation import saturation_from_body
from chalicelib.web.openapi import openapi_document
from tools.capacity_test import saturation_body

RESULT = {"run_id": "lg-20261206T154630-e0b34f", "scenario": "users-list", "target": "http://127.0.0.1:8000",
          "highest_holding_rps": 20,
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


def refusal(capsys, argv):
    from tools.capacity_test import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_fewer_than_one_task_is_refused_before_any_request(capsys):
    assert "--tasks" in refusal(capsys, ["--no-record", "--tasks", "0", "--base-url", "http://127.0.0.1:9"])


def test_tasks_without_a_recording_is_refused(capsys):
    """--tasks sets the unit of the recorded point; with --no-record it was accepted and ignored."""
    assert "--tasks gives the unit of the recorded point; with --no-record nothing is recorded" in refusal(
        capsys, ["--no-record", "--tasks", "3", "--base-url", "http://127.0.0.1:9"])


def test_a_base_url_where_nothing_answers_is_refused_before_the_ramp(capsys, monkeypatch):
    from devstack.ports import free_port

    monkeypatch.setattr("tools.loadgen.steps.run_steps", lambda *args, **kwargs: pytest.fail("the ramp ran"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    printed = refusal(capsys, ["--no-record", "--base-url", url])
    assert f"nothing answers at {url}" in printed and f"`make run PORT={port}`" in printed


def test_without_a_token_it_names_the_token_command_of_the_stack_on_that_port(capsys):
    assert "`make token PORT=9123` prints the local stack's" in refusal(capsys, ["--base-url", "http://127.0.0.1:9123"])


@pytest.mark.parametrize("argv, said", [
    (["--ramp", "5:5"], "not a ramp: '5:5'"),
    (["--step-duration", "soon"], "not a duration: 'soon'"),
    (["--scenario", "nosuch"], "nosuch: no such scenario file"),
    (["--scenario", "crud-mix"], "scenario crud-mix sends more than one request per iteration"),
])
def test_a_ramp_or_scenario_it_cannot_run_is_a_usage_error(capsys, argv, said):
    assert said in refusal(capsys, ["--no-record", "--base-url", "http://127.0.0.1:9", *argv])


@pytest.mark.parametrize("ramp, said", [
    ("1:1e-310:2", "this one has over 1e308 steps of 5s"),
    ("1:1e-300:2", "this one has 1e+300 steps of 5s"),
    ("1e308:1:1e308", "a step sends at most 10^9 requests (rate x step duration)"),
])
def test_a_ramp_whose_figures_overflow_is_refused_in_one_short_line(capsys, monkeypatch, ramp, said):
    """Each was an OverflowError (exit 1), or a refusal that printed a step count of 300 digits."""
    monkeypatch.setattr("tools.loadgen.steps.run_steps", lambda *args, **kwargs: pytest.fail("the ramp ran"))
    printed = refusal(capsys, ["--no-record", "--base-url", "http://127.0.0.1:9", "--scenario", "health-live",
                               "--ramp", ramp, "--step-duration", "5s"])
    assert f"--ramp {ramp}: " in printed and said in printed
    assert max(len(line) for line in printed.splitlines()) < 200


@pytest.fixture
def answering_stack():
    """Answers every POST as the test says: (status, content type, body)."""
    answer = {}

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, content_type, payload = answer["reply"]
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answer["base_url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield answer
    server.shutdown()
    server.server_close()


@pytest.fixture
def refusing_stack(answering_stack):
    """Answers every request as a stack given a wrong operator token does."""
    answering_stack["reply"] = (403, "application/json", b'{"error":"Operator token is not valid"}')
    return answering_stack["base_url"]


def test_a_refused_operator_token_fails_before_the_ramp_saying_so(capsys, monkeypatch, refusing_stack):
    from tools.capacity_test import main

    monkeypatch.setattr("tools.loadgen.steps.run_steps", lambda *args, **kwargs: pytest.fail("the ramp ran"))
    assert main(["--token", "wrong", "--base-url", refusing_stack]) == 1
    printed = capsys.readouterr().err
    assert "the stack refused the operator token (403" in printed and "make token PORT=" in printed


@pytest.mark.parametrize("reply, said", [
    ((501, "text/html", b"<html>\n<title>Error response</title>\n<p>Error code: 501</p></html>"),
     "got 501 <html> <title>Error response</title> <p>Error code: 501</p></html>"),
    ((200, "application/json", b'{"ok": true}'), 'got 200 {"ok": true}'),
    ((400, "text/plain", b"Bad Request"), "got 400 Bad Request"),
    ((404, "application/json", b'{"error": "Not found"}'), 'got 404 {"error": "Not found"}'),
])
def test_a_server_that_is_not_the_service_fails_the_token_check_before_the_ramp(capsys, monkeypatch,
                                                                                answering_stack, reply, said):
    """A static file server's 501 passed the check; the whole ramp ran, then the recording failed."""
    from tools.capacity_test import main

    answering_stack["reply"] = reply
    monkeypatch.setattr("tools.loadgen.steps.run_steps", lambda *args, **kwargs: pytest.fail("the ramp ran"))
    assert main(["--token", "x", "--base-url", answering_stack["base_url"]]) == 1
    printed = capsys.readouterr().err
    assert "does not answer as the service: the token check (POST /sre/capacity/saturation with an empty point) " \
           "expects a 400 naming the missing fields, and got" in printed and said in printed
    assert len(printed.splitlines()) == 1


def test_the_services_answer_to_a_good_token_passes_the_check(answering_stack):
    from tools.capacity_test import check_token

    answering_stack["reply"] = (400, "application/json",
                                b'{"error": "Validation failed", "details": {"scenario": ["Required text."]}}')
    check_token(answering_stack["base_url"], "good")


def test_ctrl_c_during_the_ramp_says_nothing_was_recorded(capsys, monkeypatch, refusing_stack):
    from tools.capacity_test import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("tools.loadgen.steps.run_steps", interrupted)
    assert main(["--no-record", "--base-url", refusing_stack]) == 130
    assert "interrupted; nothing recorded" in capsys.readouterr().err


def announcing(result, printed_by_then=None):
    """A stand-in for run_steps that gives ``result``, announcing its id before its first step as run_steps
    does; ``printed_by_then`` (a capsys) gets what was printed until that moment, in its ``seen`` list."""
    seen = []

    def run_steps(*args, on_ramp_start, **kwargs):
        on_ramp_start(result["run_id"])
        if printed_by_then is not None:
            seen.append(printed_by_then.readouterr().out)
        return result

    run_steps.seen = seen
    return run_steps


def test_the_ramp_id_is_printed_before_the_first_step(capsys, monkeypatch, refusing_stack):
    """It was printed after the last step: the default ramp is over a minute of silence."""
    from tools.capacity_test import main

    held = {**RESULT, "interrupted": False, "setup_failures": 0, "cleanup": None}
    ramp = announcing(held, printed_by_then=capsys)
    monkeypatch.setattr("tools.loadgen.steps.run_steps", ramp)
    assert main(["--no-record", "--base-url", refusing_stack]) == 0
    assert ramp.seen == ["ramp run lg-20261206T154630-e0b34f (each step's requests carry it in X-Correlation-Id)\n"]
    assert "ramp run" not in capsys.readouterr().out  # once


def test_a_ramp_ended_by_ctrl_c_records_nothing_and_says_what_its_cleanup_did(capsys, monkeypatch, refusing_stack):
    from tools.capacity_test import main

    interrupted = {**RESULT, "steps": [], "highest_holding_rps": None, "breaking_rps": None, "interrupted": True,
                   "breaking_reason": "interrupted (Ctrl-C) during the step at 5 requests/s, which was not judged",
                   "cleanup": {"left": 100, "deleted": 100, "failed": 0, "failures": [], "error": None}}
    monkeypatch.setattr("tools.loadgen.steps.run_steps", announcing(interrupted))
    monkeypatch.setattr("tools.capacity_test.check_token", lambda *args, **kwargs: None)
    monkeypatch.setattr("tools.capacity_test.record", lambda *args, **kwargs: pytest.fail("an interrupted ramp was recorded"))
    assert main(["--token", "t", "--base-url", refusing_stack]) == 130
    printed = capsys.readouterr()
    assert "ramp run lg-20261206T154630-e0b34f" in printed.out
    assert "interrupted (Ctrl-C) during the step at 5 requests/s" in printed.out
    assert "deleted 100 of the 100 resources the ramp stored" in printed.out
    assert "interrupted; nothing recorded" in printed.err


@pytest.mark.parametrize("option, value, said", [
    ("--ramp", "-5:5:60", "--ramp -5:5:60: steps need 0 < start <= max"),
    ("--step-duration", "-5s", "Invalid value for '--step-duration': a duration is positive, not '-5s'"),
    ("--tasks", "-1", "Invalid value for '--tasks': -1 is not in the range x>=1"),
])
def test_a_negative_value_gets_the_same_refusal_with_or_without_the_equals_sign(capsys, option, value, said):
    base = ["--no-record", "--base-url", "http://127.0.0.1:9"]
    refusals = [refusal(capsys, [*base, option, value]), refusal(capsys, [*base, f"{option}={value}"])]
    assert refusals[0] == refusals[1] and said in refusals[0]
