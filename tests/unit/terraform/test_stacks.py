"""Both Terraform stacks: formatted, valid, their `terraform test` suites
(mock AWS provider) green, and checkov clean."""
from __future__ import annotations

import subprocess

import pytest

STACKS = ("serverless", "ecs")


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"


def test_terraform_files_are_formatted(terraform, repo_root):
    result = terraform.run("fmt", "-check", "-recursive", "-diff", "-no-color", cwd=repo_root / "terraform")
    assert result.returncode == 0, "run `terraform fmt -recursive terraform/`:\n" + _output(result)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_is_valid(terraform, initialized_stacks, stack):
    result = terraform.run("validate", "-no-color", cwd=initialized_stacks[stack])
    assert result.returncode == 0, _output(result)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_terraform_test_suite_passes(terraform, initialized_stacks, stack):
    result = terraform.run("test", "-no-color", cwd=initialized_stacks[stack], timeout=600)
    assert result.returncode == 0, _output(result)
    assert " 0 failed" in result.stdout


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_checkov(run_checkov, initialized_stacks, stack):
    result = run_checkov(initialized_stacks[stack])
    assert result.returncode == 0, _output(result)
