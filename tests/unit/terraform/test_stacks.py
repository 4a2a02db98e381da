"""Both Terraform stacks: formatted, valid, their `terraform test` suites
(mock AWS provider) green, and checkov clean."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

STACKS = ("serverless", "ecs")
SUMMARY = re.compile(r"(\d+) passed, (\d+) failed")
RUN_BLOCK = re.compile(r'^run "', re.MULTILINE)


def declared_runs(stack_dir: Path) -> int:
    return sum(len(RUN_BLOCK.findall(path.read_text())) for path in (stack_dir / "tests").glob("*.tftest.hcl"))


def assert_every_run_passed(result: subprocess.CompletedProcess[str], expected_runs: int) -> None:
    """`terraform test` says "Success! 0 passed, 0 failed." when it finds no test file: that is a failure here."""
    summary = SUMMARY.search(result.stdout)
    assert summary, "terraform test printed no summary:\n" + _output(result)
    passed, failed = int(summary[1]), int(summary[2])
    assert result.returncode == 0 and failed == 0, _output(result)
    assert passed > 0, "terraform test found no test to run:\n" + _output(result)
    assert passed == expected_runs, f"{passed} runs passed, {expected_runs} declared:\n" + _output(result)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"


def test_terraform_files_are_formatted(terraform, repo_root):
    result = terraform.run("fmt", "-check", "-recursive", "-diff", "-no-color", cwd=repo_root / "terraform")
    assert result.returncode == 0, "run `terraform fmt -recursive terraform/`:\n" + _output(result)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_is_valid(terraform, initialized_stacks, stack):
    result = terraform.run("validate", "-no-color", cwd=initialized_stacks[stack])
    assert result.returncode == 0, _output(result)


@pytest.fixture(scope="module", autouse=True)
def _test_suites_started(terraform_test_runs):
    """The stacks' `terraform test` suites start with this module and run beside its other tests."""


@pytest.mark.parametrize("stack", STACKS)
def test_stack_terraform_test_suite_passes(terraform_test_runs, initialized_stacks, stack):
    result = terraform_test_runs[stack].result(timeout=600)
    assert_every_run_passed(result, declared_runs(initialized_stacks[stack]))


def test_a_terraform_test_run_that_finds_no_test_file_fails(terraform, tmp_path):
    (tmp_path / "main.tf").write_text('output "answer" {\n  value = 42\n}\n')
    result = terraform.run("test", "-no-color", cwd=tmp_path)
    assert result.returncode == 0 and "0 passed, 0 failed" in result.stdout
    with pytest.raises(AssertionError, match="found no test to run"):
        assert_every_run_passed(result, declared_runs(tmp_path))


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_checkov(run_checkov, initialized_stacks, stack):
    result = run_checkov(initialized_stacks[stack])
    assert result.returncode == 0, _output(result)
