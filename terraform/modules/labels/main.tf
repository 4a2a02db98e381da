# Naming and tagging shared by both stacks.

terraform {
  required_version = ">= 1.9.0"
}

variable "app_name" {
  description = "Application name, first part of every resource name."
  type        = string
  default     = "serverless-sre"
}

variable "stage" {
  description = "Deployment stage (dev, staging, prod...)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.stage))
    error_message = "stage must be lower-case letters, digits and dashes, at most 16 characters."
  }
}

variable "variant" {
  description = "Which deployment this is (serverless or ecs)."
  type        = string
}

variable "extra_tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

output "prefix" {
  description = "Name prefix: <app>-<stage>."
  value       = "${var.app_name}-${var.stage}"
}

output "tags" {
  description = "Default tags for the provider."
  value = merge({
    Application = var.app_name
    Stage       = var.stage
    Variant     = var.variant
    ManagedBy   = "terraform"
  }, var.extra_tags)
}
