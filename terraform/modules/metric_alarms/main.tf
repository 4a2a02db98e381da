# CloudWatch alarms from a map of definitions, all notifying one topic.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "name_prefix" {
  description = "Prefix of every alarm name."
  type        = string
}

variable "topic_arn" {
  description = "SNS topic notified on ALARM and OK."
  type        = string
}

variable "alarms" {
  description = "Alarm definitions by short name."
  type = map(object({
    description         = string
    namespace           = string
    metric_name         = string
    dimensions          = map(string)
    statistic           = optional(string, "Sum")
    period              = optional(number, 60)
    evaluation_periods  = optional(number, 5)
    datapoints_to_alarm = optional(number)
    threshold           = number
    comparison_operator = optional(string, "GreaterThanOrEqualToThreshold")
    treat_missing_data  = optional(string, "notBreaching")
  }))
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = coalesce(each.value.datapoints_to_alarm, each.value.evaluation_periods)
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison_operator
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = [var.topic_arn]
  ok_actions          = [var.topic_arn]
}

output "alarm_names" {
  description = "Alarm names by short name."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }
}
