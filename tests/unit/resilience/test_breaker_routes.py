import json

import boto3
import pytest
from chalice import Chalice
from chalice.test import Client


@pytest.fixture(scope="module")
def app():
    """Built once: a Chalice blueprint is bound to the last app it was registered on."""
    from chalicelib import wiring
    from chalicelib.observability.middleware import http_middleware
    from chalicelib.resilience.routes import build_blueprint

    app = Chalice(app_name="breakers-test")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(build_blueprint(wiring.current))
    return app


@pytest.fixture
def token(aws_mock):
    from devstack.provision import provision_secrets, provision_tables

    provision_tables(boto3.client("dynamodb", region_name="us-east-1"))
    return provision_secrets(boto3.client("secretsmanager", region_name="us-east-1"))["operator-token"]


@pytest.fixture
def client(app, token):
    with Client(app) as test_client:
        yield test_client


def post(client, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.http.post(path, headers=headers, body=json.dumps(body) if body is not None else "")


def breaker_view(client, name):
    listing = client.http.get("/sre/circuit-breakers").json_body["circuit_breakers"]
    return next(b for b in listing if b["name"] == name)


def test_listing_shows_every_configured_breaker_with_thresholds(client):
    view = breaker_view(client, "database")
    assert (view["state"], view["thresholds"]["fail_max"], view["shared_state"]) == ("closed", 5, True)


def test_open_requires_a_token(client):
    assert post(client, "/sre/circuit-breakers/database/open").status_code == 401


def test_open_with_a_wrong_token_is_forbidden(client):
    assert post(client, "/sre/circuit-breakers/database/open", token="wrong").status_code == 403


def test_unknown_breaker_is_404(client, token):
    response = post(client, "/sre/circuit-breakers/nope/open", token=token)
    assert response.status_code == 404 and "nope" in response.json_body["error"]


def test_operator_open_shows_forced_open_with_a_transition(client, token):
    response = post(client, "/sre/circuit-breakers/webhook/open", token=token, body={"reason": "vendor outage"})
    body = response.json_body
    assert (response.status_code, body["state"], body["forced_open"]) == (200, "open", True)
    assert body["recent_transitions"][0]["actor"] == "local-operator: vendor outage"


def test_close_after_open_closes(client, token):
    post(client, "/sre/circuit-breakers/webhook/open", token=token)
    assert post(client, "/sre/circuit-breakers/webhook/close", token=token).json_body["state"] == "closed"


def test_reset_clears_recent_transitions_but_says_who_reset(client, token):
    post(client, "/sre/circuit-breakers/webhook/open", token=token)
    transitions = post(client, "/sre/circuit-breakers/webhook/reset", token=token).json_body["recent_transitions"]
    assert [(entry["from"], entry["to"], entry["reason"], entry["actor"]) for entry in transitions] == [
        ("open", "closed", "reset", "local-operator")]


def test_tripped_breaker_reports_time_left_until_half_open(client, token, wired):
    breaker = wired.breakers.get("webhook")
    for _ in range(breaker.fail_max):
        with pytest.raises(RuntimeError):
            breaker.call(lambda: (_ for _ in ()).throw(RuntimeError("down")))
    view = breaker_view(client, "webhook")
    assert view["state"] == "open" and 0 < view["seconds_until_half_open"] <= 60
    assert view["opened_at"].endswith("Z")


@pytest.mark.parametrize("body", ['{"reason": 5}', '{"other": 1}', "not json", '["x"]', '{"reason": "drill \\udc00"}'])
def test_bad_bodies_are_400(client, token, body):
    response = client.http.post("/sre/circuit-breakers/webhook/open", body=body,
                                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and "error" in response.json_body


def test_every_breaker_action_writes_an_audit_line_naming_the_operator(client, token, capsys):
    capsys.readouterr()
    post(client, "/sre/circuit-breakers/webhook/open", token=token, body={"reason": "vendor outage"})
    post(client, "/sre/circuit-breakers/nope/close", token=token)
    post(client, "/sre/circuit-breakers/webhook/reset", token="wrong")
    audits = [json.loads(line)["audit"] for line in capsys.readouterr().out.splitlines()
              if line.startswith("{") and '"message":"audit"' in line]
    assert audits == [
        {"who": "local-operator", "action": "circuit-breaker.open", "target": "webhook", "outcome": "done"},
        {"who": "local-operator", "action": "circuit-breaker.close", "target": "nope",
         "outcome": "refused 404: Unknown circuit breaker 'nope'"},
        {"who": "unauthenticated", "action": "circuit-breaker.reset", "target": "webhook",
         "outcome": "refused 403: Operator token is not valid"},
    ]


def test_the_listing_with_a_query_it_does_not_take_is_400(client):
    response = client.http.get("/sre/circuit-breakers?name=database")
    assert response.status_code == 400 and response.json_body["details"] == {"name": ["Unknown query parameter."]}


def test_an_action_with_a_query_it_does_not_take_is_400_and_changes_nothing(client, token):
    response = post(client, "/sre/circuit-breakers/webhook/open?minutes=5", token=token)
    assert response.status_code == 400
    assert breaker_view(client, "webhook")["state"] == "closed"
