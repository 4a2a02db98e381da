# SLO burn-rate alarms and a dashboard compiled from the OpenSLO files the SLO evaluator reads.
#
# A second line of defence in AWS itself: if the evaluator Lambda is broken, these still page.
# Per SLO and tier: one metric-math alarm per window computing the burn rate
#   (1 - good / valid) / (1 - target)
# over the window (one period of the window's length), and a composite alarm that fires when
# both the long and the short window burn at the tier's rate, as the evaluator's rule does
# (chalicelib/slo/alerting.py): the long window needs min-events valid events, the short any.
# Timeslice SLOs (the probe minutes) are computed from probe counts: one probe per minute
# makes the failed-probe ratio the bad-minute ratio.

locals {
  unit_seconds = { m = 60, h = 3600, d = 86400 }

  documents = flatten([
    for file in sort(fileset(var.slo_dir, "*.yaml")) : [
      for doc in split("\n---\n", file("${var.slo_dir}/${file}")) : yamldecode(doc)
      if length(regexall("(?m)^kind:", doc)) > 0
    ]
  ])
  indicators = { for doc in local.documents : doc.metadata.name => doc if doc.kind == "SLI" }
  objectives = { for doc in local.documents : doc.metadata.name => doc if doc.kind == "SLO" }

  slos = {
    for name, slo in local.objectives : name => {
      target     = slo.spec.objectives[0].target
      min_events = tonumber(lookup(lookup(slo.metadata, "annotations", {}), "serverless-sre/min-events", "100"))
      tiers      = yamldecode(slo.metadata.annotations["serverless-sre/burn-rate-tiers"])
      # ApiGateway sources need an API; without one the SLO's fallback indicator is used, as the evaluator does.
      indicator = local.indicators[(
        var.api_gateway == null
        && local.indicators[slo.spec.indicatorRef].spec.ratioMetric.good.metricSource.type == "ApiGateway"
        ? slo.metadata.annotations["serverless-sre/fallback-indicator"] : slo.spec.indicatorRef
      )]
    }
  }

  # The error budget (1 - target) written plainly: 0.05, not the binary float's long tail.
  budgets = { for name, slo in local.slos : name => replace(format("%.10f", 1 - slo.target), "/\\.?0+$/", "") }

  app_metric = { namespace = var.metrics_namespace, dimensions = { service = var.service_name } }

  windows = merge([
    for name, slo in local.slos : merge([
      for tier in slo.tiers : {
        for which in ["long", "short"] : "${name}-${tier.name}-${which}" => {
          slo        = name
          tier       = tier.name
          severity   = tier.severity
          which      = which
          window     = tier["${which}Window"]
          burn_rate  = tier.burnRate
          target     = slo.target
          min_valid  = which == "long" ? max(1, slo.min_events) : 1
          source     = slo.indicator.spec.ratioMetric.good.metricSource.type
          good_name  = try(slo.indicator.spec.ratioMetric.good.metricSource.spec.metric, null)
          total_name = try(slo.indicator.spec.ratioMetric.total.metricSource.spec.metric, null)
          period = (
            tonumber(regex("^(\\d+)([mhd])$", tier["${which}Window"])[0])
            * local.unit_seconds[regex("^(\\d+)([mhd])$", tier["${which}Window"])[1]]
          )
        }
      }
    ]...)
  ]...)

  tiers = merge([
    for name, slo in local.slos : {
      for tier in slo.tiers : "${name}-${tier.name}" => {
        slo       = name
        tier      = tier.name
        severity  = tier.severity
        burn_rate = tier.burnRate
        long      = "${name}-${tier.name}-long"
        short     = "${name}-${tier.name}-short"
      }
    }
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "window" {
  for_each = local.windows

  alarm_name = "${var.name_prefix}-slo-${each.key}"
  # No actions of its own: it notifies only through the composite alarm that pairs it.
  alarm_description   = "SLO ${each.value.slo}, tier ${each.value.tier}: burn rate over the ${each.value.which} window (${each.value.window}); notifies only together with its pair (composite alarm)"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  threshold           = each.value.burn_rate
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "burn"
    label       = "burn rate"
    return_data = true
    expression  = "IF(valid >= ${each.value.min_valid}, (1 - good / valid) / ${local.budgets[each.value.slo]}, 0)"
  }

  dynamic "metric_query" {
    for_each = each.value.source == "ApiGateway" ? {
      count  = "Count"
      client = "4XXError"
      server = "5XXError"
    } : {}
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ApiGateway"
        metric_name = metric_query.value
        dimensions  = { ApiName = var.api_gateway.name, Stage = var.api_gateway.stage }
        period      = each.value.period
        stat        = "Sum"
      }
    }
  }

  dynamic "metric_query" {
    for_each = each.value.source == "ApiGateway" ? {
      valid = "count - client"
      good  = "count - client - server"
    } : {}
    content {
      id         = metric_query.key
      expression = metric_query.value
    }
  }

  dynamic "metric_query" {
    for_each = each.value.source == "AppCounters" ? {
      good  = each.value.good_name
      valid = each.value.total_name
    } : {}
    content {
      id = metric_query.key
      metric {
        namespace   = local.app_metric.namespace
        metric_name = metric_query.value
        dimensions  = local.app_metric.dimensions
        period      = each.value.period
        stat        = "Sum"
      }
    }
  }

  lifecycle {
    precondition {
      condition     = contains(["AppCounters", "ApiGateway"], each.value.source)
      error_message = "SLO ${each.value.slo}: only AppCounters and ApiGateway indicators compile to alarms."
    }
    precondition {
      condition     = each.value.period <= 604800
      error_message = "SLO ${each.value.slo}: window ${each.value.window} is longer than a CloudWatch alarm can evaluate (7 days)."
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "tier" {
  for_each = local.tiers

  alarm_name        = "${var.name_prefix}-slo-${each.key}"
  alarm_description = "SLO ${each.value.slo} burns its error budget at ${each.value.burn_rate}x or more over both windows (${each.value.severity}); runbook: slo-${each.value.tier}.md"
  alarm_rule = format("ALARM(\"%s\") AND ALARM(\"%s\")",
    aws_cloudwatch_metric_alarm.window[each.value.long].alarm_name,
  aws_cloudwatch_metric_alarm.window[each.value.short].alarm_name)
  alarm_actions = [each.value.severity == "page" ? var.page_topic_arn : var.ticket_topic_arn]
  ok_actions    = [each.value.severity == "page" ? var.page_topic_arn : var.ticket_topic_arn]
}

# The evaluator reports how far behind its last evaluated minute is after every run
# (functions/slo_evaluator.py); no report for five minutes counts as lagging.
resource "aws_cloudwatch_metric_alarm" "evaluator_lag" {
  count = var.watch_evaluator ? 1 : 0

  alarm_name          = "${var.name_prefix}-slo-evaluator-lag"
  alarm_description   = "The SLO evaluator is behind or not running: SLO pages from it may be missing (the burn-rate alarms still watch)"
  namespace           = var.metrics_namespace
  metric_name         = "slo_evaluator_lag_seconds"
  dimensions          = { service = var.service_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.evaluator_lag_threshold_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [var.page_topic_arn]
  ok_actions          = [var.page_topic_arn]
}
