"""The ECS variant's server output, read as the awslogs driver reads it."""
import io
import json
from types import SimpleNamespace

from devstack.console import ConsoleLog
from devstack.ecs import EcsVariant

EMF = json.dumps({"_aws": {"Timestamp": 0, "CloudWatchMetrics": []}, "requests": [1.0], "status": 200})
ERROR = json.dumps({"level": "ERROR", "message": "request failed", "status": 503})


def test_every_line_reaches_the_log_file_emf_records_become_metrics_and_only_errors_reach_the_console(monkeypatch):
    forwarded = []
    variant = EcsVariant("127.0.0.1", 0, secrets_client=None, on_emf=forwarded.append)
    variant._server = SimpleNamespace(stdout=io.BytesIO(f"{EMF}\n{ERROR}\n".encode()))
    log_file, console = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", ConsoleLog(log_file, console))
    variant._read_output()
    assert log_file.getvalue() == f"{EMF}\n{ERROR}\n"
    assert console.getvalue() == f"{ERROR}\n"
    assert forwarded == [json.loads(EMF)] and variant.emf_records == 1


def _variant_running(monkeypatch, program: str) -> EcsVariant:
    """An EcsVariant whose server command is ``program`` (a Python one-liner), not gunicorn."""
    import os
    import sys

    from devstack import ecs

    monkeypatch.setattr(ecs, "server_argv", lambda: [sys.executable, "-c", program])
    variant = EcsVariant("127.0.0.1", 0, secrets_client=None, on_emf=lambda record: None)
    monkeypatch.setattr(variant, "server_environment", lambda: dict(os.environ))
    monkeypatch.setattr(variant, "_wait_until_live", lambda: None)
    return variant


def _wait_for_followers(variant: EcsVariant) -> None:
    reader = None
    while reader is not variant._reader:  # each replacement starts a follower of its own
        reader = variant._reader
        reader.join(timeout=10)


def test_a_server_that_exits_by_itself_is_replaced_and_one_that_keeps_exiting_is_left_stopped(monkeypatch, caplog):
    from devstack import ecs

    variant = _variant_running(monkeypatch, "raise SystemExit(3)")
    with caplog.at_level("WARNING", logger="devstack.ecs"):
        with variant._server_lock:
            variant._start_server({})
        _wait_for_followers(variant)
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "starting a new one" in m]) == ecs.MAX_REPLACEMENTS, messages
    assert "exited with status 3" in messages[0] and "not started again" in messages[-1]


def test_a_server_stopped_on_purpose_is_not_replaced(monkeypatch, caplog):
    variant = _variant_running(monkeypatch, "import time; time.sleep(30)")
    with variant._server_lock:
        variant._start_server({})
    server = variant._server
    with caplog.at_level("WARNING", logger="devstack.ecs"):
        variant.stop()
        _wait_for_followers(variant)
    assert server.poll() is not None and variant._server is server and not caplog.records
