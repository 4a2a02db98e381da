"""A throwaway PostgreSQL cluster: its own data folder, a Unix socket and optionally 127.0.0.1.

Tests use it on a socket only; the local ECS variant (``--variant ecs``) serves it on a
loopback TCP port, as RDS is reached over TCP. ``stop``/``start`` simulate an outage.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, Optional

from devstack.leftovers import claim
from devstack.procfs import children_of, process_stopped

USER = "sre"
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"  # what ``state`` answers
DATABASE = "postgres"


def postgres_bindir() -> Optional[Path]:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI and these machines run tests as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresCluster:
    """``tcp_port=None``: Unix socket only; otherwise also 127.0.0.1:<tcp_port>.

    ``password``: set for ``USER`` and required over TCP (scram-sha-256), as on RDS.
    """

    def __init__(self, tcp_port: Optional[int] = None, password: Optional[str] = None) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (initdb); `make test` installs them with apt")
        self.bindir = bindir
        self.tcp_port = tcp_port
        self.password = password
        self.base = Path(tempfile.mkdtemp(prefix="pg-"))
        claim(self.base)  # a process killed before destroy(): the next stack stops and removes it
        self.data = self.base / "data"
        self.socket_port = tcp_port or 5432
        self._initialised = False

    @classmethod
    def at(cls, base: Path) -> "PostgresCluster":
        """The cluster another process made in ``base`` (to stop and destroy what it left)."""
        cluster = cls.__new__(cls)
        cluster.bindir, cluster.tcp_port, cluster.password = postgres_bindir(), None, None
        cluster.base, cluster.data, cluster.socket_port = Path(base), Path(base) / "data", 5432
        cluster._initialised = True
        return cluster

    @property
    def socket_dsn(self) -> str:
        return f"host={self.base} port={self.socket_port} user={USER} dbname={DATABASE}"

    def _run(self, *command: str) -> None:
        subprocess.run(_as_server_user(list(command)), check=True, capture_output=True)

    def _initialise(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.base, user="postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "--no-sync",
                  "-E", "UTF8")
        if self.password is not None:
            # Local socket stays trusted (setup, tests); TCP needs the password, as on RDS.
            (self.data / "pg_hba.conf").write_text(
                "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        self._initialised = True

    def running(self) -> bool:
        status = subprocess.run(_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]),
                                capture_output=True)
        return status.returncode == 0

    def state(self) -> str:
        """``running``, ``paused`` (its postmaster stopped by ``pause``) or ``stopped``."""
        if not self.running():
            return STOPPED
        processes = self._processes()
        return PAUSED if processes and process_stopped(processes[0]) else RUNNING

    def start(self) -> None:
        """Start the server (resume it when paused); the first start creates the cluster."""
        first = not self._initialised
        if first:
            self._initialise()
        elif self.running():
            self.resume()
            return
        listen = "'127.0.0.1'" if self.tcp_port else "''"
        # Terse errors: a unique violation's DETAIL repeats the key, an e-mail address, in the server log.
        options = (f"-k {self.base} -c listen_addresses={listen} -c fsync=off -c synchronous_commit=off "
                   f"-c log_error_verbosity=terse -p {self.socket_port}")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
                  "-l", str(self.base / "server.log"), "start")
        if first and self.password is not None:
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.socket_dsn, autocommit=True) as connection:
                connection.execute(sql.SQL("ALTER USER {} PASSWORD {}").format(sql.Identifier(USER),
                                                                               sql.Literal(self.password)))

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown (an outage that loses nothing); ``immediate`` when throwing it away
        (with fsync and synchronous_commit off, an immediate stop may lose the last commits). A paused
        server is resumed first: stopped processes never shut down (pg_ctl waited its 60 s and gave up,
        and the shutdown it asked for ran at the next resume)."""
        self.resume()
        subprocess.run(_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                                        "stop"]), capture_output=True)

    def _processes(self) -> list[int]:
        """The postmaster (first line of postmaster.pid) and its children, from /proc."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *children_of(postmaster)]

    def pause(self) -> None:
        """Stop every server process (SIGSTOP): connections stay open, every query waits until ``resume``."""
        self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal_all(signal.SIGCONT)

    def _signal_all(self, signum: int) -> None:
        for pid in self._processes():
            # A backend may exit between being listed and being signalled: nothing left to stop or continue.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def run_cluster() -> Iterator[str]:
    """Start a socket-only cluster, yield its connection string, stop and delete it."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster.socket_dsn
    finally:
        cluster.destroy()
