"""`python -m chalicelib.users.migrate`: apply the PostgreSQL user store's pending migrations, then exit.

The ECS stack runs this as a one-off task before the service starts; the local ECS variant
runs it before the server. Migrations are ``migrations/NNNN_name.sql``, applied in order, each in
its own transaction together with its row in ``schema_migrations``; a session advisory lock
makes concurrent runs wait for each other instead of applying a file twice. (The schema is a
few statements of plain SQL: alembic or yoyo would add a second database layer for that.)
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Callable

MIGRATIONS = Path(__file__).with_name("migrations")
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any constant unique to this tool: pg_advisory_lock takes one bigint.
_LOCK_KEY = 0x5E5_0001


def migration_files(folder: Path = MIGRATIONS) -> list[tuple[str, Path]]:
    """``(version, path)`` in order; a file not named NNNN_name.sql is an error, not skipped."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        found.append((match.group(1), path))
    versions = [version for version, _ in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migration files share a version in {folder}")
    return found


def migrate(connection: Any, folder: Path = MIGRATIONS) -> list[str]:
    """Apply what ``connection``'s database lacks; returns the versions applied now."""
    applied_now: list[str] = []
    autocommit, connection.autocommit = connection.autocommit, True
    connection.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                           "version varchar(16) PRIMARY KEY, name text NOT NULL, "
                           "applied_at timestamptz NOT NULL DEFAULT now())")
        done = {row[0] for row in connection.execute("SELECT version FROM schema_migrations").fetchall()}
        for version, path in migration_files(folder):
            if version in done:
                continue
            with connection.transaction():
                connection.execute(path.read_text(encoding="utf-8"))
                connection.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                                   (version, path.stem))
            applied_now.append(version)
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
        connection.autocommit = autocommit
    return applied_now


def main(argv: list[str], connect: Callable[[], Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.users.migrate", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    if connect is None:
        from chalicelib import wiring

        connect = wiring.current().database_connection
    import botocore.exceptions
    import psycopg

    try:
        with connect() as connection:
            applied = migrate(connection)
    except (RuntimeError, psycopg.OperationalError, botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError) as exc:  # the settings, the secret or the server: say which, no trace
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    print(f"schema migrations: applied {', '.join(applied) if applied else 'none (up to date)'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
