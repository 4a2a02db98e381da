"""A peer of the original service's shape: Flask's own server, SQLAlchemy, SQLite.

``python -m bench._flask_peer --port N --database PATH``. The same user API as the
service (list newest first with ``limit``, create, read, update, delete; 409 on a taken
email), with none of its reliability machinery: the yardstick the local stack is held to.
"""
from __future__ import annotations

import argparse
import logging
import sys
import uuid
from datetime import datetime, timezone
from typing import Optional

from flask import Flask, jsonify, request
from sqlalchemy import Index, String, create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[str] = mapped_column(String(40), index=True)
    updated_at: Mapped[Optional[str]] = mapped_column(String(40), nullable=True)
    __table_args__ = (Index("users_email_unique", func.lower(email), unique=True),)

    def to_json(self) -> dict:
        body = {"id": self.id, "name": self.name, "email": self.email, "created_at": self.created_at}
        if self.updated_at:
            body["updated_at"] = self.updated_at
        return body


def create_app(database: str) -> Flask:
    engine = create_engine(f"sqlite:///{database}", connect_args={"check_same_thread": False, "timeout": 30})
    Base.metadata.create_all(engine)
    Session = scoped_session(sessionmaker(engine, expire_on_commit=False))
    app = Flask(__name__)

    def now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="microseconds")

    def user_input():
        body = request.get_json(silent=True)
        if (not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip()
                or not isinstance(body.get("email"), str) or "@" not in body["email"]):
            return None
        return body["name"].strip(), body["email"].strip()

    @app.teardown_appcontext
    def remove_session(_exc):
        Session.remove()

    @app.get("/api/users")
    def list_users():
        limit = request.args.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return jsonify(error="Invalid limit"), 400
        rows = Session.scalars(select(UserRow).order_by(UserRow.created_at.desc()).limit(int(limit)))
        return jsonify([row.to_json() for row in rows])

    @app.post("/api/users")
    def create_user():
        fields = user_input()
        if fields is None:
            return jsonify(error="name and email are required"), 400
        row = UserRow(id=str(uuid.uuid4()), name=fields[0], email=fields[1], created_at=now())
        Session.add(row)
        try:
            Session.commit()
        except IntegrityError:
            Session.rollback()
            return jsonify(error="Email already registered"), 409
        return jsonify(row.to_json()), 201, {"Location": f"/api/users/{row.id}"}

    @app.get("/api/users/<user_id>")
    def get_user(user_id):
        row = Session.get(UserRow, user_id)
        return (jsonify(row.to_json()), 200) if row else (jsonify(error="Not found"), 404)

    @app.put("/api/users/<user_id>")
    def update_user(user_id):
        fields = user_input()
        if fields is None:
            return jsonify(error="name and email are required"), 400
        row = Session.get(UserRow, user_id)
        if row is None:
            return jsonify(error="Not found"), 404
        row.name, row.email, row.updated_at = fields[0], fields[1], now()
        try:
            Session.commit()
        except IntegrityError:
            Session.rollback()
            return jsonify(error="Email already registered"), 409
        return jsonify(row.to_json())

    @app.delete("/api/users/<user_id>")
    def delete_user(user_id):
        row = Session.get(UserRow, user_id)
        if row is None:
            return jsonify(error="Not found"), 404
        Session.delete(row)
        Session.commit()
        return "", 204

    @app.get("/health/live")
    def live():
        return jsonify(status="ok")

    return app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._flask_peer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one line per request
    create_app(args.database).run(host=args.host, port=args.port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
