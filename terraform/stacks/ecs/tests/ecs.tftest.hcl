# The ECS/RDS variant planned against mocked AWS.

mock_provider "aws" {
  source          = "../../tests/mocks"
  override_during = plan
}

variables {
  certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  container_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/user-service:1.0.0"
}

run "database_tasks_and_scaling" {
  command = plan

  # the database is Multi-AZ, encrypted, private, password in Secrets Manager
  assert {
    condition = output.database_settings == {
      multi_az                    = true
      storage_encrypted           = true
      publicly_accessible         = false
      manage_master_user_password = true
      engine                      = "postgres"
    }
    error_message = "RDS must be Multi-AZ, encrypted, private, with an RDS-managed secret"
  }

  # the app reads the RDS-managed secret itself (it rotates); no password in any container's environment
  assert {
    condition = one([
      for e in one([for c in jsondecode(output.container_definitions) : c if c.name == "app"]).environment : e.value if e.name == "DB_SECRET_ID"
    ]) == output.database_secret_arn
    error_message = "DB_SECRET_ID must name the RDS-managed secret"
  }

  assert {
    condition = alltrue([for c in jsondecode(output.container_definitions) : !contains(
    concat([for e in c.environment : e.name], [for s in c.secrets : s.name]), "DB_PASSWORD")])
    error_message = "no container may carry the password in its environment"
  }

  # the schema migration runs to completion in each task before the server starts
  assert {
    condition = (one([for c in jsondecode(output.container_definitions) : c if c.name == "migrate"]).command == ["python", "-m", "chalicelib.users.migrate"]
      && one([for c in jsondecode(output.container_definitions) : c if c.name == "migrate"]).essential == false
    && one([for c in jsondecode(output.container_definitions) : c if c.name == "app"]).dependsOn == [{ containerName = "migrate", condition = "SUCCESS" }])
    error_message = "the app container must wait for the migrate init container to succeed"
  }

  assert {
    condition     = one([for c in jsondecode(output.container_definitions) : c if c.name == "app"]).healthCheck.command == ["CMD", "python", "-m", "container.healthcheck"]
    error_message = "the task's health check must be the image's (/health/live)"
  }

  # a database outage must not fail every target: ECS would stop every task (modules/alb)
  assert {
    condition     = output.target_health_check_path == "/health/live"
    error_message = "the target group's health check must ask liveness, not the database"
  }

  # the service autoscales between the configured bounds
  assert {
    condition     = output.autoscaling == { min = 2, max = 10 }
    error_message = "autoscaling bounds follow min_tasks and max_tasks"
  }

  # one private subnet per availability zone
  assert {
    condition     = length(output.private_subnet_ids) == 2
    error_message = "one private subnet per AZ"
  }

  # the SLOs are watched here too; success falls back to the app's own counters (no API Gateway)
  assert {
    condition     = length(output.slo_tier_alarms) >= 16 && length(output.slo_window_alarms) == 2 * length(output.slo_tier_alarms)
    error_message = "every SLO tier has its alarm pair in the ECS stack too"
  }

  assert {
    condition     = output.slo_window_alarms["success-page-fast-long"].expression == "IF(valid >= 100, (1 - good / valid) / 0.01, 0)"
    error_message = "the success SLO uses its app-counter fallback without API Gateway"
  }

  # the SRE plane is serverless here too: the evaluator runs every minute and its lag is watched
  assert {
    condition     = contains(keys(output.sre_plane_schedules), "slo-evaluator") && output.slo_evaluator_lag_alarm != null
    error_message = "the ECS stack deploys the scheduled SLO evaluator and alarms on its lag"
  }

  assert {
    condition = alltrue([for name in ["BREAKERS_TABLE", "INCIDENTS_TABLE", "ESCALATION_STATE_MACHINE_ARN"] : contains(
    [for e in one([for c in jsondecode(output.container_definitions) : c if c.name == "app"]).environment : e.name], name)])
    error_message = "the app container knows the SRE plane's resources"
  }

  assert {
    condition     = alltrue([for action in ["dynamodb:PutItem", "states:StartExecution", "secretsmanager:GetSecretValue"] : contains(output.task_policy_actions, action)])
    error_message = "the task role may use the SRE plane's tables and start escalations"
  }

  # capacity planning reads the service's own figures and scaling bounds
  assert {
    condition = alltrue([for name in ["ECS_CLUSTER_NAME", "ECS_SERVICE_NAME", "ALB_TARGET_GROUP", "ALB_LOAD_BALANCER"] : contains(
    [for e in one([for c in jsondecode(output.container_definitions) : c if c.name == "app"]).environment : e.name], name)])
    error_message = "the app container names the ECS service and load balancer capacity planning reads"
  }

  # chaos experiments stop a share of the service's tasks and scale it in (the injection function);
  # the API restores the desired count when an operator stops one (chaos:restore), and stops no task itself
  assert {
    condition = (alltrue([for action in ["ecs:DescribeServices", "ecs:UpdateService"] : contains(output.task_policy_actions, action)])
    && !anytrue([for action in ["ecs:ListTasks", "ecs:StopTask"] : contains(output.task_policy_actions, action)]))
    error_message = "the task role may read and set the service's desired count, and may not stop its tasks"
  }

  assert {
    condition = jsonencode([for s in output.function_permissions["chaos-inject"] : { sid = s.sid, actions = s.actions } if startswith(s.sid, "ChaosEcs")]) == jsonencode([
      { sid = "ChaosEcsScaleIn", actions = ["ecs:DescribeServices", "ecs:UpdateService"] },
      { sid = "ChaosEcsTaskTermination", actions = ["ecs:ListTasks", "ecs:StopTask"] },
    ])
    error_message = "the injection function may scale the service in and stop its tasks"
  }

  assert {
    condition = jsonencode([for s in output.function_permissions["chaos-rollback"] : { sid = s.sid, actions = s.actions } if startswith(s.sid, "ChaosEcs")]) == jsonencode([
      { sid = "ChaosEcsScaleInRestore", actions = ["ecs:DescribeServices", "ecs:UpdateService"] },
    ])
    error_message = "the rollback function may restore the desired count, and stops no task"
  }

  # security groups: the stack's own groups in each flow (network_flows.tftest.hcl: one run per flow);
  # no group has another rule (tests/unit/terraform/test_security_groups.py)
  # the load balancer reaches the tasks on the container port, and nowhere else
  assert {
    condition = output.security_group_rules.alb_to_tasks == {
      group = output.security_groups.alb, direction = "egress", peer = output.security_groups.tasks, ports = [var.container_port, var.container_port]
      } && output.security_group_rules.tasks_from_alb == {
      group = output.security_groups.tasks, direction = "ingress", peer = output.security_groups.alb, ports = [var.container_port, var.container_port]
    }
    error_message = "ALB -> tasks: the ALB's egress and the tasks' ingress on the container port, group to group"
  }

  # the tasks reach the database on 5432, group to group
  assert {
    condition = output.security_group_rules.tasks_to_database == {
      group = output.security_groups.tasks, direction = "egress", peer = output.security_groups.database, ports = [5432, 5432]
      } && output.security_group_rules.database_from_tasks == {
      group = output.security_groups.database, direction = "ingress", peer = output.security_groups.tasks, ports = [5432, 5432]
    }
    error_message = "tasks -> RDS: the tasks' egress and the database's ingress on 5432, group to group"
  }

  # the tasks reach AWS APIs over HTTPS
  assert {
    condition = output.security_group_rules.tasks_to_aws_apis == {
      group = output.security_groups.tasks, direction = "egress", peer = "0.0.0.0/0", ports = [443, 443]
    }
    error_message = "tasks -> AWS APIs: HTTPS egress only"
  }

  # no flow besides these
  assert {
    condition     = toset(keys(output.security_group_rules)) == toset(["alb_to_tasks", "tasks_from_alb", "tasks_to_database", "database_from_tasks", "tasks_to_aws_apis"])
    error_message = "the stack's flows are exactly ALB -> tasks, tasks -> RDS and tasks -> AWS APIs"
  }

  # the database's exported logs go to groups made first, with retention and the stack key
  assert {
    condition = alltrue([for k in ["postgresql", "upgrade"] :
      output.database_log_groups[k].name == "/aws/rds/instance/${output.database_identifier}/${k}"
      && output.database_log_groups[k].retention_in_days == var.log_retention_days
    && output.database_log_groups[k].kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"])
    error_message = "RDS exported logs need Terraform-made log groups with retention and the stack key"
  }

  assert {
    condition     = toset(output.waf_redacted_log_fields) == toset(["authorization", "query_string"])
    error_message = "WAF logs redact the Authorization header and the query string"
  }
}

# CPU, memory and request-count target tracking take their targets from the capacity plan.
run "scaling_targets_from_the_capacity_plan" {
  command = plan

  assert {
    condition = output.scaling_policies == {
      cpu      = { metric = "ECSServiceAverageCPUUtilization", target_value = jsondecode(file("../../../infra/capacity.json")).ecs.cpu_target_percent }
      memory   = { metric = "ECSServiceAverageMemoryUtilization", target_value = jsondecode(file("../../../infra/capacity.json")).ecs.memory_target_percent }
      requests = { metric = "ALBRequestCountPerTarget", target_value = jsondecode(file("../../../infra/capacity.json")).ecs.requests_per_task_per_minute }
    }
    error_message = "the ECS policies follow infra/capacity.json"
  }
}

run "scaling_targets_from_another_plan_file" {
  command = plan

  variables {
    capacity_plan_file = "../serverless/tests/fixtures/infra/capacity.json"
  }

  assert {
    condition = (output.scaling_policies.cpu.target_value == 55 && output.scaling_policies.memory.target_value == 65
    && output.scaling_policies.requests.target_value == 800)
    error_message = "every ECS target comes from the plan file the stack is given"
  }
}

