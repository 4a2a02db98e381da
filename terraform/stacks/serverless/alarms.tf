# Platform alarms (the SLO engine pages on burn rates; these catch what it
# cannot see: the API itself failing, functions erroring or throttled,
# dead letters piling up, workflows failing).

module "alarm_topic" {
  source = "../../modules/alert_topic"

  name               = "${local.prefix}-alarms"
  kms_key_arn        = module.kms.arn
  email_subscribers  = var.alarm_emails
  publisher_services = ["cloudwatch.amazonaws.com"]
}

locals {
  all_function_names = merge({ api = module.api_function.name }, { for k, f in module.sre_plane.functions : k => f.name })

  alarms = merge(
    {
      api-5xx = {
        description = "API Gateway answered 5xx (see runbooks/)"
        namespace   = "AWS/ApiGateway"
        metric_name = "5XXError"
        dimensions  = { ApiName = module.api.name, Stage = module.api.stage_name }
        threshold   = 5
      }
      dead-letters = {
        description        = "Failed asynchronous invocations are waiting in the dead-letter queue"
        namespace          = "AWS/SQS"
        metric_name        = "ApproximateNumberOfMessagesVisible"
        dimensions         = { QueueName = module.sre_plane.dead_letter_queue.name }
        statistic          = "Maximum"
        evaluation_periods = 1
        threshold          = 1
      }
    },
    {
      for k, name in local.all_function_names : "${k}-errors" => {
        description = "Lambda ${name} raised errors"
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = { FunctionName = name }
        threshold   = 3
      }
    },
    {
      for k, name in local.all_function_names : "${k}-throttles" => {
        description = "Lambda ${name} was throttled (reserved concurrency reached)"
        namespace   = "AWS/Lambda"
        metric_name = "Throttles"
        dimensions  = { FunctionName = name }
        threshold   = 1
      }
    },
    {
      for k, m in module.sre_plane.statemachines : "${k}-failed" => {
        description        = "State machine ${m.name} executions failed"
        namespace          = "AWS/States"
        metric_name        = "ExecutionsFailed"
        dimensions         = { StateMachineArn = m.arn }
        evaluation_periods = 1
        threshold          = 1
      }
    },
  )
}

module "alarms" {
  source = "../../modules/metric_alarms"

  name_prefix = local.prefix
  topic_arn   = module.alarm_topic.arn
  alarms      = local.alarms
}

# The SLOs watched by AWS itself, compiled from the files the evaluator reads: burn-rate alarm
# pairs per tier (pages to the incident pages topic, tickets to the alarm topic), an alarm on
# the evaluator's own lag, and the SLO dashboard.
module "slo_alarms" {
  source = "../../modules/slo_alarms"

  slo_dir                      = coalesce(var.slo_dir, "${local.repo_root}/slos")
  name_prefix                  = local.prefix
  region                       = local.region
  metrics_namespace            = var.metrics_namespace
  service_name                 = var.service_name
  api_gateway                  = { name = module.api.name, stage = module.api.stage_name }
  page_topic_arn               = module.sre_plane.topic_arns[var.pages_topic_key]
  ticket_topic_arn             = module.alarm_topic.arn
  lambda_function_names        = local.all_function_names
  escalation_state_machine_arn = try(module.sre_plane.statemachines["escalation"].arn, null)
}
