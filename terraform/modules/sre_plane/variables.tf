variable "prefix" {
  description = "First part of every resource name (the stack's labels prefix)."
  type        = string
}

variable "app_name" {
  description = "Application name (secret paths, descriptions)."
  type        = string
}

variable "stage" {
  description = "Deployment stage (secret paths, STAGE)."
  type        = string
}

variable "infra_dir" {
  description = "Folder of the infra/*.json definitions."
  type        = string
}

variable "statemachines_dir" {
  description = "Folder the statemachines.json definition paths are relative to."
  type        = string
}

variable "lambda_package" {
  description = "Path of the Lambda package (make package: build/lambda/deployment.zip)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
}

variable "service_name" {
  description = "POWERTOOLS_SERVICE_NAME of every function."
  type        = string
}

variable "metrics_namespace" {
  description = "POWERTOOLS_METRICS_NAMESPACE of every function."
  type        = string
}

variable "powertools_tracing" {
  description = "X-Ray tracing in the functions."
  type        = bool
}

variable "environment" {
  description = "Extra environment variables of every function."
  type        = map(string)
  default     = {}
}

variable "api_client_environment" {
  description = "How the functions reach the API (PROBE_URL, and API_GATEWAY_NAME/STAGE where there is a gateway)."
  type        = map(string)
}

variable "function_reserved_concurrency" {
  description = "Reserved concurrency per infra/functions.json key."
  type        = map(number)
  default     = {}
}

variable "default_function_reserved_concurrency" {
  description = "Reserved concurrency of functions not in function_reserved_concurrency."
  type        = number
}

variable "kms_key_arn" {
  description = "The stack's key: tables, topics, secrets, queues, logs, function environments."
  type        = string
}

variable "log_retention_days" {
  description = "Days every log group keeps its logs."
  type        = number
}

variable "table_deletion_protection" {
  description = "Deletion protection of the tables."
  type        = bool
}

variable "chaos_ecs_services" {
  description = "ECS services ({cluster, service} names) whose tasks chaos experiments may stop and whose desired count they may lower and restore; empty: none."
  type = list(object({
    cluster = string
    service = string
  }))
  default = []
}

variable "secret_token_versions" {
  description = "Version of each generated secret by infra/secrets.json key (default 1): raising one writes a new random token."
  type        = map(number)
  default     = {}
}
