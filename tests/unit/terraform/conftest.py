"""Terraform harness: offline init against the machine's provider mirror.

The stacks are copied with infra/ and statemachines/ into a session temp dir
(so `.terraform/`, lock files and build outputs never touch the repo), the API
document is generated there from app.py, and each stack is initialised once.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[3]
STACKS = ("serverless", "ecs")
COPIED = ("terraform", "infra", "statemachines", "slos")
PROVIDER = Path("registry.terraform.io/hashicorp/aws")
MIRROR_CANDIDATES = (
    os.environ.get("TF_PLUGIN_MIRROR"),
    "/opt/tf-plugins",
    "/usr/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    str(Path.home() / ".terraform.d" / "plugins"),
)
CHECKOV_CANDIDATES = (
    os.environ.get("CHECKOV_BIN"),
    str(REPO / ".venv" / "checkov" / "bin" / "checkov"),
    shutil.which("checkov"),
)
CLI_CONFIG = """\
provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["registry.terraform.io/hashicorp/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/*"]
  }}
}}
"""


@dataclass(frozen=True)
class Terraform:
    binary: str
    env: dict[str, str]

    def run(self, *args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.binary, *args], cwd=cwd, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, *args: str, cwd: Path, output_dir: Path) -> "StartedRun":
        """``run`` in the background; its output goes to files (a pipe nobody reads could fill and stall it)."""
        stdout, stderr = output_dir / "stdout", output_dir / "stderr"
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            process = subprocess.Popen([self.binary, *args], cwd=cwd, env=self.env, stdout=out, stderr=err)
        return StartedRun(process, stdout, stderr)


@dataclass(frozen=True)
class StartedRun:
    process: subprocess.Popen
    stdout: Path
    stderr: Path

    def result(self, timeout: int) -> subprocess.CompletedProcess[str]:
        """The finished run, as ``Terraform.run`` returns it (killed after ``timeout`` seconds)."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        return subprocess.CompletedProcess(self.process.args, self.process.returncode,
                                           self.stdout.read_text(errors="replace"),
                                           self.stderr.read_text(errors="replace"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def find_mirror() -> Path | None:
    for candidate in MIRROR_CANDIDATES:
        if candidate and (Path(candidate) / PROVIDER).is_dir():
            return Path(candidate)
    return None


def find_checkov() -> str | None:
    for candidate in CHECKOV_CANDIDATES:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the Terraform tree with build/lambda/ generated from app.py."""
    root = tmp_path_factory.mktemp("tf-workspace")
    for name in COPIED:
        if not (REPO / name).is_dir():
            continue
        shutil.copytree(REPO / name, root / name,
                        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    build = root / "build" / "lambda"
    subprocess.run([sys.executable, str(REPO / "scripts" / "package_chalice.py"), "--api-only",
                    "--project-dir", str(REPO), "--out", str(build)], check=True, capture_output=True)
    # terraform test only hashes the package: no need to build the real one.
    (build / "deployment.zip").write_bytes(b"stand-in package")
    return root


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.fail("terraform is not on PATH: `make test` checks for it (make terraform-tools says how to get it)")
    mirror = find_mirror()
    if mirror is None:
        pytest.fail(f"no provider mirror holding {PROVIDER} (looked in /opt/tf-plugins and others; "
                    "set TF_PLUGIN_MIRROR): terraform init cannot run offline")
    config_dir = tmp_path_factory.mktemp("tf-cli")
    cli_config = config_dir / "terraform.rc"
    cli_config.write_text(CLI_CONFIG.format(mirror=mirror))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0")
    return Terraform(binary=binary, env=env)


@pytest.fixture(scope="session")
def initialized_stacks(terraform: Terraform, workspace: Path) -> dict[str, Path]:
    """Each stack initialised once per session, offline."""
    stacks = {}
    for stack in STACKS:
        path = workspace / "terraform" / "stacks" / stack
        result = terraform.run("init", "-backend=false", "-input=false", "-no-color", cwd=path)
        assert result.returncode == 0, f"terraform init of {stack} failed:\n{result.stdout}\n{result.stderr}"
        stacks[stack] = path
    return stacks


@pytest.fixture(scope="session")
def terraform_test_runs(terraform: Terraform, initialized_stacks: dict[str, Path],
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StartedRun]]:
    """`terraform test` of every stack, all started at once: they are the slowest Terraform steps
    (minutes), and each leaves a core free that the other stack's run, validate or checkov use."""
    runs = {stack: terraform.start("test", "-no-color", cwd=path,
                                   output_dir=tmp_path_factory.mktemp(f"tf-test-{stack}"))
            for stack, path in initialized_stacks.items()}
    yield runs
    for run in runs.values():
        run.stop()


@pytest.fixture(scope="session")
def run_checkov():
    """Run checkov offline on a directory; returns the completed process."""
    binary = find_checkov()
    if binary is None:
        pytest.fail("checkov is not installed: it lives in its own venv because it pins boto3 exactly "
                    "(`make test` creates .venv/checkov from requirements-checkov.txt)")
    # BC_SKIP_MAPPING: no Bridgecrew mapping download; no API key, so no platform calls.
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", LOG_LEVEL="WARNING")

    def run(directory: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, "--directory", str(directory), "--framework", "terraform", "--skip-download",
             "--skip-path", ".terraform", "--compact", "--quiet", "--output", "cli"],
            env=env, capture_output=True, text=True, timeout=300)

    return run


