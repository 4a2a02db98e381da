"""Authentication on every control-plane endpoint, table-driven from the OpenAPI document (so an
endpoint added to the document is covered without touching this file), and on the local
stack's own routes. The app runs in-process against moto (``mock_aws``): no network.

Cases: no token, a wrong one, malformed ones, a token that was rotated out (expired), and a
captured request replayed after the rotation, or with the token moved out of the
Authorization header. The operator token must open every operation that declares it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
from chalice.test import Client

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = json.loads((ROOT / "chalicelib" / "web" / "openapi.json").read_text(encoding="utf-8"))
OPERATOR_SCHEME = "operatorToken"
METHODS = ("get", "put", "post", "delete", "patch")


def secured_operations():
    """(method, path, schemes) of every operation whose document requires a credential."""
    operations = []
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            requirement = (operation or {}).get("security", DOCUMENT.get("security"))
            if operation and requirement:
                schemes = {name for alternative in requirement for name in alternative}
                operations.append(pytest.param(method.upper(), path, schemes, id=f"{method.upper()} {path}"))
    return operations


SECURED = secured_operations()
MALFORMED = ("Bearer", "Bearer    ", "Basic b3BlcmF0b3I6c2VjcmV0", "Token abc", "bearer", "Bearer a b c",
             "Bearer " + "x" * 10_000, "Bearer \u00e9\u00e9\u00e9", "Bearer\ttabbed")


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.fixture(scope="module")
def tokens():
    """One provisioned moto for the whole table (provisioning per case cost a second each)."""
    from moto import mock_aws

    from devstack.provision import provision_secrets, provision_tables

    patch = pytest.MonkeyPatch()
    patch.setenv("SECRET_CACHE_SECONDS", "0")  # a rotation is seen by the next request
    patch.setenv("SRE_READS_REQUIRE_TOKEN", "true")  # as deployed: the document's reads need a token
    with mock_aws():
        provision_tables(boto3.client("dynamodb", region_name="us-east-1"))
        yield provision_secrets(boto3.client("secretsmanager", region_name="us-east-1"))
    patch.undo()


@pytest.fixture
def client(tokens):
    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def rotated(tokens):
    """Rotates the operator token; puts the original back afterwards."""
    from devstack.provision import LOCAL_OPERATOR

    secrets = boto3.client("secretsmanager", region_name="us-east-1")

    def store(token):
        secrets.put_secret_value(SecretId="serverless-sre/operator-token",
                                 SecretString=json.dumps({LOCAL_OPERATOR: token}))
        return token

    yield lambda: store("the-rotated-token")
    store(tokens["operator-token"])


def call(client, method, path, authorization=None, **extra_headers):
    headers = {"Content-Type": "application/json", **extra_headers}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.http.request(method, concrete(path), headers=headers, body=b"{}" if method != "GET" else b"")


def test_the_document_declares_control_plane_operations():
    assert len(SECURED) >= 10


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_no_token_is_refused_with_401_and_a_challenge(client, method, path, schemes):
    response = call(client, method, path)
    assert response.status_code == 401, response.body
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert "error" in json.loads(response.body)


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_a_wrong_token_is_refused_with_403(client, method, path, schemes):
    assert call(client, method, path, "Bearer not-the-token").status_code == 403


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_malformed_authorization_is_refused_without_a_server_error(client, method, path, schemes):
    statuses = {value[:20]: call(client, method, path, value).status_code for value in MALFORMED}
    assert set(statuses.values()) <= {401, 403}, statuses


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_a_token_rotated_out_is_refused_and_the_new_one_accepted(client, tokens, rotated, method, path, schemes):
    old = f"Bearer {tokens['operator-token']}"
    assert call(client, method, path, old).status_code not in (401, 403)
    new = rotated()
    assert call(client, method, path, old).status_code == 403
    if OPERATOR_SCHEME in schemes:
        assert call(client, method, path, f"Bearer {new}").status_code not in (401, 403)


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_the_token_outside_the_authorization_header_is_not_accepted(client, tokens, method, path, schemes):
    token = tokens["operator-token"]
    query = client.http.request(method, f"{concrete(path)}?token={token}&access_token={token}",
                                headers={"Content-Type": "application/json"}, body=b"{}" if method != "GET" else b"")
    other_headers = call(client, method, path, None, **{"X-Api-Key": token, "Cookie": f"token={token}",
                                                        "X-Operator-Token": token})
    assert (query.status_code, other_headers.status_code) == (401, 401)


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_two_authorization_headers_are_a_400_whichever_comes_first(client, tokens, method, path, schemes):
    """API Gateway hands the app the last of them, Chalice's local server the first: neither may act."""
    from chalice.config import Config

    from app import app
    from devstack.gateway import MultiValueGateway, RequestHeaders

    gateway = MultiValueGateway(app, Config.create(chalice_stage="local", app_name=app.app_name, lambda_timeout=30))
    good, bad = f"Bearer {tokens['operator-token']}", "Bearer not-the-token"
    for values in ([good, bad], [bad, good]):
        headers = RequestHeaders({"content-type": "application/json", "authorization": values[0]},
                                 {"content-type": ["application/json"], "authorization": values})
        response = gateway.handle_request(method=method, path=concrete(path), headers=headers,
                                          body=b"{}" if method != "GET" else None)
        assert response["statusCode"] == 400, response
        assert "Authorization is given more than once" in json.loads(response["body"])["error"]


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_two_authorization_values_joined_with_a_comma_are_a_400(client, tokens, method, path, schemes):
    """gunicorn (the ECS variant) hands the app repeated headers joined with a comma."""
    response = call(client, method, path, f"Bearer {tokens['operator-token']},Bearer not-the-token")
    assert response.status_code == 400, response.body


@pytest.mark.parametrize("method, path, schemes", SECURED)
def test_one_token_holding_a_comma_is_refused_as_any_wrong_token_not_as_two_headers(client, tokens, method, path,
                                                                                     schemes):
    response = call(client, method, path, "Bearer not,the-token")
    assert response.status_code in (401, 403), response.body


@pytest.mark.parametrize("method, path, schemes", [case for case in SECURED if OPERATOR_SCHEME in case.values[2]])
def test_the_operator_token_opens_every_operation_that_declares_it(client, tokens, method, path, schemes):
    response = call(client, method, path, f"Bearer {tokens['operator-token']}")
    # Past authentication: what it answers then (400 for the empty body, 404 for "x", 503 for a
    # workflow moto-in-process does not deploy) is the operation's own business; never a crash.
    assert response.status_code not in (401, 403, 500), response.body



SECURED_WRITES = [case for case in SECURED if case.values[0] != "GET"]


def audit_lines(output):
    return [json.loads(line)["audit"] for line in output.splitlines()
            if line.startswith("{") and '"message":"audit"' in line]


def audited_target(path):
    """What the audit names as the target of a request refused before its view: its path parameters."""
    return "/".join("x" for _ in re.findall(r"\{[^}]+\}", path)) or path


@pytest.mark.parametrize("method, path, schemes", SECURED_WRITES)
def test_a_write_refused_before_its_view_is_audited_as_unauthenticated(client, capsys, method, path, schemes):
    """A wrong content type (415) was answered before the view checked the token, and never audited."""
    capsys.readouterr()
    response = call(client, method, path, **{"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "unauthenticated", "action": f"{method} {path}", "target": audited_target(path),
         "outcome": f"refused 415: {json.loads(response.body)['error']}"}]


@pytest.mark.parametrize("method, path, schemes", SECURED_WRITES[:1])
def test_a_write_refused_before_its_view_is_audited_under_the_operators_name(client, tokens, capsys, method, path,
                                                                              schemes):
    from devstack.provision import LOCAL_OPERATOR

    capsys.readouterr()
    response = call(client, method, f"{path}?a=1&a=2", f"Bearer {tokens['operator-token']}")
    assert response.status_code == 400
    assert [(line["who"], line["outcome"]) for line in audit_lines(capsys.readouterr().out)] == [
        (LOCAL_OPERATOR, "refused 400: Validation failed")]
