import json

import pytest


def emf_records(output):
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def test_every_response_carries_the_security_headers(client, tables):
    headers = client.http.get("/api/users").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_html_responses_carry_a_content_security_policy(client, tables):
    assert "default-src 'none'" in client.http.get("/").headers["Content-Security-Policy"]
    assert "Content-Security-Policy" not in client.http.get("/api/users").headers


def test_a_sent_correlation_id_is_echoed(client, tables):
    response = client.http.get("/health/live", headers={"X-Correlation-Id": "abc-123"})
    assert response.headers["X-Correlation-Id"] == "abc-123"


def test_an_unsafe_correlation_id_is_replaced(client, tables):
    response = client.http.get("/health/live", headers={"X-Correlation-Id": "bad id\twith spaces"})
    assert response.headers["X-Correlation-Id"] != "bad id\twith spaces"
    assert response.headers["X-Correlation-Id"]


@pytest.mark.parametrize("sent", ["someone@example.com", "abc-123\n"])
def test_a_correlation_id_holding_an_email_or_a_line_break_is_replaced_and_never_logged(client, tables, capsys, sent):
    capsys.readouterr()
    response = client.http.get("/health/live", headers={"X-Request-Id": sent})
    assert response.headers["X-Correlation-Id"] not in (sent, sent.strip())
    assert sent.strip() not in capsys.readouterr().out


def test_one_emf_record_per_request_with_the_route_template(client, created, capsys):
    user = created()
    capsys.readouterr()
    client.http.get(f"/api/users/{user['id']}")
    records = emf_records(capsys.readouterr().out)
    assert len(records) == 1
    record = records[0]
    assert record["route"] == "/api/users/{user_id}"
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["service", "route"]]
    assert record["requests"] == [1.0] and record["valid_requests"] == [1.0]
    assert record["data_queries"] == [1.0] and record["fresh_data_queries"] == [1.0]
    assert record["status"] == 200 and record["method"] == "GET" and record["correlation_id"]


def test_client_errors_are_not_valid_events(client, tables, capsys):
    client.http.get("/api/users/0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1")
    record = emf_records(capsys.readouterr().out)[-1]
    assert record["valid_requests"] == [0.0] and record["server_errors"] == [0.0]


def test_a_request_to_the_sre_plane_counts_as_a_request_but_as_no_sli_event(client, tables, capsys):
    """The dashboard reloads GET /sre/dashboard every few seconds: it must not spend the user API's budgets."""
    client.http.get("/sre/health")
    record = emf_records(capsys.readouterr().out)[-1]
    assert record["route"] == "/sre/health" and record["status"] == 200
    assert record["requests"] == [1.0]
    assert record["valid_requests"] == [0.0] and record["good_availability"] == [0.0]
    assert record["latency_good_200ms"] == [0.0]


def test_a_request_to_the_sre_plane_is_counted_service_wide_as_api_gateway_counts_it(client, tables, capsys):
    """The deployed success SLI takes these from the gateway's stage figures, which cover every route."""
    client.http.get("/sre/health")
    record = emf_records(capsys.readouterr().out)[-1]
    directives = record["_aws"]["CloudWatchMetrics"]
    assert directives[-1]["Dimensions"] == [["service"]]
    assert [metric["Name"] for metric in directives[-1]["Metrics"]] == ["excluded_valid_requests",
                                                                        "excluded_server_errors"]
    assert record["excluded_valid_requests"] == [1.0] and record["excluded_server_errors"] == [0.0]


def test_a_user_api_request_carries_no_excluded_counts(client, tables, capsys):
    client.http.get("/api/users")
    record = emf_records(capsys.readouterr().out)[-1]
    assert len(record["_aws"]["CloudWatchMetrics"]) == 1 and "excluded_valid_requests" not in record


def test_logs_never_carry_a_raw_email(client, create, capsys):
    create("Ada", "ada.lovelace@example.com")
    create("Ada", "ada.lovelace@example.com")
    output = capsys.readouterr().out
    assert '"correlation_id"' in output and '"status":409' in output
    assert "ada.lovelace@example.com" not in output


def test_every_route_is_in_the_openapi_document(client):
    from app import app

    document = json.loads(client.http.get("/openapi.json").body)
    assert document["openapi"].startswith("3.1")
    for path, methods in app.routes.items():
        if path.startswith("/_local"):
            continue
        for method, entry in methods.items():
            if entry.view_name.startswith("method_not_allowed_"):
                continue
            assert method.lower() in document["paths"].get(path, {}), f"{method} {path} missing from openapi.json"


def test_the_log_formatter_redacts_emails():
    import io
    import logging

    from aws_lambda_powertools import Logger

    from chalicelib.observability.logging import RedactingFormatter

    stream = io.StringIO()
    logger = Logger(service="redaction-test", logger_formatter=RedactingFormatter(),
                    logger_handler=logging.StreamHandler(stream))
    logger.info("looking up grace.hopper@navy.mil", extra={"who": "grace.hopper@navy.mil"})
    output = stream.getvalue()
    assert "grace.hopper@navy.mil" not in output
    assert "[redacted-email]" in output


def test_the_log_formatter_redacts_a_percent_encoded_email():
    import io
    import logging

    from aws_lambda_powertools import Logger

    from chalicelib.observability.logging import RedactingFormatter

    stream = io.StringIO()
    logger = Logger(service="percent-redaction-test", logger_formatter=RedactingFormatter(),
                    logger_handler=logging.StreamHandler(stream))
    logger.info("audit", extra={"audit": {"target": "grace.hopper%40navy.mil"}})
    output = stream.getvalue()
    assert "hopper" not in output and "navy.mil" not in output
    assert "[redacted-email]" in output


def error_lines(output):
    return [json.loads(line) for line in output.splitlines()
            if line.startswith("{") and '"request failed"' in line]


def test_a_503_from_the_store_logs_its_cause(client, tables, monkeypatch, capsys):
    from chalicelib.users.dynamodb import DynamoDBUserRepository
    from chalicelib.users.repository import StorageUnavailable

    def unreachable(self, *args):
        raise StorageUnavailable("Connection refused by users table")

    monkeypatch.setattr(DynamoDBUserRepository, "list_page", unreachable)
    capsys.readouterr()
    response = client.http.get("/api/users")
    assert response.status_code == 503
    [line] = error_lines(capsys.readouterr().out)
    assert line["status"] == 503 and line["route"] == "/api/users"
    assert "Connection refused by users table" in line["cause"]
    assert "Connection refused" not in response.body.decode()


def test_an_unhealthy_answer_logs_its_cause(client, tables, monkeypatch, capsys):
    from chalicelib.users.dynamodb import DynamoDBUserRepository
    from chalicelib.users.repository import StorageUnavailable

    def unreachable(self):
        raise StorageUnavailable("health probe timed out")

    monkeypatch.setattr(DynamoDBUserRepository, "ping", unreachable)
    capsys.readouterr()
    for path in ("/health", "/health/ready"):
        assert client.http.get(path).status_code == 503
    assert ["health probe timed out" in line["cause"] for line in error_lines(capsys.readouterr().out)] == [
        True, True]
