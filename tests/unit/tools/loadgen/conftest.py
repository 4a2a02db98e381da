"""A small users service on 127.0.0.1 (free port) whose faults the tests choose."""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class ItemService:
    def __init__(self) -> None:
        self.users: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.seen_headers: list[dict] = []
        self.seen_header_lists: list[list[tuple[str, str]]] = []  # as sent, a name repeated as often as it came
        self.paths: list[str] = []
        self.stall_once_seconds = 0.0
        self.forget_creates = 0  # answer 201 without storing
        self.ignore_deletes = 0  # answer 204 without deleting
        self.fail_every = 0  # answer 500 to every n-th request
        self.fail_status = 500
        self.false_conflicts = 0  # answer 409 to a create of an email nobody has
        self.list_cursor = None  # X-Next-Cursor on every page of the listing (a cursor that never ends)
        self.answer_delay_seconds = 0.0  # between doing what a request asks and answering it


@pytest.fixture
def service():
    state = ItemService()
    counter = {"requests": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status, body=None, headers=None):
            time.sleep(state.answer_delay_seconds)
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length)) if length else None

        def _common(self):
            with state.lock:
                counter["requests"] += 1
                number = counter["requests"]
                state.seen_headers.append(dict(self.headers))
                state.seen_header_lists.append(self.headers.items())
                state.paths.append(f"{self.command} {self.path}")
                stall, state.stall_once_seconds = state.stall_once_seconds, 0.0
            if stall:
                time.sleep(stall)
            return bool(state.fail_every and number % state.fail_every == 0)

        def do_GET(self):
            if self._common():
                return self._reply(state.fail_status, {"error": "injected"})
            path, _, query = self.path.partition("?")
            if path == "/users":
                with state.lock:
                    users = list(state.users.values())
                cursor = {"X-Next-Cursor": state.list_cursor} if state.list_cursor else None
                return self._reply(200, users, cursor)
            if path.startswith("/users/"):
                user = state.users.get(path.rsplit("/", 1)[1])
                return self._reply(200, user) if user else self._reply(404, {"error": "Not found"})
            self._reply(200, {"status": "ok"})

        def do_POST(self):
            if self._common():
                return self._reply(state.fail_status, {"error": "injected"})
            body = self._body()
            with state.lock:
                if state.false_conflicts:
                    state.false_conflicts -= 1
                    return self._reply(409, {"error": "taken"})
                if any(user["email"] == body["email"] for user in state.users.values()):
                    return self._reply(409, {"error": "taken"})
                user = {"id": str(uuid.uuid4()), **body}
                if state.forget_creates:
                    state.forget_creates -= 1
                else:
                    state.users[user["id"]] = user
            self._reply(201, user)

        def do_PUT(self):
            if self._common():
                return self._reply(500, {"error": "injected"})
            body = self._body()
            user_id = self.path.rsplit("/", 1)[1]
            with state.lock:
                if user_id not in state.users:
                    return self._reply(404, {"error": "Not found"})
                state.users[user_id] = {"id": user_id, **body}
                return self._reply(200, state.users[user_id])

        def do_DELETE(self):
            if self._common():
                return self._reply(500, {"error": "injected"})
            user_id = self.path.rsplit("/", 1)[1]
            with state.lock:
                if user_id not in state.users:
                    return self._reply(404, {"error": "Not found"})
                if state.ignore_deletes:
                    state.ignore_deletes -= 1
                else:
                    del state.users[user_id]
            self._reply(204)

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


CRUD_SCENARIO = {
    "name": "test-crud",
    "headers": {"Accept": "application/json"},
    "requests": [{
        "name": "create", "method": "POST", "path": "/users", "expect": [201], "records": "create",
        "json": {"name": "User ${seq}", "email": "u-${unique}@example.com"},
        "follow_ups": [
            {"name": "read", "method": "GET", "path": "/users/${create.json.id}", "expect": [200]},
            {"name": "update", "method": "PUT", "path": "/users/${create.json.id}", "expect": [200],
             "records": "update", "id": "${create.json.id}",
             "json": {"name": "User ${seq} v2", "email": "u-${unique}-v2@example.com"}},
            {"name": "delete", "method": "DELETE", "path": "/users/${create.json.id}", "expect": [204],
             "records": "delete", "id": "${create.json.id}", "probability": 0.5},
        ]}],
    "integrity": {"read": "/users/{id}", "list": "/users", "compare": ["name", "email"], "unique": ["email"]},
    "cleanup": {"delete": "/users/{id}"},
}


DUPLICATE_SCENARIO = {
    "name": "test-duplicates",
    "requests": [{
        "name": "create", "method": "POST", "path": "/users", "expect": [201], "records": "create",
        "json": {"name": "User ${seq}", "email": "u-${unique}@example.com"},
        "follow_ups": [
            {"name": "again", "method": "POST", "path": "/users", "expect": [409], "records": "create",
             "json": {"name": "User ${seq} again", "email": "u-${unique}@example.com"}},
        ]}],
    "integrity": {"read": "/users/{id}", "list": "/users", "compare": ["name", "email"], "unique": ["email"]},
}
