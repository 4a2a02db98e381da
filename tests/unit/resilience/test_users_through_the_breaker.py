"""The users API behind the ``database`` breaker, with faults injected below it (botocore hook)."""
import json

import boto3
import pytest
from chalice.test import Client

from chalicelib.resilience.faults import Fault
from devstack.dynamodb_faults import LocalFaultControl


@pytest.fixture
def client(aws_mock):
    from devstack.provision import provision_tables

    provision_tables(boto3.client("dynamodb", region_name="us-east-1"))
    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def database(wired):
    return wired.breakers.get("database")


@pytest.fixture
def dynamodb_fault(client, wired):
    control = LocalFaultControl(lambda: wired.user_models)
    control.attach_to_users_store()
    return control.switch


def create(client, email):
    return client.http.post("/api/users", headers={"Content-Type": "application/json"},
                            body=json.dumps({"name": "Ada", "email": email}))


def test_read_while_the_breaker_is_open_is_served_stale(client, database):
    user = create(client, "ada@example.com").json_body
    client.http.get(f"/api/users/{user['id']}")
    database.open()
    response = client.http.get(f"/api/users/{user['id']}")
    assert (response.status_code, response.headers.get("X-Data-Stale"), response.json_body) == (200, "true", user)


def test_write_while_the_breaker_is_open_is_503_with_retry_after(client, database):
    database.open()
    response = create(client, "grace@example.com")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "error" in response.json_body


def test_injected_dynamodb_faults_trip_the_breaker_and_reads_go_stale(client, dynamodb_fault, database):
    user = create(client, "ada@example.com").json_body
    client.http.get(f"/api/users/{user['id']}")
    dynamodb_fault.activate(Fault(service="dynamodb"))
    statuses = [client.http.get(f"/api/users/{user['id']}").status_code for _ in range(6)]
    assert statuses == [200] * 6
    assert database.current_state == "open"


def test_no_user_is_lost_or_duplicated_across_an_outage(client, dynamodb_fault, database):
    emails = [f"user{n}@example.com" for n in range(6)]
    dynamodb_fault.activate(Fault(service="dynamodb", operations=frozenset({"TransactWriteItems"})))
    refused = [create(client, email).status_code for email in emails[:3]]
    dynamodb_fault.clear()
    database.close()
    for email in emails:  # clients retry every refused create, then create the rest
        assert create(client, email).status_code == 201
    listed = [u["email"] for u in client.http.get("/api/users?limit=100").json_body]
    assert set(refused) == {503} and sorted(listed) == sorted(emails)


def test_a_deleted_user_is_not_served_stale_when_the_breaker_opens(client, database):
    user = create(client, "ada@example.com").json_body
    assert client.http.get(f"/api/users/{user['id']}").status_code == 200
    assert client.http.get("/api/users").json_body == [user]
    assert client.http.delete(f"/api/users/{user['id']}").status_code == 204
    database.open()
    response = client.http.get(f"/api/users/{user['id']}")
    assert response.status_code == 503
    assert "X-Data-Stale" not in response.headers
    assert client.http.get("/api/users").status_code == 503


def test_an_updated_user_is_not_served_as_it_was_when_the_breaker_opens(client, database):
    user = create(client, "ada@example.com").json_body
    client.http.get(f"/api/users/{user['id']}")
    client.http.get("/api/users")
    updated = client.http.put(f"/api/users/{user['id']}", headers={"Content-Type": "application/json"},
                              body=json.dumps({"name": "Ada King", "email": "ada@example.com"}))
    assert updated.status_code == 200
    database.open()
    for path in (f"/api/users/{user['id']}", "/api/users"):
        response = client.http.get(path)
        assert response.status_code == 503, response.json_body


def test_a_503_from_the_open_breaker_logs_that_the_breaker_is_open(client, capsys, database):
    database.open()
    capsys.readouterr()
    assert client.http.get("/api/users").status_code == 503
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"request failed"' in line]
    assert "BreakerOpenError" in line["cause"]


@pytest.mark.parametrize("form, status, said", [
    ("name=&email=nope", 400, "Not a valid email address."),
    ("name=Ada&email=a%40example.com&email=b%40example.com", 400, "Given more than once."),
])
def test_a_form_mistake_while_the_user_list_cannot_be_read_is_still_the_clients_4xx(client, database, form, status,
                                                                                    said):
    """The error page lists the users; with the breaker open and no page cached, the list's 503 replaced
    the 400 (a server error charged to the success SLO for the client's mistake)."""
    database.open()
    response = client.http.post("/user", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form)
    page = response.body.decode()
    assert response.status_code == status and said in page
    assert "The user list cannot be read right now" in page


def test_what_another_processs_write_changed_is_not_served_stale(client, database, wired):
    import time

    from chalicelib.users.validation import validate_user

    ada = wired.user_repository.create(validate_user({"name": "Ada", "email": "ada@example.com"})).to_json()
    grace = wired.user_repository.create(validate_user({"name": "Grace", "email": "grace@example.com"})).to_json()
    for path in (f"/api/users/{ada['id']}", f"/api/users/{grace['id']}", "/api/users"):
        assert client.http.get(path).status_code == 200
    wired.write_ledger.announce([f"user:{ada['id']}", "list:"], time.time())  # another process renames Ada
    database.open()
    assert [client.http.get(path).status_code for path in (f"/api/users/{ada['id']}", "/api/users")] == [503, 503]
    response = client.http.get(f"/api/users/{grace['id']}")
    assert (response.status_code, response.headers.get("X-Data-Stale"), response.json_body) == (200, "true", grace)
