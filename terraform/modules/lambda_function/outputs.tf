output "arn" {
  description = "Function ARN."
  value       = aws_lambda_function.this.arn
}

output "name" {
  description = "Function name."
  value       = aws_lambda_function.this.function_name
}

output "invoke_arn" {
  description = "ARN API Gateway integrations call."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_arn" {
  description = "Execution role ARN."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Execution role name."
  value       = aws_iam_role.this.name
}

output "schedule_rule_name" {
  description = "EventBridge rule name, or null without a schedule."
  value       = try(aws_cloudwatch_event_rule.schedule[0].name, null)
}

output "schedule_expression" {
  description = "EventBridge schedule expression, or null."
  value       = try(aws_cloudwatch_event_rule.schedule[0].schedule_expression, null)
}

output "reserved_concurrency" {
  description = "Reserved concurrent executions."
  value       = aws_lambda_function.this.reserved_concurrent_executions
}

output "alias_name" {
  description = "The alias callers invoke, or null."
  value       = try(aws_lambda_alias.this[0].name, null)
}

output "alias_invoke_arn" {
  description = "ARN API Gateway integrations call: the alias when there is one, else the function."
  value       = try(aws_lambda_alias.this[0].invoke_arn, aws_lambda_function.this.invoke_arn)
}

output "provisioned_concurrency_scaling" {
  description = "Target tracking of the alias's provisioned concurrency (resource, bounds, metric, target), or null."
  value = length(aws_appautoscaling_policy.provisioned_concurrency) == 0 ? null : {
    resource_id  = aws_appautoscaling_target.provisioned_concurrency[0].resource_id
    dimension    = aws_appautoscaling_target.provisioned_concurrency[0].scalable_dimension
    min          = aws_appautoscaling_target.provisioned_concurrency[0].min_capacity
    max          = aws_appautoscaling_target.provisioned_concurrency[0].max_capacity
    metric       = aws_appautoscaling_policy.provisioned_concurrency[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type
    target_value = aws_appautoscaling_policy.provisioned_concurrency[0].target_tracking_scaling_policy_configuration[0].target_value
  }
}

output "policy" {
  description = "The role's policy document (JSON)."
  value       = local.policy
}
