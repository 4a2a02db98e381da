import json


def test_create_then_get_returns_the_user(client, create):
    created = create()
    assert created.status_code == 201
    user = json.loads(created.body)
    fetched = client.http.get(f"/api/users/{user['id']}")
    assert fetched.status_code == 200
    assert json.loads(fetched.body) == user
