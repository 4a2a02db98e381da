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
