import json
import re

import pytest


def body_of(response):
    return json.loads(response.body)


def test_create_answers_201_with_the_stored_user(create):
    response = create("  Ada Lovelace ", "ada@example.com")
    assert response.status_code == 201
    user = body_of(response)
    assert set(user) == {"id", "name", "email", "created_at"}
    assert user["name"] == "Ada Lovelace"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", user["created_at"])
    assert response.headers["Location"] == f"/api/users/{user['id']}"


def test_get_returns_what_create_returned(client, created):
    user = created()
    assert body_of(client.http.get(f"/api/users/{user['id']}")) == user


def test_invalid_input_answers_400_with_field_details(create):
    response = create("", "not-an-email")
    assert response.status_code == 400
    assert body_of(response) == {"error": "Validation failed",
                                 "details": {"name": ["Length must be between 1 and 100."],
                                             "email": ["Not a valid email address."]}}


def test_duplicate_email_differing_only_in_case_answers_409(create, created):
    created(email="ada@example.com")
    response = create("Other", "ADA@Example.com")
    assert response.status_code == 409
    assert body_of(response) == {"error": "Email already exists"}


def test_list_is_newest_first(client, created):
    first, second = created(email="a@example.com"), created(email="b@example.com")
    ids = [user["id"] for user in body_of(client.http.get("/api/users"))]
    assert ids == [second["id"], first["id"]]


def test_list_pages_with_limit_and_a_cursor_header(client, created):
    made = [created(email=f"u{index}@example.com")["id"] for index in range(5)]
    first = client.http.get("/api/users?limit=2")
    cursor = first.headers["X-Next-Cursor"]
    second = client.http.get(f"/api/users?limit=2&cursor={cursor}")
    third = client.http.get(f"/api/users?limit=2&cursor={second.headers['X-Next-Cursor']}")
    pages = [[user["id"] for user in body_of(page)] for page in (first, second, third)]
    assert pages == [made[4:2:-1], made[2:0:-1], made[0:1]]
    assert "X-Next-Cursor" not in third.headers


def test_forged_cursor_answers_400(client, tables):
    response = client.http.get("/api/users?cursor=bm90LWEtY3Vyc29y")
    assert response.status_code == 400
    assert "cursor" in body_of(response)["details"]


def test_limit_outside_1_to_1000_answers_400(client, tables):
    for limit in ("0", "1001", "abc", "-1"):
        response = client.http.get(f"/api/users?limit={limit}")
        assert response.status_code == 400, limit
        assert "limit" in body_of(response)["details"]


def test_unknown_and_malformed_ids_answer_404(client, tables):
    for user_id in ("0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1", "not-a-uuid", "EMAIL%23ada@example.com"):
        response = client.http.get(f"/api/users/{user_id}")
        assert response.status_code == 404
        assert body_of(response) == {"error": "User not found"}


def test_put_replaces_name_and_email(client, send_json, created):
    user = created()
    response = send_json("put", f"/api/users/{user['id']}", {"name": "Countess", "email": "countess@example.com"})
    assert response.status_code == 200
    assert body_of(response)["email"] == "countess@example.com"
    assert body_of(client.http.get(f"/api/users/{user['id']}"))["name"] == "Countess"


def test_put_frees_the_old_email(send_json, create, created):
    user = created(email="old@example.com")
    send_json("put", f"/api/users/{user['id']}", {"name": "Ada", "email": "new@example.com"})
    assert create("Someone", "old@example.com").status_code == 201


def test_put_to_an_email_held_by_another_user_answers_409(send_json, created):
    created(email="taken@example.com")
    user = created(email="mine@example.com")
    response = send_json("put", f"/api/users/{user['id']}", {"name": "Ada", "email": "TAKEN@example.com"})
    assert response.status_code == 409


def test_put_validates_like_create(send_json, created):
    user = created()
    assert send_json("put", f"/api/users/{user['id']}", {"name": "Ada"}).status_code == 400


def test_put_of_unknown_user_answers_404(send_json, tables):
    response = send_json("put", "/api/users/0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1",
                         {"name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 404


def test_delete_answers_204_and_frees_the_email(client, create, created):
    user = created()
    assert client.http.delete(f"/api/users/{user['id']}").status_code == 204
    assert client.http.get(f"/api/users/{user['id']}").status_code == 404
    assert create("Ada again", "ada@example.com").status_code == 201


def test_delete_of_unknown_user_answers_404(client, tables):
    assert client.http.delete("/api/users/0b0f7a52-9f43-4b7e-9a39-2d1bd2f4a2a1").status_code == 404


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_write_that_loses_every_race_for_the_user_answers_409_not_503(send_json, created, monkeypatch, method):
    from chalicelib import wiring
    from chalicelib.users.dynamodb import DynamoDBUserRepository, user_key

    user = created()
    models = wiring.current().user_repository._models
    read = DynamoDBUserRepository._load
    rivals = iter(range(100))

    def read_then_a_rival_changes_the_email(self, user_id):
        item = read(self, user_id)
        models.user(user_key(user_id)).update(actions=[models.user.email_key.set(f"rival{next(rivals)}@example.com")])
        return item

    monkeypatch.setattr(DynamoDBUserRepository, "_load", read_then_a_rival_changes_the_email)
    response = send_json(method, f"/api/users/{user['id']}", {"name": "Ada", "email": "new@example.com"}
                         if method == "put" else "")
    assert response.status_code == 409
    assert body_of(response) == {"error": "User was changed by concurrent requests; read it again and retry"}
