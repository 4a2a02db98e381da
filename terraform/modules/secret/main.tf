# A Secrets Manager secret encrypted with the stack key. With generate =
# "token" a random value is written at apply time through a write-only
# argument, so it never lands in the Terraform state or in the repo; other
# secrets are created empty and an operator puts their value.

terraform {
  required_version = ">= 1.11.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "name" {
  description = "Secret name."
  type        = string
}

variable "description" {
  description = "What the secret is for."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the secret."
  type        = string
}

variable "generate" {
  description = "null (an operator sets the value) or \"token\" (a random value is made at apply)."
  type        = string
  default     = null

  validation {
    condition     = var.generate == null || var.generate == "token"
    error_message = "generate must be null or \"token\"."
  }
}

variable "token_version" {
  description = "Bump to write a new random token (manual rotation)."
  type        = number
  default     = 1
}

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 7
}

resource "aws_secretsmanager_secret" "this" {
  # checkov:skip=CKV2_AWS_57:Tokens here are rotated by bumping token_version (or by an operator); there is no rotation Lambda for opaque bearer tokens.
  name                    = var.name
  description             = var.description
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
}

resource "aws_secretsmanager_secret_version" "token" {
  count     = var.generate == "token" ? 1 : 0
  secret_id = aws_secretsmanager_secret.this.id
  # Two v4 UUIDs from crypto/rand: 244 random bits, hex. A write-only
  # argument is sent only when secret_string_wo_version changes and is never
  # stored. (An ephemeral aws_secretsmanager_random_password would do the
  # same, but mock providers cannot run ephemeral resources in terraform test.)
  secret_string_wo         = replace("${uuid()}${uuid()}", "-", "")
  secret_string_wo_version = var.token_version
}

output "arn" {
  description = "Secret ARN."
  value       = aws_secretsmanager_secret.this.arn
}

output "name" {
  description = "Secret name."
  value       = aws_secretsmanager_secret.this.name
}

output "token_version" {
  description = "Version of the generated token written (null when an operator sets the value)."
  value       = one(aws_secretsmanager_secret_version.token[*].secret_string_wo_version)
}
