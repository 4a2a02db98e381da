"""Connections to the RDS variant's PostgreSQL: credentials from Secrets Manager, a psycopg pool.

RDS manages the master user's secret (``manage_master_user_password``) and rotates it. So the
password is read from Secrets Manager when a connection is opened (cached for
``SECRET_CACHE_SECONDS``) rather than injected once into the task's environment, and a connection
refused for a bad password re-reads the secret once: after a rotation the pool reconnects with
the new password instead of failing until the tasks are replaced.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any, Optional

from chalicelib import deadline_watch
from chalicelib.deadline_watch import Deadline, DeadlineWatch
from chalicelib.settings import DatabaseSettings


class DatabaseCredentials:
    """Connection keyword arguments for psycopg, from the settings and the RDS-managed secret
    (``secrets``: a ``chalicelib.auth.SecretReader``)."""

    def __init__(self, settings: DatabaseSettings, secrets: Any, application_name: str = "user-api") -> None:
        self._settings = settings
        self._secrets = secrets
        self._application_name = application_name

    def _secret(self) -> dict[str, Any]:
        secret_id = self._settings.secret_id
        if not secret_id:
            raise RuntimeError("DB_SECRET_ID is not set: the PostgreSQL user store reads its credentials from it")
        try:
            parsed = json.loads(self._secrets.read(secret_id))
        except ValueError:
            raise RuntimeError(f"secret {secret_id} is not the JSON RDS manages ({{\"username\", \"password\"}})") \
                from None
        if not isinstance(parsed, dict) or not {"username", "password"} <= parsed.keys():
            raise RuntimeError(f"secret {secret_id} lacks username or password")
        return parsed

    def __call__(self) -> dict[str, Any]:
        secret, settings = self._secret(), self._settings
        host = settings.host or secret.get("host")
        if not host:
            raise RuntimeError("DB_HOST is not set and the database secret names no host")
        return {"host": host, "port": int(secret.get("port") or settings.port),
                "dbname": settings.name or secret.get("dbname"), "user": secret["username"],
                "password": secret["password"], "sslmode": settings.sslmode,
                "connect_timeout": settings.connect_timeout_seconds,
                "application_name": self._application_name}

    def forget(self) -> None:
        self._secrets.forget(self._settings.secret_id)


def _refused_credentials(exc: Exception) -> bool:
    # psycopg reports a failed connection attempt as a bare OperationalError (no SQLSTATE), so the
    # server's message is what tells a refused password from an unreachable server.
    return getattr(exc, "sqlstate", None) in ("28P01", "28000") or "password authentication failed" in str(exc)


def _connect(credentials: DatabaseCredentials, connection_class: Any = None, **overrides: Any) -> Any:
    import psycopg  # only the RDS variant imports the driver

    connection_class = connection_class or psycopg.Connection
    arguments = credentials()
    try:
        return connection_class.connect(**{**arguments, **overrides})
    except psycopg.OperationalError as exc:
        if not _refused_credentials(exc):
            raise
        credentials.forget()  # rotated since it was cached?
        fresh = credentials()
        if fresh["password"] == arguments["password"]:
            raise
        return connection_class.connect(**{**fresh, **overrides})


def connect(credentials: DatabaseCredentials) -> Any:
    """One connection (the migration command's)."""
    return _connect(credentials)


# The client waits this long past the server's statement_timeout before it gives up on a connection:
# a live server cancels the statement first and the connection stays usable.
ANSWER_GRACE_SECONDS = 1.0


def answer_timeout(settings: DatabaseSettings) -> float:
    """How long a statement may go without an answer before the client abandons its connection."""
    return settings.statement_timeout_seconds + ANSWER_GRACE_SECONDS


class AnswerDeadline:
    """Shuts the connection's socket down if ``seconds`` pass inside the block: the statement waiting
    for an answer fails at once (OperationalError) and the pool discards the broken connection.

    Written by hand: psycopg 3 has no public client-side bound on a statement, server-side
    ``statement_timeout`` and cancellation both need a server that answers, and TCP timeouts never
    fire while a stopped (SIGSTOP, frozen) server's kernel still acknowledges every packet.
    """

    def __init__(self, connection: Any, seconds: Optional[float], watch: Optional[DeadlineWatch] = None) -> None:
        self._connection = connection
        self._seconds = seconds
        self._watch = watch or deadline_watch.watch()
        self._lock = threading.Lock()
        self._finished = False
        self.expired = False
        self._deadline: Optional[Deadline] = None

    def __enter__(self) -> "AnswerDeadline":
        if self._seconds:
            self._deadline = self._watch.expire_in(self._seconds, self._expire)
        return self

    def __exit__(self, *_: Any) -> None:
        with self._lock:
            self._finished = True
        if self._deadline is not None:
            self._watch.cancel(self._deadline)

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            # shutdown acts on the socket itself, whichever descriptor names it; the duplicate is closed.
            with socket.socket(fileno=os.dup(self._connection.fileno())) as connection_socket:
                connection_socket.shutdown(socket.SHUT_RDWR)


# A connection idle longer than this is checked (one round trip) before it is handed out; one
# used more recently is not: checking every checkout doubled the round trips of a list request.
CHECK_IF_IDLE_SECONDS = 1.0


class PoolRecheck:
    """Once a statement found its connection dropped by the server (a restart, a failover) and the
    server answers again, checks every idle connection of ``pool`` (``ConnectionPool.check``: a dead
    one is replaced), in the background.

    A server that dropped one connection has usually dropped them all. Without this, each pooled
    connection used within ``CHECK_IF_IDLE_SECONDS`` failed its next statement once (a 503 counted by
    the breaker) before the pool replaced it, and a busy process's pool could open the breaker on its
    own. Only when a new connection opens: checked while the server is down, every connection was
    discarded at once, and psycopg_pool's reconnection backoff then left the pool empty for seconds
    after the server came back. In the background: the request that met the loss has failed already."""

    def __init__(self, pool: Any, connect: Optional[Any] = None) -> None:
        self._pool = pool
        self._connect = connect or (lambda: pool.connection_class.connect(pool.conninfo, **(pool.kwargs or {})))
        self._running = threading.Lock()
        self.idle = threading.Event()
        self.idle.set()

    def __call__(self) -> None:
        if not self._running.acquire(blocking=False):
            return  # one at a time: the running one checks every idle connection already
        self.idle.clear()
        threading.Thread(target=self._check, name="users-pool-recheck", daemon=True).start()

    def _check(self) -> None:
        import psycopg

        try:
            try:
                self._connect().close()
            except psycopg.OperationalError:
                return  # still down: its connections are replaced as they fail, by the pool's own reconnection
            self._pool.check()
        except psycopg.Error as exc:  # the pool closed meanwhile: nothing left to check
            logging.getLogger("psycopg.pool").warning("pool check after a lost connection failed: %s", exc)
        finally:
            self._running.release()
            self.idle.set()


def _stamp_idle(connection: Any) -> None:
    connection._idle_since = time.monotonic()


def _check_if_idle(connection: Any, answer_within: Optional[float] = None) -> None:
    from psycopg_pool import ConnectionPool

    if time.monotonic() - getattr(connection, "_idle_since", 0.0) > CHECK_IF_IDLE_SECONDS:
        with AnswerDeadline(connection, answer_within):
            ConnectionPool.check_connection(connection)


def create_pool(settings: DatabaseSettings, credentials: DatabaseCredentials) -> Any:
    """An open psycopg_pool.ConnectionPool of autocommit connections, checked when idle for a while."""
    import psycopg
    from psycopg_pool import ConnectionPool

    # The server's own bound on each statement (the migration command's connections have none).
    statement_timeout = f"-c statement_timeout={round(settings.statement_timeout_seconds * 1000)}"

    class RotatingCredentialsConnection(psycopg.Connection):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:  # type: ignore[override]
            return _connect(credentials, super(RotatingCredentialsConnection, cls),
                            **{**kwargs, "autocommit": True, "options": statement_timeout})

    return ConnectionPool(
        connection_class=RotatingCredentialsConnection,
        min_size=settings.pool_min_size, max_size=max(settings.pool_max_size, settings.pool_min_size),
        timeout=settings.pool_timeout_seconds, reconnect_timeout=settings.pool_reconnect_seconds,
        # A connection the server dropped while it sat idle (restart, failover) fails the check and
        # is replaced instead of failing the request that receives it.
        check=lambda connection: _check_if_idle(connection, answer_timeout(settings)), reset=_stamp_idle,
        name="users", open=True)
