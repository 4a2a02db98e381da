output "catalog" {
  description = "The normalised infra/*.json definitions."
  value       = module.catalog
}

output "package_hash" {
  description = "Hash of the Lambda package (the API function uses the same package)."
  value       = local.package_hash
}

output "function_environment" {
  description = "Environment of every function and of the API: Powertools settings and every resource's name/ARN setting."
  value       = local.function_environment
}

output "function_statements" {
  description = "IAM statements per function key, and \"api\" for whatever serves the API (infra/access.json)."
  value       = local.function_statements
}

output "functions" {
  description = "Per function key: name and schedule expression."
  value       = { for k, f in module.functions : k => { name = f.name, schedule_expression = f.schedule_expression } }
}

output "tables" {
  description = "Per table key: name and ARN."
  value       = { for k, t in module.tables : k => { name = t.name, arn = t.arn } }
}

output "topic_arns" {
  description = "SNS topic ARNs by key."
  value       = { for k, t in module.topics : k => t.arn }
}

output "secrets" {
  description = "Per secret key: name and ARN."
  value = { for k, s in module.secrets : k => {
    name = local.secret_names[k], arn = s.arn, token_version = s.token_version
  } }
}

output "statemachine_statements" {
  description = "IAM statements per state machine key (what its tasks invoke, publish, write)."
  value       = local.workflow_statements
}

output "statemachines" {
  description = "Per state machine key: name, ARN and rendered definition."
  value       = { for k, m in module.statemachines : k => { name = m.name, arn = m.arn, definition = m.definition } }
}

output "dead_letter_queue" {
  description = "Where failed asynchronous invocations land."
  value       = { arn = aws_sqs_queue.dead_letters.arn, name = aws_sqs_queue.dead_letters.name }
}

output "queue_urls" {
  description = "SQS queue URLs by logical name."
  value       = { for k, q in aws_sqs_queue.queues : k => q.url }
}

output "queue_consumers" {
  description = "Function each queue is delivered to, by queue."
  value       = { for k, m in aws_lambda_event_source_mapping.queues : k => m.function_name }
}

output "function_policies" {
  description = "Each function's role policy document (JSON), by function key."
  value       = { for k, f in module.functions : k => f.policy }
}
