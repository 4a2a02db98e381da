variable "name" {
  description = "REST API name (also the prefix of its log groups and WAF ACL)."
  type        = string
}

variable "openapi_body" {
  description = "Swagger/OpenAPI document with the Lambda integrations already rendered (see scripts/package_chalice.py)."
  type        = string
}

variable "stage_name" {
  description = "API Gateway stage name (the first path segment of the invoke URL)."
  type        = string
  default     = "api"
}

variable "lambda_function_name" {
  description = "Function API Gateway invokes (the Chalice app)."
  type        = string
}

variable "lambda_qualifier" {
  description = "Alias of the function the integration invokes, or null for the unqualified function."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Key encrypting the access and WAF log groups."
  type        = string
}

variable "log_retention_days" {
  description = "Days access and WAF logs are kept."
  type        = number
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second across the stage."
  type        = number
  default     = 100
}

variable "throttling_burst_limit" {
  description = "Burst requests across the stage."
  type        = number
  default     = 200
}

variable "execution_logging_level" {
  description = "API Gateway execution log level (OFF, ERROR, INFO)."
  type        = string
  default     = "ERROR"
}

variable "manage_account_logging_role" {
  description = "Create the account-wide API Gateway CloudWatch role (one per account and region; set false when another stack owns it)."
  type        = bool
  default     = true
}

variable "web_acl_arn" {
  description = "WAF web ACL in front of the stage (modules/web_acl)."
  type        = string
}

variable "security_headers" {
  description = "Headers added to every gateway-generated response (the app adds the same to its own)."
  type        = map(string)
  default = {
    "Strict-Transport-Security" = "max-age=31536000; includeSubDomains"
    "X-Content-Type-Options"    = "nosniff"
    "X-Frame-Options"           = "DENY"
    "Referrer-Policy"           = "no-referrer"
    "Cache-Control"             = "no-store"
  }
}

variable "gateway_responses" {
  description = <<-EOT
    Gateway responses by type. Chalice has no greedy routes, so an unknown
    path is API Gateway's MISSING_AUTHENTICATION_TOKEN (403): it answers 404
    like the app. status_code null keeps the type's own status (DEFAULT_4XX
    and DEFAULT_5XX cover every type not listed). body is a mapping template.
  EOT
  type = map(object({
    status_code = optional(string)
    body        = string
  }))
  default = {
    MISSING_AUTHENTICATION_TOKEN = { status_code = "404", body = "{\"error\":\"Not found\"}" }
    DEFAULT_4XX                  = { body = "{\"error\":$context.error.messageString}" }
    DEFAULT_5XX                  = { body = "{\"error\":$context.error.messageString}" }
    THROTTLED                    = { status_code = "429", body = "{\"error\":\"Too many requests\"}" }
    WAF_FILTERED                 = { status_code = "403", body = "{\"error\":\"Forbidden\"}" }
    REQUEST_TOO_LARGE            = { status_code = "413", body = "{\"error\":\"Request body too large\"}" }
    INTEGRATION_TIMEOUT          = { status_code = "504", body = "{\"error\":\"Upstream timed out\"}" }
  }
}

variable "domain_name" {
  description = "Custom domain serving the stage at the root path (null: only the execute-api URL, whose paths start with /<stage>)."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "Regional ACM certificate of domain_name."
  type        = string
  default     = null
}

variable "authorizer" {
  description = "Authorizer in front of the operations under authorized_path_prefixes: NONE, AWS_IAM (SigV4-signed callers) or COGNITO_USER_POOLS (an ID or access token of one of cognito_user_pool_arns)."
  type = object({
    type                   = string
    cognito_user_pool_arns = optional(list(string), [])
  })
  default = { type = "NONE" }

  validation {
    condition     = contains(["NONE", "AWS_IAM", "COGNITO_USER_POOLS"], var.authorizer.type)
    error_message = "authorizer.type is NONE, AWS_IAM or COGNITO_USER_POOLS."
  }

  validation {
    condition     = var.authorizer.type != "COGNITO_USER_POOLS" || length(var.authorizer.cognito_user_pool_arns) > 0
    error_message = "A COGNITO_USER_POOLS authorizer needs at least one user pool ARN."
  }
}

variable "authorized_path_prefixes" {
  description = "Path prefixes whose operations (CORS preflights aside) go through the authorizer."
  type        = list(string)
  default     = []
}
