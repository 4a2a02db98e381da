output "window_alarms" {
  description = "Per SLO window alarm: its name, threshold (burn rate), period (seconds) and expression."
  value = {
    for key, alarm in aws_cloudwatch_metric_alarm.window : key => {
      name       = alarm.alarm_name
      threshold  = alarm.threshold
      period     = one([for q in alarm.metric_query : q.metric[0].period if length(q.metric) > 0 && q.id == "valid" || length(q.metric) > 0 && q.id == "count"])
      expression = one([for q in alarm.metric_query : q.expression if q.id == "burn"])
      operator   = alarm.comparison_operator
    }
  }
}

output "tier_alarms" {
  description = "Per SLO tier composite alarm: its rule and the topic it notifies."
  value = {
    for key, alarm in aws_cloudwatch_composite_alarm.tier : key => {
      name    = alarm.alarm_name
      rule    = alarm.alarm_rule
      actions = alarm.alarm_actions
    }
  }
}

output "evaluator_lag_alarm" {
  description = "The alarm on the SLO evaluator's own lag."
  value = one([for alarm in aws_cloudwatch_metric_alarm.evaluator_lag : {
    name               = alarm.alarm_name
    threshold          = alarm.threshold
    treat_missing_data = alarm.treat_missing_data
    actions            = alarm.alarm_actions
  }])
}

output "dashboard_name" {
  description = "The SLO dashboard."
  value       = aws_cloudwatch_dashboard.slos.dashboard_name
}

output "dashboard_widget_titles" {
  description = "Titles of the dashboard's widgets."
  value       = [for w in local.widgets : w.properties.title]
}
