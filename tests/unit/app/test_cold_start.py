"""What importing the app loads: heavy modules wait for the first request that needs them."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ["boto3", "pynamodb.models", "aws_xray_sdk", "requests"]


def modules_loaded_by_import_app(extra_env=None):
    code = f"import sys, json, app; print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", **(extra_env or {})}
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_importing_the_app_builds_no_aws_client_and_loads_no_heavy_module():
    assert modules_loaded_by_import_app() == {name: False for name in HEAVY}


def test_the_tracer_is_only_built_when_tracing_is_enabled(monkeypatch):
    from chalicelib import wiring
    from chalicelib.observability import tracing

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    wiring.reset()
    assert tracing.get_tracer() is None
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    wiring.reset()
    assert tracing.get_tracer() is not None
