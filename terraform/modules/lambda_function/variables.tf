variable "name" {
  description = "Function name."
  type        = string
}

variable "description" {
  description = "What the function does."
  type        = string
  default     = ""
}

variable "handler" {
  description = "module.attribute of the entry point."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
  default     = "python3.11"
}

variable "architecture" {
  description = "x86_64 or arm64 (must match the wheels in the package)."
  type        = string
  default     = "x86_64"
}

variable "package_file" {
  description = "Path of the deployment zip."
  type        = string
}

variable "package_hash" {
  description = "base64 SHA-256 of the deployment zip."
  type        = string
}

variable "timeout_seconds" {
  description = "Function timeout."
  type        = number
  default     = 60
}

variable "memory_mb" {
  description = "Function memory."
  type        = number
  default     = 256
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (caps the function and guarantees it capacity)."
  type        = number
}

variable "environment" {
  description = "Environment variables."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Key encrypting the environment and the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
}

variable "dead_letter_queue_arn" {
  description = "SQS queue receiving failed asynchronous invocations."
  type        = string
}

variable "policy_statements" {
  description = "The only resource permissions the function gets besides its logs, X-Ray and DLQ."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

variable "schedule" {
  description = "EventBridge schedule expression, or null."
  type        = string
  default     = null
}

variable "alias_name" {
  description = "Publish versions and point this alias at the latest; null: no versions, no alias."
  type        = string
  default     = null
}

variable "provisioned_concurrency" {
  description = "Target-tracking Application Auto Scaling of the alias's provisioned concurrency: bounds and the utilization it holds; null: none."
  type = object({
    min                = number
    max                = number
    target_utilization = number
  })
  default = null

  validation {
    condition = var.provisioned_concurrency == null ? true : (
      var.provisioned_concurrency.min >= 0 &&
      var.provisioned_concurrency.max >= var.provisioned_concurrency.min &&
      var.provisioned_concurrency.target_utilization > 0 &&
      var.provisioned_concurrency.target_utilization < 1
    )
    error_message = "provisioned_concurrency needs 0 <= min <= max and a target utilization between 0 and 1."
  }
}
