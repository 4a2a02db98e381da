# One on-demand DynamoDB table from an infra/tables.json entry.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "name" {
  description = "Table name."
  type        = string
}

variable "definition" {
  description = "Normalised infra/tables.json entry (see modules/infra_catalog)."
  type = object({
    hash_key      = object({ name = string, type = string })
    range_key     = optional(object({ name = string, type = string }))
    ttl_attribute = optional(string)
    global_secondary_indexes = optional(list(object({
      name      = string
      hash_key  = object({ name = string, type = string })
      range_key = optional(object({ name = string, type = string }))
    })), [])
  })
}

variable "kms_key_arn" {
  description = "Customer managed key for server-side encryption."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while true."
  type        = bool
  default     = true
}

locals {
  key_attributes = concat(
    [var.definition.hash_key],
    var.definition.range_key == null ? [] : [var.definition.range_key],
    flatten([
      for gsi in var.definition.global_secondary_indexes :
      concat([gsi.hash_key], gsi.range_key == null ? [] : [gsi.range_key])
    ]),
  )
  # DynamoDB wants each key attribute declared exactly once.
  attributes = { for a in local.key_attributes : a.name => a.type... }
}

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.definition.hash_key.name
  range_key                   = try(var.definition.range_key.name, null)
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = local.attributes
    content {
      name = attribute.key
      type = attribute.value[0]
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.definition.global_secondary_indexes
    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hash_key.name
      range_key       = try(global_secondary_index.value.range_key.name, null)
      projection_type = "ALL"
    }
  }

  dynamic "ttl" {
    for_each = var.definition.ttl_attribute == null ? [] : [var.definition.ttl_attribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

output "name" {
  description = "Table name."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "Table ARN."
  value       = aws_dynamodb_table.this.arn
}
