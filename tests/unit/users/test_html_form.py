import json

import pytest

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_index_page_is_titled_and_lists_users_newest_first(client, created):
    created(name="First", email="first@example.com")
    created(name="Second", email="second@example.com")
    page = client.http.get("/")
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.body.decode()
    assert "<title>User Management System</title>" in text
    assert text.index("Second") < text.index("First")


def test_form_post_creates_and_redirects_home(client, tables):
    response = client.http.post("/user", headers=FORM, body="name=Ada&email=ada%40example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert [user["email"] for user in json.loads(client.http.get("/api/users").body)] == ["ada@example.com"]


def test_invalid_form_answers_400_with_the_page_showing_the_error_and_creates_nothing(client, tables):
    response = client.http.post("/user", headers=FORM, body="name=&email=nope")
    assert response.status_code == 400
    assert "Not a valid email address." in response.body.decode()
    assert json.loads(client.http.get("/api/users").body) == []


def test_duplicate_email_in_the_form_answers_409_with_the_page_showing_the_error(client, created):
    created(email="ada@example.com")
    response = client.http.post("/user", headers=FORM, body="name=Other&email=ADA%40example.com")
    assert response.status_code == 409
    assert "Email already exists" in response.body.decode()


def test_user_content_is_escaped_in_the_page(client, created):
    created(name="<script>alert(1)</script>", email="x@example.com")
    text = client.http.get("/").body.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text


@pytest.mark.parametrize("raw", [b"name=%FF&email=ada%40example.com", b"name=\xff&email=ada%40example.com"])
def test_form_with_invalid_utf8_answers_400_and_creates_nothing(client, tables, raw):
    response = client.http.post("/user", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=raw)
    assert response.status_code == 400
    assert b"not valid UTF-8" in response.body
    assert json.loads(client.http.get("/api/users").body) == []


@pytest.mark.parametrize("raw", ["name=Ada&name=Eve&email=ada%40example.com",
                                 "name=Ada&email=ada%40example.com&email=eve%40example.com"])
def test_a_form_field_given_twice_answers_400_naming_it_and_creates_nothing(client, tables, raw):
    response = client.http.post("/user", headers=FORM, body=raw)
    assert response.status_code == 400
    assert "Given more than once." in response.body.decode()
    assert json.loads(client.http.get("/api/users").body) == []
