output "api_url" {
  description = "Base URL of the API."
  value       = module.api.invoke_url
}

output "api_domain_target" {
  description = "Where the custom domain's DNS alias must point (null without api_domain_name)."
  value       = module.api.domain_target
}

output "api_function_name" {
  description = "Name of the Chalice Lambda."
  value       = module.api_function.name
}

output "table_names" {
  description = "DynamoDB table names by logical name."
  value       = { for k, t in module.sre_plane.tables : k => t.name }
}

output "function_names" {
  description = "Non-HTTP function names by key."
  value       = { for k, f in module.sre_plane.functions : k => f.name }
}

output "schedules" {
  description = "EventBridge schedule expression per scheduled function."
  value       = { for k, f in module.sre_plane.functions : k => f.schedule_expression if f.schedule_expression != null }
}

output "queue_urls" {
  description = "SQS queue URLs by logical name."
  value       = module.sre_plane.queue_urls
}

output "queue_consumers" {
  description = "Function each queue is delivered to, by queue."
  value       = module.sre_plane.queue_consumers
}

output "function_policies" {
  description = "Each function's role policy document (JSON), and the API function's under \"api\"."
  value       = merge(module.sre_plane.function_policies, { api = module.api_function.policy })
}

output "function_permissions" {
  description = "IAM statements each function gets besides logs, X-Ray, its DLQ and the stack key."
  value       = module.sre_plane.function_statements
}

output "statemachine_permissions" {
  description = "IAM statements each state machine gets besides logging, tracing and the stack key."
  value       = module.sre_plane.statemachine_statements
}

output "statemachine_definitions" {
  description = "Rendered ASL per state machine."
  value       = { for k, m in module.sre_plane.statemachines : k => m.definition }
}

output "api_gateway_responses" {
  description = "Gateway responses of the REST API by type."
  value       = module.api.gateway_responses
}

output "api_body" {
  description = "Document imported into API Gateway."
  value       = module.api.body
}

output "topic_arns" {
  description = "SNS topic ARNs by logical name."
  value       = module.sre_plane.topic_arns
}

output "topic_subscriptions" {
  description = "Audience subscriptions by topic/audience/index: topic, protocol, endpoint and filter policy."
  value = {
    for k, s in aws_sns_topic_subscription.audiences : k => {
      topic         = local.topic_subscriptions[k].topic
      protocol      = s.protocol
      endpoint      = s.endpoint
      filter_policy = s.filter_policy
    }
  }
}

output "secret_token_versions" {
  description = "Version of each generated token (null for secrets an operator sets)."
  value       = { for k, s in module.sre_plane.secrets : k => s.token_version }
}

output "secret_names" {
  description = "Secrets Manager names by logical name."
  value       = { for k, s in module.sre_plane.secrets : k => s.name }
}

output "statemachine_arns" {
  description = "State machine ARNs by name."
  value       = { for k, m in module.sre_plane.statemachines : k => m.arn }
}

output "function_environment" {
  description = "Environment every function gets (name settings -> deployed names/ARNs)."
  value       = module.sre_plane.function_environment
}

output "alarm_topic_arn" {
  description = "Topic the platform alarms notify."
  value       = module.alarm_topic.arn
}

output "api_client_environment" {
  description = "What the non-API functions know of the API: the probe URL and the gateway metrics' dimensions."
  value       = local.api_client_environment
}

output "api_invoke_target" {
  description = "What API Gateway invokes: the API function's alias."
  value       = { alias = module.api_function.alias_name, invoke_arn = module.api_function.alias_invoke_arn }
}

output "api_provisioned_concurrency_scaling" {
  description = "Target tracking of the API alias's provisioned concurrency: resource, bounds, metric and target."
  value       = module.api_function.provisioned_concurrency_scaling

  precondition {
    condition     = var.api_reserved_concurrency < 0 || module.api_function.provisioned_concurrency_scaling.max <= var.api_reserved_concurrency
    error_message = "The API alias's provisioned concurrency ceiling cannot exceed the function's reserved concurrency."
  }
}

output "slo_window_alarms" {
  description = "SLO burn-rate alarms per window (name, threshold, period, expression)."
  value       = module.slo_alarms.window_alarms
}

output "slo_tier_alarms" {
  description = "SLO composite alarms per tier (rule and notified topic)."
  value       = module.slo_alarms.tier_alarms
}

output "slo_evaluator_lag_alarm" {
  description = "The alarm on the SLO evaluator's lag."
  value       = module.slo_alarms.evaluator_lag_alarm
}

output "slo_dashboard_widgets" {
  description = "Titles of the SLO dashboard's widgets."
  value       = module.slo_alarms.dashboard_widget_titles
}

output "pages_topic_arn" {
  description = "The incident pages topic."
  value       = module.sre_plane.topic_arns[var.pages_topic_key]
}

output "api_log_groups" {
  description = "The API's access and execution log groups: name, retention, key."
  value       = module.api.log_groups
}

output "waf_redacted_log_fields" {
  description = "Fields the WAF logs redact."
  value       = module.web_acl.redacted_log_fields
}
