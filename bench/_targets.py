"""Starting and stopping what the load benchmarks measure, each in its own process on free ports."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional

import requests

from devstack.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 120


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def stop_targets_on_sigterm() -> None:
    """SIGTERM (a supervisor, ``timeout``, ``kill``) ends the benchmark as an exception does, so every
    target's ``with`` stops its server: Python's default ends the process at once, which left a local
    stack and its embedded AWS running with no parent. Only the main thread may set a handler."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


class Target:
    """One server process; ``base_url`` answers once ``start()`` returns."""

    def __init__(self, label: str, command: list[str], base_url: str, ready_path: str,
                 control_url: Optional[str] = None, log_dir: Optional[Path] = None,
                 env: Optional[dict[str, str]] = None) -> None:
        self.label = label
        self.command = command
        self.base_url = base_url
        self.ready_path = ready_path
        self.control_url = control_url
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="bench-"))
        self.extra_env = env or {}
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "Target":
        stop_targets_on_sigterm()
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(self.extra_env, PYTHONUNBUFFERED="1")
        with open(self.log_dir / "console.log", "wb") as console:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=console, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.process.returncode}:\n{self.console_tail()}")
            try:
                if self._ready():
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.label} not ready after {READY_TIMEOUT_SECONDS} s:\n{self.console_tail()}")

    def _ready(self) -> bool:
        if self.control_url is not None:
            return bool(requests.get(f"{self.control_url}/status", timeout=2).json().get("ready"))
        return requests.get(self.base_url + self.ready_path, timeout=2).status_code == 200

    def console_tail(self, lines: int = 30) -> str:
        path = self.log_dir / "console.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def status(self) -> dict[str, Any]:
        return requests.get(f"{self.control_url}/status", timeout=10).json()

    def invoke(self, function_key: str, timeout: float) -> requests.Response:
        """Run a function of the local stack now, through its control API (an action: the operator token)."""
        return requests.post(f"{self.control_url}/functions/{function_key}/invoke", data="{}", timeout=timeout,
                             headers={"Authorization": f"Bearer {self.operator_token()}"})

    def operator_token(self) -> str:
        """What the local stack wrote to its state file (``make token`` reads the same)."""
        from urllib.parse import urlsplit

        from devstack.token import STATE_DIR, running_state, state_path

        state = running_state(state_path(urlsplit(self.base_url).port, ROOT / STATE_DIR))
        if state is None:
            raise RuntimeError(f"{self.label} wrote no state file: is it running?")
        return state["operator_token"]

    def pids(self) -> list[int]:
        """The processes that make up the target (the local stack: itself, its embedded AWS and the
        AWS's gunicorn worker, which holds moto's state)."""
        if self.control_url is None:
            roots = [self.process.pid] if self.process else []
        else:
            roots = [pid for pid in self.status().get("pids", {}).values() if pid]
        return list(dict.fromkeys(pid for root in roots for pid in process_tree(root)))

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> "Target":
        return self.start()

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        self.stop()
        if exc_type is None:  # logs (a soak's request log runs to hundreds of MB) are kept only for a failure
            shutil.rmtree(self.log_dir, ignore_errors=True)


def in_memory_app() -> Target:
    port = free_port()
    return Target("in-memory app", [sys.executable, "-m", "bench._memory_app", "--port", str(port)],
                  f"http://127.0.0.1:{port}", "/health/live")


def local_stack(schedules: bool = True, variant: str = "lambda", workers: Optional[int] = None,
                env: Optional[dict[str, str]] = None) -> Target:
    """The local stack; ``variant="ecs"``: the container's gunicorn on PostgreSQL, ``workers`` processes;
    ``env``: settings of the service (``chalicelib.settings``)."""
    port, aws_port, control_port = free_port(), free_port(), free_port()
    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-stack-{variant}-"))
    command = [sys.executable, "-m", "devstack", "--port", str(port), "--aws-port", str(aws_port),
               "--control-port", str(control_port), "--log-file", str(log_dir / "service.log"),
               "--variant", variant]
    if not schedules:
        command.append("--no-schedules")
    label = "local stack" if variant == "lambda" else f"local stack ({variant})"
    return Target(label, command, f"http://127.0.0.1:{port}", "/health/live",
                  control_url=f"http://127.0.0.1:{control_port}", log_dir=log_dir,
                  env={**(env or {}), **({"WEB_CONCURRENCY": str(workers)} if workers else {})})


def flask_peer() -> Target:
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-flask-"))
    return Target("Flask+SQLite peer", [sys.executable, "-m", "bench._flask_peer", "--port", str(port),
                                        "--database", str(log_dir / "users.sqlite3")],
                  f"http://127.0.0.1:{port}", "/health/live", log_dir=log_dir)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(child) for child in children)
    return tree


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
