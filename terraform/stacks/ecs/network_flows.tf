# The flows between the stack's security groups (modules/ecs_network_flows says which and why).
module "network_flows" {
  source = "../../modules/ecs_network_flows"

  alb_security_group_id      = module.alb.security_group_id
  tasks_security_group_id    = module.service.security_group_id
  database_security_group_id = module.database.security_group_id
  container_port             = var.container_port
}

# The rules were the stack's own before the module held them.
moved {
  from = aws_vpc_security_group_egress_rule.alb_to_tasks
  to   = module.network_flows.aws_vpc_security_group_egress_rule.alb_to_tasks
}

moved {
  from = aws_vpc_security_group_ingress_rule.tasks_from_alb
  to   = module.network_flows.aws_vpc_security_group_ingress_rule.tasks_from_alb
}

moved {
  from = aws_vpc_security_group_egress_rule.tasks_to_database
  to   = module.network_flows.aws_vpc_security_group_egress_rule.tasks_to_database
}

moved {
  from = aws_vpc_security_group_ingress_rule.database_from_tasks
  to   = module.network_flows.aws_vpc_security_group_ingress_rule.database_from_tasks
}

moved {
  from = aws_vpc_security_group_egress_rule.tasks_to_aws_apis
  to   = module.network_flows.aws_vpc_security_group_egress_rule.tasks_to_aws_apis
}
