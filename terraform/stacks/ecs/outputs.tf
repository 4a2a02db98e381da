output "url" {
  description = "HTTPS endpoint of the load balancer."
  value       = "https://${module.alb.dns_name}"
}

output "target_health_check_path" {
  description = "Path the load balancer's target health check asks."
  value       = module.alb.health_check_path
}

output "database_address" {
  description = "RDS endpoint."
  value       = module.database.address
}

output "database_secret_arn" {
  description = "Secret holding the database master credentials (managed and rotated by RDS)."
  value       = module.database.master_secret_arn
}

output "cluster_name" {
  description = "ECS cluster."
  value       = module.service.cluster_name
}

output "autoscaling" {
  description = "Task count bounds."
  value       = module.service.autoscaling
}

output "container_definitions" {
  description = "Rendered container definitions."
  value       = module.service.container_definitions
}

output "alarm_names" {
  description = "Alarm names."
  value       = module.alarms.alarm_names
}

output "database_settings" {
  description = "Durability and exposure settings of the database."
  value       = module.database.settings
}

output "private_subnet_ids" {
  description = "Private subnets of the tasks and the database."
  value       = module.network.private_subnet_ids
}

output "scaling_policies" {
  description = "Target-tracking policies of the service (CPU, memory, requests per task): metric and target."
  value       = module.service.scaling_policies
}

output "slo_tier_alarms" {
  description = "SLO composite alarms per tier (rule and notified topic)."
  value       = module.slo_alarms.tier_alarms
}

output "slo_window_alarms" {
  description = "SLO burn-rate alarms per window."
  value       = module.slo_alarms.window_alarms
}

output "sre_plane_schedules" {
  description = "The SRE plane's scheduled functions (key => schedule expression)."
  value       = { for k, f in module.sre_plane.functions : k => f.schedule_expression if f.schedule_expression != null }
}

output "function_permissions" {
  description = "IAM statements each SRE plane function gets besides logs, X-Ray, its DLQ and the stack key (\"api\": the task role's)."
  value       = module.sre_plane.function_statements
}

output "task_policy_actions" {
  description = "Every action the application's role may take."
  value       = module.service.task_policy_actions
}

output "slo_evaluator_lag_alarm" {
  description = "The alarm on the SLO evaluator's lag."
  value       = module.slo_alarms.evaluator_lag_alarm
}

output "security_groups" {
  description = "Security group ids of the load balancer, the tasks and the database."
  value       = { alb = module.alb.security_group_id, tasks = module.service.security_group_id, database = module.database.security_group_id }
}

output "security_group_rules" {
  description = "The flows between the groups (modules/ecs_network_flows): group, direction, peer, ports."
  value       = module.network_flows.rules
}

output "database_log_groups" {
  description = "Log groups the database exports into: name, retention, key."
  value       = module.database.log_groups
}

output "database_identifier" {
  description = "RDS instance identifier."
  value       = module.database.identifier
}

output "waf_redacted_log_fields" {
  description = "Fields the WAF logs redact."
  value       = module.web_acl.redacted_log_fields
}
