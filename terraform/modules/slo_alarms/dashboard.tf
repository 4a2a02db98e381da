# One dashboard per stack from the same files: each SLO's SLI and its burn rate over each tier's
# long window, breaker transitions, escalations, throttles, and the evaluator's own lag.

locals {
  # Windows drawn per SLO: 5 minutes for the SLI, each tier's long window for the burn rates.
  drawn_windows = {
    for name, slo in local.slos : name => {
      for w in distinct(concat(["5m"], [for t in slo.tiers : t.longWindow])) : w => {
        period = tonumber(regex("^(\\d+)([mhd])$", w)[0]) * local.unit_seconds[regex("^(\\d+)([mhd])$", w)[1]]
        min    = w == "5m" ? 1 : max(1, slo.min_events)
      }
    }
  }

  # good_<w> and valid_<w> series of each SLO and window (hidden; the expressions below use them).
  counts = {
    for name, slo in local.slos : name => {
      for w, spec in local.drawn_windows[name] : w => concat(
        [for series in [
          ["AWS/ApiGateway", "Count", "ApiName", try(var.api_gateway.name, ""), "Stage", try(var.api_gateway.stage, ""),
          { id = "count_${w}", stat = "Sum", period = spec.period, visible = false }],
          ["AWS/ApiGateway", "4XXError", "ApiName", try(var.api_gateway.name, ""), "Stage", try(var.api_gateway.stage, ""),
          { id = "client_${w}", stat = "Sum", period = spec.period, visible = false }],
          ["AWS/ApiGateway", "5XXError", "ApiName", try(var.api_gateway.name, ""), "Stage", try(var.api_gateway.stage, ""),
          { id = "server_${w}", stat = "Sum", period = spec.period, visible = false }],
          [{ expression = "count_${w} - client_${w}", id = "valid_${w}", visible = false }],
          [{ expression = "count_${w} - client_${w} - server_${w}", id = "good_${w}", visible = false }],
        ] : series if slo.indicator.spec.ratioMetric.good.metricSource.type == "ApiGateway"],
        [for series in [
          [var.metrics_namespace, try(slo.indicator.spec.ratioMetric.good.metricSource.spec.metric, ""), "service",
          var.service_name, { id = "good_${w}", stat = "Sum", period = spec.period, visible = false }],
          [var.metrics_namespace, try(slo.indicator.spec.ratioMetric.total.metricSource.spec.metric, ""), "service",
          var.service_name, { id = "valid_${w}", stat = "Sum", period = spec.period, visible = false }],
        ] : series if slo.indicator.spec.ratioMetric.good.metricSource.type == "AppCounters"],
      )
    }
  }

  # Every widget is a 12 x 6 time series in the stack's region; the lists below give the rest.
  widgets = [for properties in concat(local.slo_widget_properties, local.plane_widget_properties) : {
    type       = "metric", width = 12, height = 6
    properties = merge({ region = var.region, view = "timeSeries" }, properties)
  }]

  slo_widget_properties = flatten([
    for name, slo in local.slos : [
      {
        title       = "SLO ${name}: SLI over 5 minutes, objective ${slo.target}"
        period      = 300
        metrics     = concat(local.counts[name]["5m"], [[{ expression = "IF(valid_5m > 0, good_5m / valid_5m, 1)", label = "SLI", id = "sli" }]])
        annotations = { horizontal = [{ label = "objective", value = slo.target }] }
      },
      {
        title  = "SLO ${name}: error budget burn rate"
        period = 300
        metrics = concat(
          flatten([for w, spec in local.drawn_windows[name] : local.counts[name][w] if w != "5m"]),
          [for w, spec in local.drawn_windows[name] : [{
            expression = "IF(valid_${w} >= ${spec.min}, (1 - good_${w} / valid_${w}) / ${local.budgets[name]}, 0)"
            label      = "burn rate over ${w}", id = "burn_${w}"
          }] if w != "5m"],
        )
        annotations = { horizontal = [for t in slo.tiers : { label = "${t.name} (${t.longWindow})", value = t.burnRate }] }
      },
    ]
  ])

  plane_widget_properties = concat(
    [
      {
        title  = "Circuit breaker transitions"
        stat   = "Sum"
        period = 60
        metrics = [[{
          expression = "SEARCH('{${var.metrics_namespace},breaker,service,to_state} MetricName=\"circuit_breaker_transitions\"', 'Sum', 60)"
          id         = "transitions", label = ""
        }]]
      },
      {
        title       = "SLO evaluator lag (seconds)"
        period      = 60
        metrics     = [[var.metrics_namespace, "slo_evaluator_lag_seconds", "service", var.service_name, { stat = "Maximum" }]]
        annotations = { horizontal = [{ label = "alarm", value = var.evaluator_lag_threshold_seconds }] }
      },
      {
        title  = "Throttles"
        stat   = "Sum"
        period = 60
        metrics = concat(
          [for key, name in var.lambda_function_names : ["AWS/Lambda", "Throttles", "FunctionName", name, { label = key }]],
          [for gateway in(var.api_gateway == null ? [] : [var.api_gateway]) : [{
            expression = "SEARCH('{AWS/ApiGateway,ApiName,Stage} MetricName=\"4XXError\" ApiName=\"${gateway.name}\"', 'Sum', 60)"
            id         = "gateway_4xx", label = "API Gateway 4XX (includes 429 throttles)"
          }]],
          var.throttle_metrics,
        )
      },
    ],
    [for arn in(var.escalation_state_machine_arn == null ? [] : [var.escalation_state_machine_arn]) :
      {
        title  = "Escalations"
        stat   = "Sum"
        period = 300
        metrics = [for metric in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
        ["AWS/States", metric, "StateMachineArn", arn]]
      }
    ],
  )
}

resource "aws_cloudwatch_dashboard" "slos" {
  dashboard_name = "${var.name_prefix}-slos"
  dashboard_body = jsonencode({ widgets = local.widgets })
}
