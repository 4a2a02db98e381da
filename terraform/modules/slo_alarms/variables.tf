variable "slo_dir" {
  description = "Folder of the OpenSLO files (the repository's slos/): the same files the SLO evaluator reads."
  type        = string
}

variable "name_prefix" {
  description = "First part of every alarm and the dashboard name."
  type        = string
}

variable "region" {
  description = "Region of the dashboard's widgets."
  type        = string
}

variable "metrics_namespace" {
  description = "Namespace of the app's EMF metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
}

variable "service_name" {
  description = "The service dimension of the app's metrics (POWERTOOLS_SERVICE_NAME)."
  type        = string
}

variable "api_gateway" {
  description = "API Gateway name and stage for ApiGateway-sourced SLIs; null where there is none (the ECS stack uses each SLO's fallback indicator)."
  type        = object({ name = string, stage = string })
  default     = null
}

variable "page_topic_arn" {
  description = "Topic notified when a page-severity tier fires (both windows burning) and when the evaluator lags."
  type        = string
}

variable "ticket_topic_arn" {
  description = "Topic notified when a ticket-severity tier fires."
  type        = string
}

variable "watch_evaluator" {
  description = "Alarm on the SLO evaluator's lag (where the stack deploys the evaluator)."
  type        = bool
  default     = true
}

variable "evaluator_lag_threshold_seconds" {
  description = "Alarm when the SLO evaluator's lag (slo_evaluator_lag_seconds) exceeds this, or it reports nothing for 5 minutes."
  type        = number
  default     = 300
}

variable "lambda_function_names" {
  description = "Functions whose throttles and errors the dashboard shows (key => name)."
  type        = map(string)
  default     = {}
}

variable "escalation_state_machine_arn" {
  description = "Escalation workflow whose executions the dashboard shows; null for none."
  type        = string
  default     = null
}


variable "throttle_metrics" {
  description = "More throttle series for the dashboard, as CloudWatch metric arrays (e.g. the WAF's rate-limited requests)."
  type        = any
  default     = []
}
