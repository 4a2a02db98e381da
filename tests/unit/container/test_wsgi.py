"""The Chalice app through the WSGI adapter answers as it does through API Gateway."""
from __future__ import annotations

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest


@pytest.fixture
def wsgi(tables):
    from container.wsgi import ChaliceWSGI

    from app import app

    return ChaliceWSGI(app)


def call(application, method, path, body=b"", headers=None, raw_uri=None):
    environ: dict = {}
    setup_testing_defaults(environ)
    path_only, _, query = path.partition("?")
    environ.update({"REQUEST_METHOD": method, "PATH_INFO": path_only, "QUERY_STRING": query,
                    "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)) if body else ""})
    if raw_uri:
        environ["RAW_URI"] = raw_uri
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = status, response_headers

    payload = b"".join(application(environ, start_response))
    return int(seen["status"].split()[0]), dict(seen["headers"]), payload


JSON = {"Content-Type": "application/json"}


def compact(value):
    return json.dumps(value, separators=(",", ":")).encode()


def test_a_user_created_through_wsgi_reads_back(wsgi):
    status, headers, body = call(wsgi, "POST", "/api/users", json.dumps({"name": "Ada", "email": "a@example.com"})
                                 .encode(), JSON)
    assert status == 201 and headers["Content-Type"] == "application/json"
    user = json.loads(body)
    assert json.loads(call(wsgi, "GET", f"/api/users/{user['id']}")[2]) == user


def test_responses_carry_the_middleware_headers_and_a_correct_length(wsgi):
    status, headers, body = call(wsgi, "GET", "/health/live")
    assert status == 200
    assert headers["X-Content-Type-Options"] == "nosniff" and headers.get("X-Correlation-Id")
    assert int(headers["Content-Length"]) == len(body)


def test_query_parameters_reach_the_route(wsgi):
    status, _, body = call(wsgi, "GET", "/api/users?limit=0")
    assert status == 400 and "limit" in json.loads(body)["details"]


def test_an_unknown_route_is_404_json_as_the_gateway_answers(wsgi):
    status, headers, body = call(wsgi, "GET", "/no/such/route", headers={"Authorization": "Bearer x"})
    assert (status, json.loads(body)) == (404, {"error": "Not found"})
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_an_answer_the_adapter_writes_itself_carries_a_correlation_id_of_its_own(wsgi):
    """An unknown route's 404 and a 413 had the security headers but no X-Correlation-Id."""
    first = call(wsgi, "GET", "/no/such/route")[1]["X-Correlation-Id"]
    assert first and first != call(wsgi, "GET", "/no/such/route")[1]["X-Correlation-Id"]


def test_an_http_1_1_request_without_a_host_header_is_400_json(wsgi):
    def without_host(environ, start_response):
        environ.pop("HTTP_HOST")
        environ["SERVER_PROTOCOL"] = "HTTP/1.1"
        return wsgi(environ, start_response)

    status, _, body = call(without_host, "GET", "/api/users")
    assert (status, json.loads(body)) == (400, {"error": "Host header is missing; HTTP/1.1 requires one"})


@pytest.mark.parametrize("path", ["/api/users", "/user", "/no-such-route"])
def test_a_head_request_is_answered_with_headers_and_no_body(wsgi, path):
    status, headers, body = call(wsgi, "HEAD", path)
    assert 400 <= status < 500 and headers["Content-Type"] == "application/json"
    assert body == b"" and int(headers["Content-Length"]) > 0


def test_a_wrong_method_is_405_json(wsgi):
    status, _, body = call(wsgi, "PATCH", "/api/users")
    assert status == 405 and "error" in json.loads(body)


@pytest.mark.parametrize("method, path", [("CONNECT", "example.com:443"), ("TRACE", "/api/users"),
                                          ("BREW", "/nowhere")])
def test_a_method_no_route_can_serve_is_405_json_naming_it_whatever_the_path(wsgi, method, path):
    status, headers, body = call(wsgi, method, path)
    assert status == 405 and json.loads(body) == {"error": f"Method {method} is not supported"}
    assert headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def test_a_body_over_the_gateway_payload_limit_is_413_json_without_reaching_the_app(wsgi):
    from container.wsgi import MAX_REQUEST_BYTES

    status, _, body = call(wsgi, "POST", "/api/users", b"x" * (MAX_REQUEST_BYTES + 1), JSON)
    assert (status, json.loads(body)) == (413, {"error": "Request body too large"})


def test_the_raw_percent_encoded_path_is_what_routes_match(wsgi):
    status, _, body = call(wsgi, "GET", "/api/users/a b", raw_uri="/api/users/a%20b")
    assert status == 404 and json.loads(body) == {"error": "User not found"}


@pytest.mark.parametrize("raw_uri", ["/health;foo", "/api/users;x=1", "/;x", "//x/health"])
def test_a_path_with_semicolon_parameters_or_two_leading_slashes_is_an_unknown_route_as_sent(wsgi, raw_uri):
    path = raw_uri.replace("//x", "/x", 1)  # PATH_INFO does not matter: the raw target is routed
    status, _, body = call(wsgi, "GET", path, raw_uri=raw_uri)
    assert (status, json.loads(body)) == (404, {"error": "Not found"})


def test_a_user_id_with_semicolon_parameters_names_no_user_and_deletes_none(wsgi):
    status, _, body = call(wsgi, "POST", "/api/users", json.dumps({"name": "Ada", "email": "a@example.com"}).encode(),
                           JSON)
    user_id = json.loads(body)["id"]
    status, _, body = call(wsgi, "DELETE", f"/api/users/{user_id};junk", raw_uri=f"/api/users/{user_id};junk")
    assert (status, json.loads(body)) == (404, {"error": "User not found"})
    assert call(wsgi, "GET", f"/api/users/{user_id}")[0] == 200


def test_a_malformed_json_body_is_a_400_not_a_500(wsgi):
    status, _, body = call(wsgi, "POST", "/api/users", b'{"name": "Ada",', JSON)
    assert status == 400 and "error" in json.loads(body)


def test_a_204_carries_no_content_type_and_no_length(wsgi):
    _, _, body = call(wsgi, "POST", "/api/users", json.dumps({"name": "Ada", "email": "gone@example.com"}).encode(),
                      JSON)
    status, headers, payload = call(wsgi, "DELETE", f"/api/users/{json.loads(body)['id']}")
    assert (status, payload) == (204, b"")
    assert "Content-Type" not in headers and "Content-Length" not in headers


@pytest.mark.parametrize("length", ["abc", "-1", "1_0", "99999999999999999999"])
def test_a_content_length_that_is_not_a_byte_count_is_400_json(wsgi, length):
    environ_headers = {**JSON, "Content-Length": length}
    status, _, body = call(wsgi, "POST", "/api/users", b"", environ_headers)
    assert status == 400 and "Content-Length" in json.loads(body)["error"]


def test_a_body_cut_short_of_its_content_length_is_400_json_and_creates_nothing(wsgi):
    body = json.dumps({"name": "Ada", "email": "cut@example.com"}).encode()
    status, _, answer = call(wsgi, "POST", "/api/users", body, {**JSON, "Content-Length": str(len(body) + 5)})
    assert status == 400 and f"{len(body)} of the {len(body) + 5} bytes" in json.loads(answer)["error"]
    assert call(wsgi, "POST", "/api/users", body, JSON)[0] == 201  # no 409: the cut request wrote nothing


def test_gunicorns_own_refusals_are_written_as_json():
    import socket

    from container.worker import write_json_error

    ours, theirs = socket.socketpair()
    with ours, theirs:
        write_json_error(ours, 431, "Request Header Fields Too Large", "Error parsing headers: 'limit'")
        head, _, body = theirs.recv(65536).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ") and b"Content-Type: application/json" in head
    assert json.loads(body)["error"].startswith("Request Header Fields Too Large")
    assert body == compact(json.loads(body))
    assert b"X-Correlation-Id: " in head


@pytest.mark.parametrize("method, path, body, headers", [
    ("GET", "/no/such/route", b"", None),  # the adapter's own 404
    ("POST", "/api/users", b"x" * (10 * 1024 * 1024 + 1), JSON),  # the adapter's own 413
    ("PATCH", "/api/users", b"", None),  # the app's 405
    ("POST", "/api/users", b"{", JSON),  # the app's 400
])
def test_every_error_body_is_compact_json_as_the_apps_own(wsgi, method, path, body, headers):
    status, _, payload = call(wsgi, method, path, body, headers)
    assert status >= 400 and payload == compact(json.loads(payload))


def test_an_empty_content_type_is_a_415_as_through_api_gateway(wsgi):
    status, _, body = call(wsgi, "POST", "/api/users", b'{"name": "Ada", "email": "a@example.com"}',
                           {"Content-Type": ""})
    assert status == 415
    assert json.loads(body) == {"error": "Content-Type is empty; this endpoint accepts application/json"}
