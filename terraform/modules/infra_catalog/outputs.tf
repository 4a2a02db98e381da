output "tables" {
  description = "DynamoDB table definitions by logical name."
  value       = local.tables
}

output "functions" {
  description = "Non-HTTP Lambda definitions by function key, with the resolved access list."
  value       = local.functions
}

output "topics" {
  description = "SNS topic definitions by logical name."
  value       = local.topics
}

output "queues" {
  description = "SQS queue definitions by logical name, with their consumer function."
  value       = local.queues
}

output "secrets" {
  description = "Secrets Manager secret definitions by logical name."
  value       = local.secrets
}

output "statemachines" {
  description = "Step Functions definitions by name, placeholders split into kind and key."
  value       = local.statemachines
}

output "all_access" {
  description = "Every access entry the declared resources allow (what the API function and undeclared functions get)."
  value       = local.all_access
}
