# An encrypted SNS topic for alarms (and, in the serverless stack, every
# topic of infra/topics.json), with optional e-mail subscriptions.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "name" {
  description = "Topic name."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the topic."
  type        = string
}

variable "email_subscribers" {
  description = "E-mail addresses subscribed to the topic (each confirms by mail)."
  type        = list(string)
  default     = []
}

variable "publisher_services" {
  description = "AWS service principals allowed to publish (e.g. cloudwatch.amazonaws.com)."
  type        = list(string)
  default     = []
}

data "aws_caller_identity" "current" {}

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_key_arn
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountPublishes"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "AWS"
      identifiers = [data.aws_caller_identity.current.account_id]
    }
  }

  dynamic "statement" {
    for_each = length(var.publisher_services) > 0 ? [1] : []
    content {
      sid       = "ServicesPublish"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this.arn]
      principals {
        type        = "Service"
        identifiers = var.publisher_services
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.email_subscribers)
  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

output "arn" {
  description = "Topic ARN."
  value       = aws_sns_topic.this.arn
}

output "name" {
  description = "Topic name."
  value       = aws_sns_topic.this.name
}
