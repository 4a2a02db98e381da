# Every flow the ECS variant needs, and no other: the stack creates its security groups bare
# (AWS's default allow-all egress is removed by Terraform), and each rule is here, beside its pair.
#   internet -> ALB        443 (and 80, answered with a redirect): modules/alb
#   ALB      -> tasks      the container port
#   tasks    -> database   the database port
#   tasks    -> AWS APIs   443 through the NAT gateways (DynamoDB, SNS, Step Functions, Secrets
#                          Manager, CloudWatch, the image registry): their endpoints have no fixed address
# A module of its own so that `terraform test` plans each flow in a run of its own in a second
# (terraform/stacks/ecs/tests/network_flows.tftest.hcl), not with the whole stack.

terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "alb_security_group_id" {
  description = "The load balancer's security group."
  type        = string
}

variable "tasks_security_group_id" {
  description = "The application tasks' security group."
  type        = string
}

variable "database_security_group_id" {
  description = "The database's security group."
  type        = string
}

variable "container_port" {
  description = "The port the tasks listen on."
  type        = number
}

variable "database_port" {
  description = "The port the database listens on."
  type        = number
  default     = 5432
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = var.alb_security_group_id
  description                  = "To the application tasks on the container port"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = var.tasks_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = var.tasks_security_group_id
  description                  = "Application port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = var.alb_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_database" {
  security_group_id            = var.tasks_security_group_id
  description                  = "PostgreSQL on the database"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.database_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_tasks" {
  security_group_id            = var.database_security_group_id
  description                  = "PostgreSQL from the application tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.tasks_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_aws_apis" {
  security_group_id = var.tasks_security_group_id
  description       = "HTTPS to AWS APIs and the image registry (through NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# Per rule: the group it belongs to, its direction, the peer group or CIDR and the ports.
locals {
  security_group_rules = merge(
    {
      for name, rule in {
        alb_to_tasks      = aws_vpc_security_group_egress_rule.alb_to_tasks
        tasks_to_database = aws_vpc_security_group_egress_rule.tasks_to_database
        tasks_to_aws_apis = aws_vpc_security_group_egress_rule.tasks_to_aws_apis
      } : name => { group = rule.security_group_id, direction = "egress", peer = coalesce(rule.referenced_security_group_id, rule.cidr_ipv4), ports = [rule.from_port, rule.to_port] }
    },
    {
      for name, rule in {
        tasks_from_alb      = aws_vpc_security_group_ingress_rule.tasks_from_alb
        database_from_tasks = aws_vpc_security_group_ingress_rule.database_from_tasks
      } : name => { group = rule.security_group_id, direction = "ingress", peer = coalesce(rule.referenced_security_group_id, rule.cidr_ipv4), ports = [rule.from_port, rule.to_port] }
    },
  )
}

output "rules" {
  description = "Per rule: the group it belongs to, its direction, the peer group or CIDR and the ports."
  value       = local.security_group_rules
}
