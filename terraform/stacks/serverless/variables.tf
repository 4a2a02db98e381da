variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "app_name" {
  description = "Chalice app name and first part of every resource name."
  type        = string
  default     = "serverless-sre"
}

variable "stage" {
  description = "Deployment stage."
  type        = string
  default     = "prod"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "infra_dir" {
  description = "Directory of the shared resource definitions; null means the repository's infra/."
  type        = string
  default     = null
}

variable "statemachines_dir" {
  description = "Base directory the statemachines.json definition paths are relative to; null means the repository root."
  type        = string
  default     = null
}

variable "lambda_package" {
  description = "Deployment zip built by scripts/package_chalice.py; null means build/lambda/deployment.zip in the repository."
  type        = string
  default     = null
}

variable "api_definition" {
  description = "Swagger document generated from the Chalice routes by scripts/package_chalice.py; null means build/lambda/api.json."
  type        = string
  default     = null
}

variable "api_stage_name" {
  description = "API Gateway stage (first path segment of the invoke URL)."
  type        = string
  default     = "api"
}

variable "runtime" {
  description = "Lambda runtime of every function."
  type        = string
  default     = "python3.11"
}

variable "api_memory_mb" {
  description = "Memory of the API function."
  type        = number
  default     = 512
}

variable "api_timeout_seconds" {
  description = "Timeout of the API function (API Gateway gives up after 29 s)."
  type        = number
  default     = 28
}

variable "api_reserved_concurrency" {
  description = "Reserved concurrency of the API function. Accounts keep 10 unreserved: lower this in small accounts."
  type        = number
  default     = 50
}

variable "function_reserved_concurrency" {
  description = "Reserved concurrency per infra/functions.json key; functions not listed get default_function_reserved_concurrency."
  type        = map(number)
  default     = {}
}

variable "default_function_reserved_concurrency" {
  description = "Reserved concurrency of each non-HTTP function (small: schedules and workflow tasks run few at a time)."
  type        = number
  default     = 5
}

variable "log_retention_days" {
  description = "Days every log group keeps its logs."
  type        = number
  default     = 365
}

variable "environment" {
  description = "Extra environment variables for every function (e.g. LATENCY_THRESHOLDS_MS)."
  type        = map(string)
  default     = {}
}

variable "service_name" {
  description = "POWERTOOLS_SERVICE_NAME (must differ from the Chalice app name, or every log line is duplicated)."
  type        = string
  default     = "user-api"
}

variable "powertools_tracing" {
  description = "Powertools Tracer subsegments inside the functions (needs aws-xray-sdk in requirements.txt; Lambda's own X-Ray tracing is always on)."
  type        = bool
  default     = false
}

variable "metrics_namespace" {
  description = "POWERTOOLS_METRICS_NAMESPACE of the EMF metrics."
  type        = string
  default     = "ServerlessSRE"
}

variable "table_deletion_protection" {
  description = "Protect the DynamoDB tables from deletion."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "E-mail addresses notified by the CloudWatch alarms."
  type        = list(string)
  default     = []
}

variable "topic_subscribers" {
  description = "Who receives each topic audience of infra/topics.json: topic key -> audience -> [{protocol, endpoint}]. Each becomes a subscription with the audience's filter policy, e.g. {\"incident-pages\" = {\"level-1\" = [{protocol = \"email\", endpoint = \"oncall@example.com\"}]}}."
  type = map(map(list(object({
    protocol = string
    endpoint = string
  }))))
  default = {}
}

variable "api_throttling_rate_limit" {
  description = "Stage-wide steady requests per second."
  type        = number
  default     = 100
}

variable "api_throttling_burst_limit" {
  description = "Stage-wide burst."
  type        = number
  default     = 200
}

variable "manage_api_gateway_account" {
  description = "Create the account-wide API Gateway logging role (false when another stack in the account owns it)."
  type        = bool
  default     = true
}

variable "api_domain_name" {
  description = "Custom domain of the API (recommended: the app's links are root-relative). null: execute-api URL only."
  type        = string
  default     = null
}

variable "api_certificate_arn" {
  description = "Regional ACM certificate of api_domain_name."
  type        = string
  default     = null
}

variable "api_alias_name" {
  description = "Alias of the API function that API Gateway invokes and that keeps provisioned concurrency."
  type        = string
  default     = "live"
}

variable "api_provisioned_concurrency_min" {
  description = "Provisioned concurrency floor of the API alias; null: infra/capacity.json."
  type        = number
  default     = null
}

variable "api_provisioned_concurrency_max" {
  description = "Provisioned concurrency ceiling of the API alias (at most its reserved concurrency); null: infra/capacity.json."
  type        = number
  default     = null
}

variable "api_provisioned_concurrency_target" {
  description = "Share of provisioned concurrency in use that target tracking holds (0-1); null: infra/capacity.json."
  type        = number
  default     = null
}

variable "slo_dir" {
  description = "Folder of the OpenSLO files the alarms and dashboard are compiled from (default: the repository's slos/)."
  type        = string
  default     = null
}

variable "pages_topic_key" {
  description = "Key in infra/topics.json of the topic SLO page alarms notify (the incident pages topic)."
  type        = string
  default     = "incident-pages"
}

variable "user_api_authorizer" {
  description = <<-EOT
    Authorizer in front of the user API (/api/users, /user); the SRE plane keeps its own tokens and
    /health stays open. NONE (the default) keeps the API anonymous like the original service;
    AWS_IAM requires SigV4-signed calls (callers need execute-api:Invoke); COGNITO_USER_POOLS
    requires a token of one of cognito_user_pool_arns.
  EOT
  type = object({
    type                   = string
    cognito_user_pool_arns = optional(list(string), [])
  })
  default = { type = "NONE" }
}

variable "secret_token_versions" {
  description = "Rotates a generated token (operator-token, viewer-token, ...): raise its version here and apply; readers pick the new value up within SECRET_CACHE_SECONDS."
  type        = map(number)
  default     = {}
}
