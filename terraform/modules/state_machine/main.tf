# A Step Functions state machine with X-Ray tracing, full execution logging
# to an encrypted log group, and a role holding only what its tasks use.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "name" {
  description = "State machine name."
  type        = string
}

variable "definition" {
  description = "Rendered ASL document."
  type        = string
}

variable "policy_statements" {
  description = "Permissions of the workflow's tasks."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []
}

variable "kms_key_arn" {
  description = "Key encrypting the log group."
  type        = string
}

variable "include_execution_data" {
  description = "Log state inputs and outputs (they can carry incident details and task tokens)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days execution logs are kept."
  type        = number
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-sfn"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "permissions" {
  statement {
    sid = "VendedLogDelivery"
    # CloudWatch Logs delivery APIs have no resource-level permissions.
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }

  statement {
    sid       = "StackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = var.policy_statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_sfn_state_machine" "this" {
  # checkov:skip=CKV_AWS_285:Every state transition is logged (level ALL); state inputs and outputs carry task tokens and incident details, so including them is opt-in (include_execution_data).
  name       = var.name
  role_arn   = aws_iam_role.this.arn
  definition = var.definition
  type       = "STANDARD"

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }
}

output "arn" {
  description = "State machine ARN."
  value       = aws_sfn_state_machine.this.arn
}

output "name" {
  description = "State machine name."
  value       = aws_sfn_state_machine.this.name
}

output "definition" {
  description = "Rendered ASL document."
  value       = aws_sfn_state_machine.this.definition
}
