# One function per infra/functions.json entry, from the same package as the API,
# each with a role holding only its own access.

locals {
  package_hash = filebase64sha256(var.lambda_package)

  # Function and state machine ARNs are built from their names, so functions
  # and workflows can refer to each other without dependency cycles.
  function_names = { for key in keys(local.catalog.functions) : key => "${local.prefix}-${key}" }
  function_arns = {
    for key, name in local.function_names :
    key => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${name}"
  }
  statemachine_names = { for key in keys(local.catalog.statemachines) : key => "${local.prefix}-${key}" }
  statemachine_arns = {
    for key, name in local.statemachine_names :
    key => "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${name}"
  }

  # Every name_setting -> the deployed name, every arn_setting -> the ARN.
  # Each function gets all of them; IAM decides what it may use.
  resource_environment = merge(
    { for k, t in local.catalog.tables : t.name_setting => module.tables[k].name if t.name_setting != null },
    { for k, t in local.catalog.tables : t.arn_setting => module.tables[k].arn if t.arn_setting != null },
    { for k, t in local.catalog.topics : t.name_setting => module.topics[k].name if t.name_setting != null },
    { for k, t in local.catalog.topics : t.arn_setting => module.topics[k].arn if t.arn_setting != null },
    { for k, s in local.catalog.secrets : s.name_setting => local.secret_names[k] if s.name_setting != null },
    { for k, s in local.catalog.secrets : s.arn_setting => module.secrets[k].arn if s.arn_setting != null },
    { for k, m in local.catalog.statemachines : m.name_setting => local.statemachine_names[k] if m.name_setting != null },
    { for k, m in local.catalog.statemachines : m.arn_setting => local.statemachine_arns[k] if m.arn_setting != null },
    { for k, q in local.catalog.queues : q.url_setting => aws_sqs_queue.queues[k].url if q.url_setting != null },
    { for k, q in local.catalog.queues : q.arn_setting => aws_sqs_queue.queues[k].arn if q.arn_setting != null },
  )

  function_environment = merge(
    {
      POWERTOOLS_SERVICE_NAME      = var.service_name
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
      POWERTOOLS_TRACE_DISABLED    = tostring(!var.powertools_tracing)
      STAGE                        = var.stage
    },
    local.resource_environment,
    var.environment,
  )

  # The API (a Lambda or the ECS tasks) serves every control-plane endpoint, so it may use every resource.
  access = merge(
    { api = local.catalog.all_access },
    { for key, f in local.catalog.functions : key => f.access },
  )
  access_keys = {
    for fn, entries in local.access : fn => {
      for kind in ["table", "topic", "secret", "statemachine", "function", "queue", "metrics", "capacity", "chaos"] :
      kind => [for entry in entries : split(":", entry)[1] if split(":", entry)[0] == kind]
    }
  }

  dynamodb_actions = [
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
  ]

  function_statements = {
    for fn, k in local.access_keys : fn => concat(
      length(k.table) == 0 ? [] : [{
        sid       = "Tables"
        actions   = local.dynamodb_actions
        resources = flatten([for t in k.table : [module.tables[t].arn, "${module.tables[t].arn}/index/*"]])
      }],
      length(k.topic) == 0 ? [] : [{
        sid       = "Topics"
        actions   = ["sns:Publish"]
        resources = [for t in k.topic : module.topics[t].arn]
      }],
      length(k.secret) == 0 ? [] : [{
        sid       = "Secrets"
        actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        resources = [for s in k.secret : module.secrets[s].arn]
      }],
      length(k.statemachine) == 0 ? [] : [
        {
          sid       = "StartWorkflows"
          actions   = ["states:StartExecution"]
          resources = [for m in k.statemachine : local.statemachine_arns[m]]
        },
        {
          sid     = "OwnWorkflowExecutions"
          actions = ["states:DescribeExecution", "states:StopExecution", "states:GetExecutionHistory"]
          resources = [
            for m in k.statemachine :
            "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.statemachine_names[m]}:*"
          ]
        },
        {
          sid = "TaskTokens"
          # SendTask* take a task token, not a resource: IAM cannot scope them.
          actions   = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]
          resources = ["*"]
        },
      ],
      length(k.function) == 0 ? [] : [{
        sid       = "InvokeFunctions"
        actions   = ["lambda:InvokeFunction"]
        resources = [for f in k.function : local.function_arns[f]]
      }],
      length(k.queue) == 0 ? [] : [{
        sid       = "SendToQueues"
        actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
        resources = [for q in k.queue : aws_sqs_queue.queues[q].arn]
      }],
      length([for q, spec in local.catalog.queues : q if spec.consumer == fn]) == 0 ? [] : [{
        sid       = "ConsumeQueues"
        actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
        resources = [for q, spec in local.catalog.queues : aws_sqs_queue.queues[q].arn if spec.consumer == fn]
      }],
      length(k.chaos) == 0 ? [] : [{
        sid = "ChaosLambdaThrottling"
        # Chaos experiments lower a function's reserved concurrency and restore it (experiments/).
        # Reserved concurrency below the provisioned concurrency is refused: it is read first.
        actions = ["lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency",
        "lambda:ListProvisionedConcurrencyConfigs"]
        resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.prefix}*"]
      }],
      length(k.chaos) == 0 || length(var.chaos_ecs_services) == 0 ? [] : [
        {
          sid = "ChaosEcsScaleIn"
          # Scale-in saves the service's desired count and puts it back on rollback (chalicelib/chaos/actions.py).
          actions = ["ecs:DescribeServices", "ecs:UpdateService"]
          resources = [
            for s in var.chaos_ecs_services :
            "arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/${s.cluster}/${s.service}"
          ]
        },
        {
          sid = "ChaosEcsTaskTermination"
          # ListTasks is authorized on the cluster's container instances, StopTask on its tasks.
          actions = ["ecs:ListTasks", "ecs:StopTask"]
          resources = flatten([
            for s in var.chaos_ecs_services : [
              "arn:${local.partition}:ecs:${local.region}:${local.account_id}:container-instance/${s.cluster}/*",
              "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${s.cluster}/*",
            ]
          ])
        },
      ],
      length(k.metrics) == 0 ? [] : [{
        sid = "ReadMetrics"
        # CloudWatch metric reads have no resource-level permissions.
        actions   = ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"]
        resources = ["*"]
      }],
      length(k.capacity) == 0 ? [] : [
        {
          sid = "ReadApiFunctionCapacity"
          actions = ["lambda:GetFunctionConfiguration", "lambda:GetFunctionConcurrency",
          "lambda:GetProvisionedConcurrencyConfig"]
          resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.prefix}",
          "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.prefix}:*"]
        },
        {
          sid = "ReadCapacityLimits"
          # GetAccountSettings and the Describe calls of ECS and Application Auto Scaling take no resource.
          actions = ["lambda:GetAccountSettings", "ecs:DescribeServices",
          "application-autoscaling:DescribeScalableTargets"]
          resources = ["*"]
        },
      ],
    )
  }
}

module "functions" {
  source   = "../../modules/lambda_function"
  for_each = local.catalog.functions

  name                  = local.function_names[each.key]
  description           = "${var.app_name} ${each.key} (${each.value.handler})"
  handler               = each.value.handler
  runtime               = var.runtime
  package_file          = var.lambda_package
  package_hash          = local.package_hash
  timeout_seconds       = each.value.timeout_seconds
  memory_mb             = each.value.memory_mb
  reserved_concurrency  = lookup(var.function_reserved_concurrency, each.key, var.default_function_reserved_concurrency)
  environment           = merge(local.function_environment, var.api_client_environment)
  kms_key_arn           = var.kms_key_arn
  log_retention_days    = var.log_retention_days
  dead_letter_queue_arn = aws_sqs_queue.dead_letters.arn
  policy_statements     = local.function_statements[each.key]
  schedule              = each.value.schedule
}

# infra/queues.json: each queue, and its consumer function fed by an event source mapping that
# reports failed messages one by one (they come back after the visibility timeout).
resource "aws_sqs_queue" "queues" {
  for_each = local.catalog.queues

  name                        = each.value.fifo ? "${local.prefix}-${each.key}.fifo" : "${local.prefix}-${each.key}"
  fifo_queue                  = each.value.fifo
  content_based_deduplication = false
  visibility_timeout_seconds  = each.value.visibility_timeout_seconds
  message_retention_seconds   = each.value.retention_seconds
  kms_master_key_id           = var.kms_key_arn
}

resource "aws_lambda_event_source_mapping" "queues" {
  for_each = { for k, q in local.catalog.queues : k => q if q.consumer != null }

  event_source_arn        = aws_sqs_queue.queues[each.key].arn
  function_name           = module.functions[each.value.consumer].arn
  batch_size              = each.value.batch_size
  function_response_types = ["ReportBatchItemFailures"]
}
