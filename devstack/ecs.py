"""The ECS/RDS variant on one machine (``--variant ecs``): the container's command against a real PostgreSQL.

The embedded AWS and the SRE plane (scheduled functions, state machines) are the same as the
Lambda variant's; the API is not served in-process but by ``container.SERVER_COMMAND`` (gunicorn)
in its own process group, against PostgreSQL on 127.0.0.1 whose credentials sit in the embedded
Secrets Manager in the shape RDS manages. The schema comes from ``container.MIGRATE_COMMAND``,
run once before the server starts, as the ECS stack's one-off task does. The server's stdout is
read as the awslogs driver would: EMF records become metrics (the forwarder), and every line is echoed.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional

from container import MIGRATE_COMMAND, SERVER_COMMAND
from devstack.ports import free_port

log = logging.getLogger("devstack.ecs")
ROOT = Path(__file__).resolve().parent.parent
DATABASE_SECRET = "serverless-sre/database"
START_TIMEOUT_SECONDS = 60
# A server that exits by itself is replaced, as ECS replaces a task whose essential container
# stopped; one that keeps exiting (this many times within the window) is left stopped, said on the console.
MAX_REPLACEMENTS, REPLACEMENT_WINDOW_SECONDS = 3, 60.0


def _from_this_environment(command: tuple[str, ...]) -> list[str]:
    """The command with its program taken from this interpreter's bin folder (the venv), as PATH does in the image."""
    program = Path(sys.executable).parent / command[0]
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    return [str(program) if program.exists() else command[0], *command[1:]]


def server_argv() -> list[str]:
    return _from_this_environment(SERVER_COMMAND)


def migrate_argv() -> list[str]:
    return _from_this_environment(MIGRATE_COMMAND)


class EcsVariant:
    """PostgreSQL, the migration, and the server; ``start`` after the embedded AWS is provisioned."""

    def __init__(self, host: str, port: int, secrets_client: Any, on_emf: Callable[[dict[str, Any]], None],
                 workers: Optional[int] = None) -> None:
        self.host, self.port = host, port
        self._secrets_client = secrets_client
        self._on_emf = on_emf
        self._workers = workers
        self.database: Any = None
        self._server: Optional[subprocess.Popen] = None
        self._reader: Optional[threading.Thread] = None
        self.emf_records = 0
        # Held while a server is stopped or started: a replacement never races a restart or the stack's stop.
        self._server_lock = threading.Lock()
        self._stopping = False
        self._replaced_at: list[float] = []

    @property
    def server_pid(self) -> Optional[int]:
        server = self._server
        return server.pid if server is not None and server.poll() is None else None

    def server_environment(self) -> dict[str, str]:
        return {**os.environ, "USERS_STORE": "postgres", "DB_HOST": "127.0.0.1", "DB_PORT": str(self.database.tcp_port),
                "DB_NAME": "postgres", "DB_SECRET_ID": DATABASE_SECRET, "DB_SSLMODE": "disable",
                "HOST": self.host, "PORT": str(self.port),
                "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY") or str(self._workers or 2),
                "STOP_WITH_PARENT": str(os.getpid()), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}

    def start(self) -> None:
        from devstack.postgres import PostgresCluster

        password = secrets.token_urlsafe(24)
        self.database = PostgresCluster(tcp_port=free_port("127.0.0.1"), password=password)
        self.database.start()
        self._secrets_client.create_secret(Name=DATABASE_SECRET, SecretString=json.dumps(
            {"username": "sre", "password": password}))
        environment = self.server_environment()
        subprocess.run(migrate_argv(), cwd=ROOT, env=environment, check=True)
        with self._server_lock:
            self._start_server(environment)

    def _start_server(self, environment: dict[str, str]) -> None:
        server = subprocess.Popen(server_argv(), cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                                  stderr=None, start_new_session=True)
        self._server = server
        self._reader = threading.Thread(target=self._follow, args=(server,), name="devstack-ecs-output", daemon=True)
        self._reader.start()
        self._wait_until_live()

    def restart_server(self) -> None:
        """As ECS replaces a task: the old server stops gracefully, a new one starts on the same port."""
        with self._server_lock:
            self._stop_server()
            self._start_server(self.server_environment())

    def _follow(self, server: subprocess.Popen) -> None:
        self._read_output(server)
        self._replace_if_lost(server)

    def _replace_if_lost(self, server: subprocess.Popen) -> None:
        """A server that exited without being asked (killed, crashed) is replaced, as ECS replaces the task;
        before, the stack went on saying it was ready with nothing on the API's port."""
        status = server.wait()
        with self._server_lock:
            if self._stopping or self._server is not server:
                return  # stopped on purpose, or already replaced
            now = time.monotonic()
            self._replaced_at = [at for at in self._replaced_at if now - at < REPLACEMENT_WINDOW_SECONDS]
            if len(self._replaced_at) >= MAX_REPLACEMENTS:
                log.error("the API server (pid %s) exited with status %s, the %s time within %gs: not started again",
                          server.pid, status, MAX_REPLACEMENTS + 1, REPLACEMENT_WINDOW_SECONDS)
                return
            self._replaced_at.append(now)
            log.warning("the API server (pid %s) exited with status %s; starting a new one on port %s, "
                        "as ECS replaces a stopped task", server.pid, status, self.port)
            try:
                self._start_server(self.server_environment())
            except RuntimeError as exc:
                log.error("the API server could not be started again: %s", exc)

    def _read_output(self, server: Optional[subprocess.Popen] = None) -> None:
        server = server or self._server
        assert server is not None and server.stdout is not None
        for raw in server.stdout:
            line = raw.decode("utf-8", errors="replace")
            if line.startswith("{") and '"_aws"' in line:
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if isinstance(record, dict) and "_aws" in record:
                    self._on_emf(record)
                    self.emf_records += 1
            # Every line, EMF records too: awslogs keeps them in the log group, and they are the one
            # record per request the banner's log file promises (the console leaves them out).
            sys.stdout.write(line)

    def _wait_until_live(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        url = f"http://{self.host}:{self.port}/health/live"
        while time.monotonic() < deadline:
            if self._server is not None and self._server.poll() is not None:
                raise RuntimeError(f"the server exited with {self._server.returncode} while starting")
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:  # nosec B310 - http:// built above
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer {url} within {START_TIMEOUT_SECONDS}s")

    # The control API's outage switch: the database really stops and starts. Each answers the state the
    # server is in afterwards, as PostgreSQL reports it.
    def stop_database(self) -> dict[str, Any]:
        self.database.stop()
        return {"database": self.database.state()}

    def start_database(self) -> dict[str, Any]:
        self.database.start()
        return {"database": self.database.state()}

    def pause_database(self) -> dict[str, Any]:
        """Every PostgreSQL process stopped (SIGSTOP): connections stay open, queries wait: a slow database."""
        self.database.pause()
        return {"database": self.database.state()}

    def resume_database(self) -> dict[str, Any]:
        self.database.resume()
        return {"database": self.database.state()}

    def stop(self) -> None:
        with self._server_lock:
            self._stopping = True
            self._stop_server()
        if self.database is not None:
            self.database.destroy()

    def _stop_server(self) -> None:
        if self._server is not None and self._server.poll() is None:
            os.killpg(self._server.pid, signal.SIGTERM)  # gunicorn's graceful stop, workers included
            try:
                self._server.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(self._server.pid, signal.SIGKILL)
                self._server.wait(timeout=5)
