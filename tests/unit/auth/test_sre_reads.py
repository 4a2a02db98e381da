"""Deployed, every read of the SRE plane needs a viewer token (or an operator's); the signed
acknowledge link and the dashboard page's files stay open; the local setting leaves reads open."""
import json

import boto3
import pytest
from chalice.test import Client

from chalicelib.observability.middleware import PUBLIC_SRE_READS

VIEWER, OPERATOR = "viewer-token-1", "operator-token-1"


def sre_reads():
    from app import app

    return sorted((path, route.view_name) for path, methods in app.routes.items() for method, route in methods.items()
                  if path.startswith("/sre/") and method == "GET" and not route.view_name.startswith("method_not_allowed"))


@pytest.fixture
def secretsmanager(aws_mock):
    from devstack.provision import provision_tables

    provision_tables(boto3.client("dynamodb", region_name="us-east-1"))
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="serverless-sre/viewer-token", SecretString=json.dumps({"grafana": VIEWER}))
    client.create_secret(Name="serverless-sre/operator-token", SecretString=json.dumps({"alice": OPERATOR}))
    return client


@pytest.fixture
def deployed(secretsmanager, monkeypatch):
    monkeypatch.setenv("SRE_READS_REQUIRE_TOKEN", "true")
    monkeypatch.setenv("SECRET_CACHE_SECONDS", "0")
    from chalicelib import wiring

    wiring.reset()
    from app import app

    with Client(app) as client:
        yield client


def get(client, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.http.get(path.replace("{", "x").replace("}", ""), headers=headers)


@pytest.mark.parametrize("path", [path for path, _ in sre_reads() if path not in PUBLIC_SRE_READS])
def test_a_deployed_sre_read_without_a_token_is_401(deployed, path):
    response = get(deployed, path)
    assert response.status_code == 401, response.body
    assert json.loads(response.body)["error"].startswith("Authentication required")


def test_every_sre_read_but_the_signed_link_and_the_page_files_needs_a_token():
    assert PUBLIC_SRE_READS == {"/sre/incidents/{incident_id}/ack-link", "/sre/dashboard-ui",
                                "/sre/dashboard-ui/assets/{name}"}
    assert PUBLIC_SRE_READS <= {path for path, _ in sre_reads()}


def test_a_viewer_token_reads(deployed):
    assert get(deployed, "/sre/slos", VIEWER).status_code == 200
    assert get(deployed, "/sre/dashboard", VIEWER).status_code == 200


def test_an_operator_token_reads_too(deployed):
    assert get(deployed, "/sre/incidents", OPERATOR).status_code == 200


def test_a_viewer_token_does_not_act(deployed):
    response = deployed.http.post("/sre/circuit-breakers/webhook/open", headers={
        "Authorization": f"Bearer {VIEWER}", "Content-Type": "application/json"}, body="{}")
    assert response.status_code == 403


def test_a_viewer_token_does_not_read_what_needs_an_operator(deployed):
    assert get(deployed, "/sre/chaos/experiments", VIEWER).status_code == 403


def test_a_wrong_token_is_403(deployed):
    assert get(deployed, "/sre/alerts", "guess").status_code == 403


def test_a_rotated_viewer_token_replaces_the_old_one(deployed, secretsmanager):
    secretsmanager.put_secret_value(SecretId="serverless-sre/viewer-token",
                                    SecretString=json.dumps({"grafana": "viewer-token-2"}))
    assert get(deployed, "/sre/slos", VIEWER).status_code == 403
    assert get(deployed, "/sre/slos", "viewer-token-2").status_code == 200


def test_the_dashboard_page_and_the_ack_link_need_no_token(deployed):
    assert get(deployed, "/sre/dashboard-ui").status_code == 200
    assert get(deployed, "/sre/incidents/inc-1/ack-link").status_code in (400, 403, 404)


def test_locally_reads_stay_open(secretsmanager):
    from app import app

    with Client(app) as client:
        assert get(client, "/sre/slos").status_code == 200


def test_the_document_asks_for_a_viewer_or_operator_token_on_exactly_these_reads():
    document = json.loads(open("chalicelib/web/openapi.json", encoding="utf-8").read())
    needing = {path for path, operations in document["paths"].items()
               if path.startswith("/sre/") and "get" in operations
               and {"viewerToken": []} in operations["get"].get("security", [])}
    operator_only = {path for path, operations in document["paths"].items()
                     if operations.get("get", {}).get("security") == [{"operatorToken": []}]}
    assert needing == {path for path, _ in sre_reads()} - PUBLIC_SRE_READS - operator_only
