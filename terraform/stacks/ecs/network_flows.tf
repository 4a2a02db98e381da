# Every flow the ECS variant needs, and no other: the modules create their security groups bare
# (AWS's default allow-all egress is removed by Terraform), and each rule is here, beside its pair.
#   internet -> ALB        443 (and 80, answered with a redirect): modules/alb
#   ALB      -> tasks      the container port
#   tasks    -> database   5432
#   tasks    -> AWS APIs   443 through the NAT gateways (DynamoDB, SNS, Step Functions, Secrets
#                          Manager, CloudWatch, the image registry): their endpoints have no fixed address

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = module.alb.security_group_id
  description                  = "To the application tasks on the container port"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = module.service.security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = module.service.security_group_id
  description                  = "Application port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = module.alb.security_group_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_database" {
  security_group_id            = module.service.security_group_id
  description                  = "PostgreSQL on the database"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = module.database.security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_tasks" {
  security_group_id            = module.database.security_group_id
  description                  = "PostgreSQL from the application tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = module.service.security_group_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_aws_apis" {
  security_group_id = module.service.security_group_id
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
