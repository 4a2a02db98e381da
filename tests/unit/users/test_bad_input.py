import gzip
import json

import pytest


def error_of(response):
    body = json.loads(response.body)
    assert isinstance(body.get("error"), str) and body["error"]
    return body


@pytest.mark.parametrize("raw", ["{", "not json", "{'name': 'single quotes'}", "\xff"])
def test_malformed_json_answers_400(send_json, tables, raw):
    response = send_json("post", "/api/users", raw)
    assert response.status_code == 400
    error_of(response)


@pytest.mark.parametrize("raw, named", [("[]", "an array"), ('"string"', "a string"), ("42", "a number"),
                                        ("4.2", "a number"), ("null", "null"), ("true", "a boolean")])
def test_a_body_that_is_not_an_object_answers_400_naming_what_it_is_in_json(send_json, tables, raw, named):
    """In JSON's words: it said 'not NoneType', 'not list'."""
    response = send_json("post", "/api/users", raw)
    assert response.status_code == 400
    assert error_of(response)["error"] == f"Request body must be a JSON object, not {named}"


def test_an_empty_body_answers_400(send_json, tables):
    assert send_json("post", "/api/users", "").status_code == 400


def test_a_body_over_16_kib_answers_413(send_json, tables):
    response = send_json("post", "/api/users", {"name": "x" * 17000, "email": "ada@example.com"})
    assert response.status_code == 413
    assert "limit" in error_of(response)["error"]


def test_a_wrong_content_type_answers_415(client, tables):
    response = client.http.post("/api/users", headers={"Content-Type": "text/plain"},
                                body='{"name": "Ada", "email": "ada@example.com"}')
    assert response.status_code == 415
    assert "text/plain" in error_of(response)["error"]


def test_a_415_names_the_type_the_route_accepts(client, tables):
    response = client.http.post("/user", headers={"Content-Type": "application/json"},
                                body='{"name": "Ada", "email": "ada@example.com"}')
    assert response.status_code == 415
    assert error_of(response)["error"] == ("Unsupported media type: application/json; this endpoint accepts "
                                           "application/x-www-form-urlencoded")


@pytest.mark.parametrize("content_type", ["text/plain, application/json", "text/plain; application/json", "*/*",
                                          "application/json, */*"])
def test_a_content_type_that_only_lists_json_among_others_answers_415_and_creates_nothing(client, tables, content_type):
    response = client.http.post("/api/users", headers={"Content-Type": content_type},
                                body='{"name": "Ada", "email": "ada@example.com"}')
    assert response.status_code == 415
    assert error_of(response)["error"] == (f"Unsupported media type: {content_type}; this endpoint accepts "
                                           "application/json")
    assert json.loads(client.http.get("/api/users").body) == []


def test_an_empty_content_type_answers_415_saying_so(client, tables):
    response = client.http.post("/api/users", headers={"Content-Type": ""},
                                body='{"name": "Ada", "email": "ada@example.com"}')
    assert response.status_code == 415
    assert error_of(response)["error"] == "Content-Type is empty; this endpoint accepts application/json"


@pytest.mark.parametrize("path, content_type, body", [
    ("/api/users", "application/json; charset=latin-1", '{"name": "Ada", "email": "ada@example.com"}'),
    ("/api/users", 'application/json; charset="utf-16"', '{"name": "Ada", "email": "ada@example.com"}'),
    ("/user", "application/x-www-form-urlencoded; charset=iso-8859-1", "name=Ada&email=ada%40example.com")])
def test_a_body_declared_in_a_charset_other_than_utf8_answers_415_and_creates_nothing(client, tables, path,
                                                                                     content_type, body):
    response = client.http.post(path, headers={"Content-Type": content_type}, body=body)
    assert response.status_code == 415
    assert "is not supported; send the body as UTF-8" in error_of(response)["error"]
    assert json.loads(client.http.get("/api/users").body) == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                          "APPLICATION/JSON", "application/json; charset=us-ascii"])
def test_json_declared_as_utf8_or_without_a_charset_is_read(client, content_type):
    response = client.http.post("/api/users", headers={"Content-Type": content_type},
                                body='{"name": "Ada", "email": "ada@example.com"}')
    assert response.status_code == 201


def through_the_local_gateway(method, path, headers, body=None):
    """One request as the local gateway hands it to the app: ``headers`` maps lower-cased names to
    every value sent, as API Gateway's multiValueHeaders."""
    from chalice.config import Config

    from app import app
    from devstack.gateway import MultiValueGateway, RequestHeaders

    gateway = MultiValueGateway(app, Config.create(chalice_stage="local", app_name=app.app_name, lambda_timeout=30))
    first = {name: values[0] for name, values in headers.items()}
    return gateway.handle_request(method=method, path=path, headers=RequestHeaders(first, headers), body=body)


@pytest.mark.parametrize("content_types", [["application/json", "text/plain"], ["text/plain", "application/json"]])
def test_two_content_types_answer_400_whichever_comes_first_and_create_nothing(client, tables, content_types):
    response = through_the_local_gateway("POST", "/api/users", {"content-type": content_types},
                                         b'{"name": "Ada", "email": "ada@example.com"}')
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "Content-Type is given more than once; send one Content-Type"}
    assert json.loads(client.http.get("/api/users").body) == []


def test_a_correlation_id_sent_twice_is_neither_value(tables):
    response = through_the_local_gateway("GET", "/health/live", {"x-correlation-id": ["first", "second"]})
    assert response["statusCode"] == 200
    assert response["headers"]["X-Correlation-Id"] not in ("first", "second")


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_a_compressed_body_answers_415_naming_its_encoding_and_creates_nothing(client, tables, encoding):
    response = client.http.post("/api/users", headers={"Content-Type": "application/json", "Content-Encoding": encoding},
                                body=gzip.compress(b'{"name": "Ada", "email": "ada@example.com"}'))
    assert response.status_code == 415
    assert f"Content-Encoding {encoding} is not supported" in error_of(response)["error"]
    assert json.loads(client.http.get("/api/users").body) == []


def test_an_identity_content_encoding_is_no_encoding(client, tables):
    response = client.http.post("/api/users", headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
                                body='{"name": "Ada", "email": "ada@example.com"}')
    assert response.status_code == 201


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_head_and_options_answer_405_with_the_methods_of_the_path(client, tables, method):
    response = client.http.request(method, "/api/users")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_a_wrong_method_answers_405_with_allow(client, tables):
    response = client.http.patch("/api/users/0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1",
                                 headers={"Content-Type": "application/json"}, body="{}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, PUT"
    error_of(response)


def test_very_long_strings_are_a_validation_error_not_a_crash(send_json, tables):
    response = send_json("post", "/api/users", {"name": "x" * 5000, "email": "y" * 5000 + "@example.com"})
    assert response.status_code == 400
    assert set(error_of(response)["details"]) == {"name", "email"}


def test_no_stack_trace_leaks_from_an_unexpected_failure(client, tables, monkeypatch):
    from chalicelib.users.service import UserService

    def explode(self, *args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(UserService, "get", explode)
    response = client.http.get("/api/users/0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1")
    assert response.status_code == 500
    assert json.loads(response.body) == {"error": "Internal server error"}


def test_deeply_nested_json_answers_400_not_a_crash(send_json, tables):
    response = send_json("post", "/api/users", "[" * 8000 + "]" * 8000)
    assert response.status_code == 400
    assert "nested" in error_of(response)["error"]


# One of each way an integer in a query string used to escape as a 500: Unicode digits that
# str.isdigit() accepts and int() refuses, and more digits than int() converts.
NOT_AN_INTEGER = ["%C2%B2", "%D9%A3", "9" * 5000, "-1", "1.5", "%201"]


@pytest.mark.parametrize("limit", NOT_AN_INTEGER)
def test_a_limit_that_is_not_ascii_digits_answers_400(client, tables, limit):
    response = client.http.get(f"/api/users?limit={limit}")
    assert response.status_code == 400
    assert list(error_of(response)["details"]) == ["limit"]


@pytest.mark.parametrize("raw", ['{"name": "Ada", "email": "ada@example.com", "name": "Eve"}',
                                 '{"name": NaN, "email": "ada@example.com"}',
                                 '{"name": "Ada", "email": "ada@example.com", "x": Infinity}',
                                 '{"name": "Ada", "email": "ada@example.com", "x": -1e999}'])
def test_non_strict_json_answers_400_and_creates_nothing(send_json, client, tables, raw):
    response = send_json("post", "/api/users", raw)
    assert response.status_code == 400
    assert "not valid JSON" in error_of(response)["error"]
    assert json.loads(client.http.get("/api/users").body) == []


def test_a_204_carries_no_content_type(client, created):
    user = created()
    response = client.http.delete(f"/api/users/{user['id']}")
    assert response.status_code == 204
    assert response.body == b""
    assert not any(name.lower() == "content-type" for name in response.headers)


def test_a_response_body_that_is_not_strict_json_is_a_logged_500_not_invalid_json(
        client, tables, monkeypatch, capsys):
    from chalicelib.users.model import User

    monkeypatch.setattr(User, "to_json", lambda self: {"id": self.id, "score": float("nan")})
    response = client.http.post("/api/users", headers={"Content-Type": "application/json"},
                                body=json.dumps({"name": "Ada", "email": "ada@example.com"}))
    assert response.status_code == 500
    assert json.loads(response.body) == {"error": "Internal server error"}
    assert "response body is not valid JSON" in capsys.readouterr().out


def test_a_content_type_on_a_request_without_a_body_is_not_judged(client, tables):
    """A health probe sending Content-Type: text/plain with its GET was answered 415."""
    for path in ("/health/live", "/api/users"):
        assert client.http.get(path, headers={"Content-Type": "text/plain"}).status_code == 200


def test_a_body_sent_without_a_content_type_is_read_as_json(client, tables):
    response = client.http.post("/user", body="name=Ada&email=ada%40example.com")
    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in error_of(response)["error"]


@pytest.mark.parametrize("body", ["garbage{", '{"name": "x"}'])
def test_a_delete_with_a_body_answers_400_and_deletes_nothing(client, created, body):
    """A DELETE's body was silently ignored, malformed JSON included."""
    user = created()
    response = client.http.delete(f"/api/users/{user['id']}", headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 400
    error_of(response)
    assert client.http.get(f"/api/users/{user['id']}").status_code == 200


def test_a_get_with_a_body_answers_400(client, tables):
    response = client.http.get("/api/users", headers={"Content-Type": "application/json"}, body='{"limit": 5}')
    assert response.status_code == 400
    assert "takes no body" in json.dumps(error_of(response))


@pytest.mark.parametrize("query", ["limit=%FF", "lim%FFit=5", "limit=%ED%A0%80"])
def test_a_query_string_that_is_not_utf8_answers_400_instead_of_reading_replacement_characters(client, tables, query):
    response = client.http.get(f"/api/users?{query}")
    assert response.status_code == 400
    assert "UTF-8" in json.dumps(error_of(response))


@pytest.mark.parametrize("content_type", ["application/json; foo", "application/json; a=b; a=c",
                                          "application/json; =utf-8", "application/json; charset=utf-8; Charset=utf-8"])
def test_a_malformed_content_type_answers_400_and_creates_nothing(client, tables, content_type):
    response = client.http.post("/api/users", headers={"Content-Type": content_type},
                                body=json.dumps({"name": "Ada", "email": "ada@example.com"}))
    assert response.status_code == 400
    assert error_of(response)["error"].startswith("Content-Type is malformed")
    assert json.loads(client.http.get("/api/users").body) == []
