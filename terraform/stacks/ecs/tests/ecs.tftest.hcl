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

  # the password reaches the tasks from the secret, never as plain environment
  assert {
    condition = one([
      for s in jsondecode(output.container_definitions)[0].secrets : s.valueFrom if s.name == "DB_PASSWORD"
    ]) == "${output.database_secret_arn}:password::"
    error_message = "DB_PASSWORD must be injected from the RDS secret"
  }

  assert {
    condition     = !contains([for e in jsondecode(output.container_definitions)[0].environment : e.name], "DB_PASSWORD")
    error_message = "the password must not be a plain environment variable"
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
