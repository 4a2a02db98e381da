output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.app.name
}

output "security_group_id" {
  description = "Security group of the tasks (the database admits it)."
  value       = aws_security_group.tasks.id
}

output "autoscaling" {
  description = "Autoscaling bounds."
  value       = { min = aws_appautoscaling_target.app.min_capacity, max = aws_appautoscaling_target.app.max_capacity }
}

output "container_definitions" {
  description = "Rendered container definitions."
  value       = aws_ecs_task_definition.app.container_definitions
}

output "scaling_policies" {
  description = "Target-tracking policies: metric and target value per policy."
  value = {
    for key, policy in {
      cpu      = aws_appautoscaling_policy.cpu
      memory   = aws_appautoscaling_policy.memory
      requests = aws_appautoscaling_policy.requests
    } :
    key => {
      metric       = policy.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type
      target_value = policy.target_tracking_scaling_policy_configuration[0].target_value
    }
  }
}

output "task_policy_actions" {
  description = "Every action the application's own role may take."
  value       = distinct(concat(length(var.task_secret_arns) > 0 ? ["secretsmanager:GetSecretValue"] : [], flatten([for s in var.task_policy_statements : s.actions])))
}
