# Every tier of every SLO file has its alarm pair with the tier's burn rate and windows, and the
# composite alarm that joins them notifies the pages topic (page tiers) or the alarm topic (tickets).

mock_provider "aws" {
  source          = "../../tests/mocks"
  override_during = plan
}

variables {
  slo_dir = "../../../slos"
}

# Distinct topics, so the test can tell which one each alarm notifies.
override_module {
  target  = module.alarm_topic
  outputs = { arn = "arn:aws:sns:us-east-1:123456789012:alarms", name = "alarms" }
}

override_module {
  target  = module.sre_plane.module.topics["incident-pages"]
  outputs = { arn = "arn:aws:sns:us-east-1:123456789012:incident-pages", name = "incident-pages" }
}

run "slo_burn_rate_alarms" {
  command = plan

  variables {
    unit_seconds = { m = 60, h = 3600, d = 86400 }
    expected = flatten([
      for file in fileset("../../../slos", "*.yaml") : [
        for doc in split("\n---\n", file("../../../slos/${file}")) : [
          for tier in yamldecode(yamldecode(doc).metadata.annotations["serverless-sre/burn-rate-tiers"]) : {
            key       = "${yamldecode(doc).metadata.name}-${tier.name}"
            severity  = tier.severity
            burn_rate = tier.burnRate
            long      = tier.longWindow
            short     = tier.shortWindow
          }
        ] if length(regexall("(?m)^kind: SLO$", doc)) > 0
      ]
    ])
  }

  assert {
    condition     = length(var.expected) >= 16 && length(output.slo_tier_alarms) == length(var.expected)
    error_message = "one composite alarm per tier of every SLO file"
  }

  assert {
    condition     = length(output.slo_window_alarms) == 2 * length(var.expected)
    error_message = "two window alarms (long and short) per tier"
  }

  assert {
    condition = alltrue([
      for tier in var.expected : alltrue([
        for which in ["long", "short"] :
        output.slo_window_alarms["${tier.key}-${which}"].threshold == tier.burn_rate
        && output.slo_window_alarms["${tier.key}-${which}"].operator == "GreaterThanOrEqualToThreshold"
        && output.slo_window_alarms["${tier.key}-${which}"].period == (
          tonumber(regex("^(\\d+)", tier[which])[0]) * var.unit_seconds[regex("([mhd])$", tier[which])[0]]
        )
      ])
    ])
    error_message = "each window alarm fires at its tier's burn rate over exactly its window"
  }

  assert {
    condition = alltrue([
      for tier in var.expected :
      output.slo_tier_alarms[tier.key].rule == "ALARM(\"${output.slo_window_alarms["${tier.key}-long"].name}\") AND ALARM(\"${output.slo_window_alarms["${tier.key}-short"].name}\")"
    ])
    error_message = "each composite alarm needs both its long and its short window burning"
  }

  assert {
    condition = alltrue([
      for tier in var.expected :
      output.slo_tier_alarms[tier.key].actions == toset([tier.severity == "page"
      ? "arn:aws:sns:us-east-1:123456789012:incident-pages" : "arn:aws:sns:us-east-1:123456789012:alarms"])
    ])
    error_message = "page tiers notify the incident pages topic, ticket tiers the alarm topic"
  }

  # The long window counts only with min-events valid events, as the evaluator's rule does.
  assert {
    condition     = output.slo_window_alarms["latency-page-fast-long"].expression == "IF(valid >= 100, (1 - good / valid) / 0.05, 0)"
    error_message = "the burn rate is (1 - good/valid) / (1 - target), gated on min-events"
  }

  assert {
    condition = (output.slo_evaluator_lag_alarm.treat_missing_data == "breaching"
      && output.slo_evaluator_lag_alarm.threshold == 300
    && output.slo_evaluator_lag_alarm.actions == toset(["arn:aws:sns:us-east-1:123456789012:incident-pages"]))
    error_message = "the evaluator's lag pages, and silence counts as lag"
  }

  assert {
    condition = alltrue([for title in ["Circuit breaker transitions", "Escalations", "Throttles", "SLO evaluator lag (seconds)"] :
    contains(output.slo_dashboard_widgets, title)])
    error_message = "the dashboard shows breaker transitions, escalations, throttles and the evaluator's lag"
  }
}
