"""Security group rules exist only where the flows are declared: the internet to the load balancer
(modules/alb) and the ECS variant's flows between its groups (stacks/ecs/network_flows.tf)."""
from __future__ import annotations

import re
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
        ("stacks/ecs/network_flows.tf", "aws_vpc_security_group_egress_rule", "alb_to_tasks"),
        ("stacks/ecs/network_flows.tf", "aws_vpc_security_group_ingress_rule", "tasks_from_alb"),
        ("stacks/ecs/network_flows.tf", "aws_vpc_security_group_egress_rule", "tasks_to_database"),
        ("stacks/ecs/network_flows.tf", "aws_vpc_security_group_ingress_rule", "database_from_tasks"),
        ("stacks/ecs/network_flows.tf", "aws_vpc_security_group_egress_rule", "tasks_to_aws_apis"),
    }


def test_no_security_group_has_inline_rules():
    inline = [path for path, text in _sources().items() for body in GROUP.findall(text)
              if re.search(r"^\s*(ingress|egress)\s*\{", body, re.MULTILINE)]
    assert inline == []
