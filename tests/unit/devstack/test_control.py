"""The local stack's control API, as its callers (tests, people, the embedded AWS) see it."""
import json
import logging

import pytest

from devstack.control import control_server
from devstack.functions import UnknownFunction
from devstack.ports import free_port
from tests.support.raw_http import one_answer


class IncidentMissing(Exception):
    pass


def invoke(function_key, event):
    """As the stack's: known functions run on their event, an unknown key is refused."""
    if function_key == "chaos-journal":
        return {"journal": event["experiment_id"]}
    if function_key == "escalation-page":
        raise IncidentMissing(event["incident_id"])
    if function_key == "breaker-incidents":
        return [record.get("body") for record in event["Records"]]
    raise UnknownFunction(function_key)


def invoke_lambda(function_key, body, response_headers):
    """As devstack.statemachines.call_handler: a function error is a 200 payload with the error header."""
    response_headers["x-amz-function-error"] = "Unhandled"
    return json.dumps({"errorType": "KeyError", "errorMessage": function_key}).encode()


TOKEN = "the-operator-token"


def operator_of(headers):
    """As ``OperatorAuth.require``: the operator's name, 401 without a token, 403 for another."""
    from chalicelib.http.errors import Forbidden, Unauthorized

    value = headers.get("authorization")
    if not value:
        raise Unauthorized("Authentication required: send Authorization: Bearer <operator token>",
                           headers={"WWW-Authenticate": 'Bearer realm="sre"'})
    if value != f"Bearer {TOKEN}":
        raise Forbidden("Operator token is not valid")
    return "alice"


def failing_restart():
    raise RuntimeError("the embedded AWS did not come back")


@pytest.fixture
def control():
    port = free_port()
    server = control_server("127.0.0.1", port, status=lambda: {"ready": True}, invoke=invoke,
                            flush_metrics=lambda: 3, invoke_lambda=invoke_lambda, operator_of=operator_of,
                            actions={"database/stop": lambda: {"stopped": True}, "embedded-aws/restart": failing_restart})
    yield port
    server.shutdown()
    server.server_close()


def exchange(port, raw):
    """(status, headers, body) of the one answer to ``raw``; the connection closes after it."""
    return one_answer("127.0.0.1", port, raw)


def request(port, method, path, body=b"", headers="", token=TOKEN):
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    authorization = f"Authorization: Bearer {token}\r\n" if token else ""
    return exchange(port, f"{method} {path} HTTP/1.1\r\nHost: x\r\n{length}{authorization}{headers}\r\n".encode()
                    + body)


def error_of(answer, status):
    assert answer[0] == status and answer[1]["content-type"] == "application/json", answer
    return json.loads(answer[2])["error"]


def test_status_answers_200_json(control):
    status, headers, body = request(control, "GET", "/status")
    assert (status, json.loads(body)) == (200, {"ready": True})


@pytest.mark.parametrize("length", ["abc", "-5", "1_0", " ", "0x10", "99999999999999999999"])
def test_a_content_length_that_is_not_a_byte_count_answers_400_json(control, length):
    answer = request(control, "POST", "/metrics/flush", headers=f"Content-Length: {length}\r\n")
    assert "Content-Length" in error_of(answer, 400)


def test_a_content_length_given_twice_answers_400_json(control):
    answer = request(control, "POST", "/metrics/flush", headers="Content-Length: 0\r\nContent-Length: 0\r\n")
    assert "more than once" in error_of(answer, 400)


def test_a_body_over_the_limit_answers_413_json_before_it_is_read(control):
    answer = request(control, "POST", "/functions/chaos-journal/invoke", headers=f"Content-Length: {10 ** 12}\r\n")
    assert "limit" in error_of(answer, 413)


def test_a_body_cut_short_of_its_content_length_answers_400_json(control):
    raw = (b"POST /functions/chaos-journal/invoke HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
           b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n{}")
    assert "ended after" in error_of(exchange(control, raw), 400)


def test_a_chunked_body_answers_411_json_not_an_empty_event(control):
    raw = (b"POST /functions/chaos-journal/invoke HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n"
           b"2\r\n{}\r\n0\r\n\r\n")
    assert "Content-Length" in error_of(exchange(control, raw), 411)


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/status", "GET, HEAD"), ("POST", "/status", "GET, HEAD"), ("DELETE", "/status", "GET, HEAD"),
    ("GET", "/metrics/flush", "POST"), ("PATCH", "/functions/chaos-journal/invoke", "POST"),
    ("OPTIONS", "/database/stop", "POST"), ("BREW", "/status", "GET, HEAD"), ("TRACE", "/lambda/x/invoke", "POST"),
])
def test_a_wrong_method_on_a_known_path_answers_405_json_with_the_paths_allow(control, method, path, allow):
    answer = request(control, method, path)
    assert method in error_of(answer, 405) and answer[1]["allow"] == allow


def test_head_on_status_answers_what_get_does_without_a_body(control):
    status, headers, body = request(control, "HEAD", "/status")
    assert (status, body) == (200, b"") and int(headers["content-length"]) == len(b'{"ready":true}')


def test_head_on_a_post_path_answers_405_without_a_body(control):
    status, headers, body = request(control, "HEAD", "/metrics/flush")
    assert (status, headers["allow"], body) == (405, "POST", b"")


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_an_unknown_path_answers_404_json(control, method):
    assert error_of(request(control, method, "/no/such/path"), 404) == "Not found"


@pytest.mark.parametrize("line", [b"GARBAGE", b"GET /status HTTP/1.1 extra", b"GET /status HTTP/x", b"POST /status",
                                  b"GET /status HTTP/2.0"])
def test_a_malformed_request_line_answers_json_with_a_status_line(control, line):
    status, headers, body = exchange(control, line + b"\r\nHost: x\r\n\r\n")
    assert 400 <= status < 600 and headers["content-type"] == "application/json" and json.loads(body)["error"]


def test_a_request_line_without_a_version_answers_400_json_with_a_status_line(control):
    assert "HTTP/0.9" in error_of(exchange(control, b"GET /status\r\n\r\n"), 400)


@pytest.mark.parametrize("path", ["/status?x=1", "/metrics/flush?a=1&b", "/functions/chaos-journal/invoke?q"])
def test_a_query_string_on_a_known_path_answers_400_naming_it_not_404(control, path):
    method = "GET" if path.startswith("/status") else "POST"
    error = error_of(request(control, method, path), 400)
    assert "query" in error and path.partition("?")[2].split("&")[0].split("=")[0] in error


def test_invoking_a_function_answers_its_result(control):
    answer = request(control, "POST", "/functions/chaos-journal/invoke", b'{"experiment_id": "e-1"}')
    assert (answer[0], json.loads(answer[2])) == (200, {"result": {"journal": "e-1"}})


def test_invoking_an_unknown_function_answers_404_naming_it(control):
    assert error_of(request(control, "POST", "/functions/no-such/invoke", b"{}"), 404) == "unknown function no-such"


@pytest.mark.parametrize("function_key, event, exception", [
    ("chaos-journal", b"{}", "KeyError"),  # the handler's own KeyError: not an unknown function
    ("escalation-page", b'{"incident_id": "nope"}', "IncidentMissing"),
    ("breaker-incidents", b'{"Records": "x"}', "AttributeError"),
])
def test_a_function_that_raises_on_its_event_answers_502_naming_the_function_and_exception(
        control, caplog, function_key, event, exception):
    with caplog.at_level(logging.ERROR, logger="devstack.control"):
        error = error_of(request(control, "POST", f"/functions/{function_key}/invoke", event), 502)
    assert error.startswith(f"function {function_key} failed: {exception}")
    assert "Traceback" not in error and [record.exc_info[0].__name__ for record in caplog.records] == [exception]


@pytest.fixture
def control_with_the_stacks_invoke(monkeypatch):
    """The stack's own ``invoke``, every handler of infra/functions.json reading a key its event lacks."""
    import devstack.functions as functions

    def handler(event, context):
        return event["experiment_id"]

    monkeypatch.setattr(functions, "handler_for", lambda function_key: handler)
    port = free_port()
    server = control_server("127.0.0.1", port, status=dict, invoke=functions.invoke, flush_metrics=lambda: 0,
                            invoke_lambda=invoke_lambda, operator_of=operator_of)
    yield port
    server.shutdown()
    server.server_close()


def test_the_stacks_invoke_tells_an_unknown_function_from_a_handlers_key_error(control_with_the_stacks_invoke):
    port = control_with_the_stacks_invoke
    assert error_of(request(port, "POST", "/functions/no-such/invoke", b"{}"), 404) == "unknown function no-such"
    error = error_of(request(port, "POST", "/functions/chaos-journal/invoke", b"{}"), 502)
    assert error == "function chaos-journal failed: KeyError: 'experiment_id'"


@pytest.mark.parametrize("event", [b"{nope", b"[" * 100000])
def test_an_event_that_is_not_json_answers_400(control, event):
    assert "JSON" in error_of(request(control, "POST", "/functions/chaos-journal/invoke", event), 400)


def test_the_lambda_invoke_api_answers_a_function_error_as_lambda_does(control):
    status, headers, body = request(control, "POST", "/lambda/escalation-page/invoke", b"{}")
    assert (status, headers["x-amz-function-error"], json.loads(body)["errorType"]) == (200, "Unhandled", "KeyError")


def test_an_action_answers_its_result(control):
    answer = request(control, "POST", "/database/stop")
    assert (answer[0], json.loads(answer[2])) == (200, {"stopped": True})


def test_an_action_that_fails_answers_500_json_and_logs_why(control, caplog):
    with caplog.at_level(logging.ERROR, logger="devstack.control"):
        assert error_of(request(control, "POST", "/embedded-aws/restart"), 500) == "Internal server error"
    assert "did not come back" in caplog.text


def audit_lines(output):
    return [json.loads(line)["audit"] for line in output.splitlines()
            if line.startswith("{") and '"message":"audit"' in line]


@pytest.mark.parametrize("path", ["/database/stop", "/metrics/flush", "/functions/chaos-journal/invoke"])
def test_an_action_without_the_operator_token_is_401_audited_and_not_done(control, capsys, path):
    """The database switches, restarts and function runs needed no token and left no audit line."""
    capsys.readouterr()
    answer = request(control, "POST", path, b'{"experiment_id": "e-1"}', token=None)
    assert error_of(answer, 401).startswith("Authentication required")
    assert answer[1]["www-authenticate"].startswith("Bearer")
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "unauthenticated", "action": f"control POST {path}", "target": path.strip("/"),
         "outcome": "answered 401"}]


def test_an_action_with_another_token_is_403(control):
    assert error_of(request(control, "POST", "/database/stop", token="guess"), 403) == "Operator token is not valid"


def test_an_action_is_audited_under_the_operators_name(control, capsys):
    capsys.readouterr()
    assert request(control, "POST", "/database/stop")[0] == 200
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "alice", "action": "control POST /database/stop", "target": "database/stop", "outcome": "done"}]


def test_the_status_and_the_embedded_aws_invocations_need_no_token(control):
    assert request(control, "GET", "/status", token=None)[0] == 200
    assert request(control, "POST", "/lambda/escalation-page/invoke", b"{}", token=None)[0] == 200
