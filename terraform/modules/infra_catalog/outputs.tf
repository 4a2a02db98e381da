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

output "access" {
  description = "infra/access.json: the grants (statements with placeholders) and the API's access map."
  value       = local.access

  precondition {
    condition     = alltrue([for entry in keys(local.offered_actions) : contains(local.known_entries, entry)])
    error_message = "Every access entry names a resource of infra/ (table:<key>, ...) or a grant of access.json."
  }

  precondition {
    condition = alltrue(flatten([
      for m in local.access_maps : [for entry, actions in m : length(actions) > 0 && length(setsubtract(actions, local.offered_actions[entry])) == 0]
    ]))
    error_message = "Every access entry names at least one action, and only actions its grant's statements list."
  }
}
