"""The user API's compatibility contract, over HTTP against the local stack."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.e2e


def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def test_fifty_simultaneous_creates_with_one_email_store_exactly_one_user(stack):
    email = unique_email("race")

    def create(index):
        return requests.post(stack.url("/api/users"), json={"name": f"Racer {index}", "email": email}, timeout=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = sorted(response.status_code for response in pool.map(create, range(50)))
    assert statuses.count(201) == 1
    assert statuses.count(409) == 49
    stored = [user for user in stack.http.get(stack.url("/api/users?limit=1000")).json() if user["email"] == email]
    assert len(stored) == 1


def test_unknown_path_answers_404_json_like_the_deployed_gateway(stack):
    response = stack.http.get(stack.url("/no/such/path"))
    assert response.status_code == 404
    assert response.content == b'{"error":"Not found"}'  # compact, as every error body
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_wrong_method_on_a_known_path_answers_405_json(stack):
    response = stack.http.patch(stack.url("/api/users"), json={})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "error" in response.json()


def test_created_user_is_listed_first_and_fetched_by_id(stack):
    email = unique_email()
    created = stack.http.post(stack.url("/api/users"), json={"name": "Grace", "email": email})
    assert created.status_code == 201
    user = created.json()
    assert stack.http.get(stack.url("/api/users?limit=1")).json()[0]["id"] == user["id"]
    assert stack.http.get(stack.url(f"/api/users/{user['id']}")).json() == user


def test_health_reports_a_real_round_trip(stack):
    body = stack.http.get(stack.url("/health")).json()
    assert body["status"] == "healthy" and body["database"] == "connected"
    assert body["response_time_ms"] >= 0


def test_correlation_id_sent_by_the_client_is_echoed(stack):
    response = stack.http.get(stack.url("/health/live"), headers={"X-Request-Id": "req-abc-123"})
    assert response.headers["X-Correlation-Id"] == "req-abc-123"


def test_html_form_post_redirects_and_the_page_lists_the_user(stack):
    email = unique_email("form")
    response = stack.http.post(stack.url("/user"), data={"name": "Form User", "email": email},
                               allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = stack.http.get(stack.url("/"))
    assert "<title>User Management System</title>" in page.text
    assert email in page.text


def test_request_metrics_reach_cloudwatch_in_the_embedded_aws(stack):
    stack.http.get(stack.url("/health/live"))
    stack.flush_metrics()
    cloudwatch = stack.boto3_client("cloudwatch")
    names = {metric["MetricName"] for metric in cloudwatch.list_metrics(Namespace="ServerlessSRE")["Metrics"]}
    assert {"requests", "valid_requests", "good_availability", "latency_good_200ms"} <= names


def test_malformed_json_over_http_is_a_400_json_error(stack):
    response = stack.http.post(stack.url("/api/users"), data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_an_oversized_body_over_http_is_413(stack):
    response = stack.http.post(stack.url("/api/users"), json={"name": "x" * 20000, "email": unique_email()})
    assert response.status_code == 413
    assert "error" in response.json()


def test_a_wrong_content_type_over_http_is_415(stack):
    response = stack.http.post(stack.url("/api/users"), data="name=a", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "error" in response.json()


def test_update_and_delete_over_http(stack):
    user = stack.http.post(stack.url("/api/users"), json={"name": "Temp", "email": unique_email()}).json()
    updated = stack.http.put(stack.url(f"/api/users/{user['id']}"), json={"name": "Renamed", "email": user["email"]})
    assert updated.status_code == 200 and updated.json()["name"] == "Renamed"
    assert stack.http.delete(stack.url(f"/api/users/{user['id']}")).status_code == 204
    assert stack.http.get(stack.url(f"/api/users/{user['id']}")).status_code == 404


def test_the_list_read_again_after_each_write_shows_that_write(stack):
    """The embedded AWS keeps Query answers while nothing changes; a write must end them."""
    def first_listed():
        return stack.http.get(stack.url("/api/users?limit=1")).json()[0]

    user = stack.http.post(stack.url("/api/users"), json={"name": "Before", "email": unique_email()}).json()
    assert first_listed() == first_listed() == user
    renamed = stack.http.put(stack.url(f"/api/users/{user['id']}"), json={"name": "After", "email": user["email"]})
    assert first_listed()["name"] == renamed.json()["name"] == "After"
    assert stack.http.delete(stack.url(f"/api/users/{user['id']}")).status_code == 204
    assert user["id"] not in [listed["id"] for listed in stack.http.get(stack.url("/api/users")).json()]
