"""Security group rules exist only where the flows are declared: the internet to the load balancer
(modules/alb) and the ECS variant's flows between its groups (modules/ecs_network_flows); a flow
whose rule is missing fails its `terraform test` run (stacks/ecs/tests/network_flows.tftest.hcl)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

TERRAFORM = Path(__file__).resolve().parents[3] / "terraform"
RULE = re.compile(r'^resource\s+"(aws_vpc_security_group_(?:ingress|egress)_rule|aws_security_group_rule)"\s+"(\w+)"',
                  re.MULTILINE)
GROUP = re.compile(r'^resource\s+"aws_security_group"\s+"\w+"\s*\{(.*?)^\}', re.MULTILINE | re.DOTALL)


def _sources() -> dict[str, str]:
    return {str(path.relative_to(TERRAFORM)): path.read_text() for path in TERRAFORM.rglob("*.tf")
            if ".terraform" not in path.parts}


def test_every_security_group_rule_is_a_declared_flow():
    rules = {(path, kind, name) for path, text in _sources().items() for kind, name in RULE.findall(text)}
    assert rules == {
        ("modules/alb/main.tf", "aws_vpc_security_group_ingress_rule", "https"),
        ("modules/alb/main.tf", "aws_vpc_security_group_ingress_rule", "http"),
        ("modules/ecs_network_flows/main.tf", "aws_vpc_security_group_egress_rule", "alb_to_tasks"),
        ("modules/ecs_network_flows/main.tf", "aws_vpc_security_group_ingress_rule", "tasks_from_alb"),
        ("modules/ecs_network_flows/main.tf", "aws_vpc_security_group_egress_rule", "tasks_to_database"),
        ("modules/ecs_network_flows/main.tf", "aws_vpc_security_group_ingress_rule", "database_from_tasks"),
        ("modules/ecs_network_flows/main.tf", "aws_vpc_security_group_egress_rule", "tasks_to_aws_apis"),
    }


def test_no_security_group_has_inline_rules():
    inline = [path for path, text in _sources().items() for body in GROUP.findall(text)
              if re.search(r"^\s*(ingress|egress)\s*\{", body, re.MULTILINE)]
    assert inline == []


ALB_EGRESS = re.compile(r'^resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" \{.*?^\}\n', re.MULTILINE | re.DOTALL)


def test_a_missing_flow_fails_its_run(terraform, initialized_stacks, tmp_path):
    """The ALB's egress to the tasks (once missing: the load balancer could not reach its tasks)
    taken out of a copy of the tree: the ALB -> tasks run fails, saying which flow, and only it."""
    initialized = initialized_stacks["ecs"]
    copy = tmp_path / "terraform"
    shutil.copytree(initialized.parents[1], copy, ignore=shutil.ignore_patterns(".terraform"))
    module = copy / "modules" / "ecs_network_flows" / "main.tf"
    text, removed = ALB_EGRESS.subn("", module.read_text())
    assert removed == 1
    module.write_text(text.replace("alb_to_tasks      = aws_vpc_security_group_egress_rule.alb_to_tasks\n", ""))
    stack = copy / "stacks" / "ecs"
    (stack / ".terraform").symlink_to(initialized / ".terraform")  # providers and modules as initialised
    result = terraform.run("test", "-no-color", "-filter=tests/network_flows.tftest.hcl", cwd=stack)
    assert result.returncode != 0, result.stdout
    assert 'run "alb_to_tasks"... fail' in result.stdout and "the load balancer's egress" in result.stdout + result.stderr
    assert 'run "tasks_to_database"... pass' in result.stdout and 'run "tasks_to_aws_apis"... pass' in result.stdout
