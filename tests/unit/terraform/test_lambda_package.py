"""The Lambda package `make package` builds: complete, small, and nothing local in it.

`make test` runs `make package` first; run alone, this builds build/lambda/ the same way.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

MAX_PACKAGE_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def package(repo_root) -> Path:
    zip_path = repo_root / "build" / "lambda" / "deployment.zip"
    if not zip_path.is_file():
        subprocess.run([sys.executable, str(repo_root / "scripts" / "package_chalice.py")], cwd=repo_root,
                       check=True, capture_output=True)
    return zip_path


@pytest.fixture(scope="module")
def names(package) -> list[str]:
    with zipfile.ZipFile(package) as archive:
        return archive.namelist()


def test_the_package_is_under_the_size_limit(package):
    assert package.stat().st_size < MAX_PACKAGE_BYTES


def test_the_package_leaves_out_the_sdk_the_runtime_provides(names):
    assert not [n for n in names if n.split("/")[0] in {"boto3", "botocore", "s3transfer"}]


def test_the_package_holds_no_local_only_code_or_tests(names):
    tops = {n.split("/")[0] for n in names}
    assert not tops & {"devstack", "tests", "bench", "scripts", "terraform", "build", ".chalice"}
    assert not [n for n in names if "fixtures" in n.split("/") or n.endswith((".pyc", ".tfstate"))]


def test_the_package_holds_the_app_and_the_runtime_directories(names):
    tops = {n.split("/")[0] for n in names}
    assert {"app.py", "chalicelib", "functions", "slos", "runbooks", "statemachines"} <= tops


def test_the_package_holds_every_file_the_dashboard_page_serves(names):
    from chalicelib.dashboard import assets

    wanted = ["chalicelib/dashboard/static/dashboard.html"] + [
        f"chalicelib/dashboard/static/{relative}" for relative, _ in assets.ASSETS.values()]
    assert not [name for name in wanted if name not in names]


def _runtime_sdk(tmp_path: Path) -> Path:
    """A folder holding only what the Lambda runtime adds to the package: boto3, botocore, s3transfer."""
    sdk = tmp_path / "runtime-sdk"
    sdk.mkdir()
    for name in ("boto3", "botocore", "s3transfer"):
        (sdk / name).symlink_to(Path(importlib.util.find_spec(name).origin).parent)
    return sdk


def test_the_app_and_every_function_import_from_the_package_and_the_runtime_sdk_alone(package, tmp_path):
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(unpacked)
    functions = sorted(p.stem for p in (unpacked / "functions").glob("*.py"))
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
            "import app\n"
            # What the app imports lazily, on first use.
            "import pynamodb.models, pybreaker, yaml, jsonschema, aws_xray_sdk.core, aws_lambda_powertools.metrics\n"
            "for name in sys.argv[3:]: __import__('functions.' + name)\n"
            "assert app.__file__.startswith(sys.argv[1]), app.__file__\n")
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    # -S -I: no site-packages, no repository on the path: the package must carry every import itself.
    result = subprocess.run([sys.executable, "-S", "-I", "-c", code, str(unpacked), str(_runtime_sdk(tmp_path)),
                             *functions], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
