"""The local stack as a client sees it: started once per session in its own process, on free ports.

``stack`` is parametrized over the two variants: ``lambda`` (the app in-process, DynamoDB) and
``ecs`` (the container's gunicorn command, PostgreSQL). Modules about the SRE plane alone pin
``lambda`` with ``pytest.mark.parametrize("stack", ["lambda"], indirect=True)``.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import boto3
import pytest
import requests

from devstack.ports import free_port
from devstack.provision import LOCAL_OPERATOR
from tests.support.iam import E2E_CALL_LOGS_SETTING

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 90
VARIANTS = ("lambda", "ecs")


class RunningStack:
    def __init__(self, base_url: str, aws_endpoint: str, control_url: str, log_path: Path,
                 variant: str = "lambda") -> None:
        self.variant = variant
        self.base_url = base_url
        self.aws_endpoint = aws_endpoint
        self.control_url = control_url
        self.log_path = log_path
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.base_url + path

    def receiver_url(self, path: str = "") -> str:
        """The local webhook receiver (the ECS variant serves it on a port of its own)."""
        return self.status()["webhook_receiver"] + path

    def boto3_client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")

    @functools.cached_property
    def operator_token(self) -> str:
        """Read once: the control API's actions need it while the embedded AWS restarts, too."""
        secret = self.boto3_client("secretsmanager").get_secret_value(SecretId="serverless-sre/operator-token")
        return json.loads(secret["SecretString"])[LOCAL_OPERATOR]

    @property
    def viewer_token(self) -> str:
        """The reader's token, generated at start as a plain string (serverless-sre/viewer-token)."""
        return self.boto3_client("secretsmanager").get_secret_value(SecretId="serverless-sre/viewer-token")["SecretString"]

    def operator_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_token}"}

    def fire(self, function_key: str, event: Any = None) -> Any:
        """Invoke a function of infra/functions.json inside the stack now (metrics are flushed first)."""
        response = requests.post(f"{self.control_url}/functions/{function_key}/invoke",
                                 data=json.dumps(event or {}), headers=self.operator_headers(), timeout=120)
        if response.status_code != 200:
            raise AssertionError(f"{function_key} failed: {response.status_code} {response.text}")
        return response.json()["result"]

    def database(self, action: str) -> dict[str, Any]:
        """ECS variant: ``stop``, ``start``, ``pause`` or ``resume`` its PostgreSQL server for real."""
        return self.control(f"database/{action}")

    def restart(self, part: str) -> dict[str, Any]:
        """``embedded-aws`` (killed, restarted, state replayed) or ``app-server`` (stopped and started)."""
        return self.control(f"{part}/restart")

    def control(self, action: str) -> dict[str, Any]:
        response = requests.post(f"{self.control_url}/{action}", headers=self.operator_headers(), timeout=120)
        assert response.status_code == 200, response.text
        return response.json()

    def flush_metrics(self) -> int:
        return requests.post(f"{self.control_url}/metrics/flush", headers=self.operator_headers(),
                             timeout=30).json()["sent"]

    def status(self) -> dict[str, Any]:
        return requests.get(f"{self.control_url}/status", timeout=10).json()

    def log_tail(self, lines: int = 60) -> str:
        """The console of the stack (errors, warnings, state changes), then the end of its service log."""
        tails = []
        for path in (self.log_path, self.log_path.with_name("service.log")):
            if path.exists():
                tails.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(tails)


def _wait_until_ready(process: subprocess.Popen, stack: RunningStack) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local stack exited with {process.returncode}:\n{stack.log_tail()}")
        try:
            if stack.status().get("ready"):
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"local stack not ready after {START_TIMEOUT_SECONDS}s:\n{stack.log_tail()}")


@contextlib.contextmanager
def running_stack(*extra_args: str, variant: str = "lambda", schedules: bool = False,
                  env: Optional[dict[str, str]] = None) -> Iterator[RunningStack]:
    """A local stack of one variant in its own process on free ports, stopped on exit; tests fire its
    scheduled functions themselves unless ``schedules``; ``env``: settings of the service (both variants)."""
    host = "127.0.0.1"
    port, aws_port, control_port = free_port(host), free_port(host), free_port(host)
    log_dir = Path(tempfile.mkdtemp(prefix=f"devstack-{variant}-"))
    log_path = log_dir / "stack.log"
    env = {**{key: value for key, value in os.environ.items() if not key.startswith("AWS_")}, **(env or {})}
    env["PYTHONUNBUFFERED"] = "1"
    # The stack records its functions' AWS calls; tests/conftest.py checks them against the policies.
    env["AWS_CALL_LOG"] = str(Path(os.environ[E2E_CALL_LOGS_SETTING]) / f"{variant}.jsonl")
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "--host", host, "--port", str(port), "--aws-port", str(aws_port),
             "--control-port", str(control_port), "--log-file", str(log_dir / "service.log"),
             "--variant", variant, *([] if schedules else ["--no-schedules"]), *extra_args],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    running = RunningStack(f"http://{host}:{port}", f"http://{host}:{aws_port}",
                           f"http://{host}:{control_port}", log_path, variant)
    try:
        _wait_until_ready(process, running)
        yield running
    finally:
        process.terminate()
        try:
            # The stack's own stop is bounded (the ECS server gets 25 s to finish in-flight requests, then
            # PostgreSQL is stopped): killing it sooner would leave that PostgreSQL running.
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        # Failures quote the log's tail (RunningStack.log_tail); the logs themselves would pile up per run.
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture(scope="session", params=VARIANTS)
def stack(request):
    with running_stack(variant=request.param) as running:
        yield running


CLOSED_READS = {"SRE_READS_REQUIRE_TOKEN": "true"}


@pytest.fixture(scope="session")
def closed_reads_stack():
    """A Lambda-variant stack whose SRE reads need a viewer or operator token, as deployed. Shared
    (one start) by Schemathesis and the dashboard page's closed-reads test, which only reads."""
    with running_stack(env=CLOSED_READS) as running:
        yield running


@pytest.fixture(scope="session")
def closed_reads_ecs_stack():
    """The ECS variant's, for Schemathesis with the operator token (users in PostgreSQL)."""
    with running_stack(variant="ecs", env=CLOSED_READS) as running:
        yield running


# Breakers that recover within a load phase of a few seconds: the database breaker half-opens
# 2 s after it trips (30 s deployed), so "recovers by itself" fits in the bounded runs.
FAST_RECOVERY = {"CIRCUIT_BREAKERS": json.dumps({"database": {"reset_timeout_seconds": 2},
                                                 "webhook": {"reset_timeout_seconds": 2}})}


@pytest.fixture(scope="session", params=VARIANTS)
def disposable_stack(request):
    """A stack the reliability tests may break (faults during load, restarts); fast breaker recovery.
    Schemathesis keeps a stack of its own: its runs depend on the state it leaves itself."""
    with running_stack(variant=request.param, env=FAST_RECOVERY) as running:
        yield running


@pytest.fixture(autouse=True)
def _stack_aws_calls_are_allowed():
    """The calls the stacks' functions made during the test are allowed by their policies."""
    from devstack.aws_calls import read_log
    from tests.support.iam import PolicyBook

    def seen():
        return set().union(*(read_log(log) for log in Path(os.environ[E2E_CALL_LOGS_SETTING]).glob("*.jsonl")))

    before = seen()
    yield
    refused = PolicyBook().refused(seen() - before)
    assert not refused, ("AWS calls no statement of the function's policy allows (infra/access.json, "
                         "infra/functions.json access):\n" + "\n".join(map(str, refused)))
