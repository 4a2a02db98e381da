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
