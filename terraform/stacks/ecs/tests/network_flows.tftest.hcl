# One run per flow of the ECS variant (issue: ALB to tasks, tasks to RDS, tasks to AWS APIs), each
# planning modules/ecs_network_flows alone: a second each, where a run of the whole stack takes ten.
# ecs.tftest.hcl checks that the stack hands the module its own groups and that there is no other
# flow; tests/unit/terraform/test_security_groups.py that a missing rule fails its run here.

mock_provider "aws" {
  source          = "../../tests/mocks"
  override_during = plan
}

variables {
  alb_security_group_id      = "sg-0a1b00000000000a1"
  tasks_security_group_id    = "sg-0a1b00000000000a2"
  database_security_group_id = "sg-0a1b00000000000a3"
  container_port             = 8080
}

run "alb_to_tasks" {
  command = plan
  module {
    source = "../../modules/ecs_network_flows"
  }

  assert {
    condition = lookup(output.rules, "alb_to_tasks", null) == {
      group = var.alb_security_group_id, direction = "egress", peer = var.tasks_security_group_id, ports = [8080, 8080]
    }
    error_message = "ALB -> tasks: the load balancer's egress to the tasks' group on the container port"
  }

  assert {
    condition = lookup(output.rules, "tasks_from_alb", null) == {
      group = var.tasks_security_group_id, direction = "ingress", peer = var.alb_security_group_id, ports = [8080, 8080]
    }
    error_message = "ALB -> tasks: the tasks' ingress from the load balancer's group on the container port"
  }
}

run "tasks_to_database" {
  command = plan
  module {
    source = "../../modules/ecs_network_flows"
  }

  assert {
    condition = lookup(output.rules, "tasks_to_database", null) == {
      group = var.tasks_security_group_id, direction = "egress", peer = var.database_security_group_id, ports = [5432, 5432]
    }
    error_message = "tasks -> RDS: the tasks' egress to the database's group on 5432"
  }

  assert {
    condition = lookup(output.rules, "database_from_tasks", null) == {
      group = var.database_security_group_id, direction = "ingress", peer = var.tasks_security_group_id, ports = [5432, 5432]
    }
    error_message = "tasks -> RDS: the database's ingress from the tasks' group on 5432"
  }
}

run "tasks_to_aws_apis" {
  command = plan
  module {
    source = "../../modules/ecs_network_flows"
  }

  assert {
    condition = lookup(output.rules, "tasks_to_aws_apis", null) == {
      group = var.tasks_security_group_id, direction = "egress", peer = "0.0.0.0/0", ports = [443, 443]
    }
    error_message = "tasks -> AWS APIs: HTTPS egress only"
  }
}
