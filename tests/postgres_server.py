"""A throwaway PostgreSQL cluster for tests: its own data folder, a Unix socket only (no TCP port)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, Optional


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


def run_cluster() -> Iterator[str]:
    """Start a cluster, yield its connection string, stop and delete it."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found (initdb); `make test` installs them with apt")
    base = Path(tempfile.mkdtemp(prefix="pg-test-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres")
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "sre",
                                        "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        options = f"-k {base} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -p 5432"
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                                        "-l", str(base / "server.log"), "start"]), check=True, capture_output=True)
        try:
            yield f"host={base} port=5432 user=sre dbname=postgres"
        finally:
            subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
