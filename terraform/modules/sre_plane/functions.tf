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
    { for k, f in local.catalog.functions : f.name_setting => local.function_names[k] if f.name_setting != null },
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

  # Each function's statements from infra/access.json: its access map names grants and the actions
  # it takes of each; a grant's statement is rendered with those of its actions (none: no
  # statement), its resources' placeholders filled in here. So each function is allowed exactly the
  # actions it names on each resource. The tests read the same files to check every AWS call the
  # code makes against them (tests/support/iam.py).
  access_grants = local.catalog.access.grants
  access = merge(
    { api = local.catalog.access.api },
    { for key, f in local.catalog.functions : key => f.access },
  )
  # "kind:key" -> the ARN its grant's {arn} stands for.
  entry_arns = merge(
    { for k, t in module.tables : "table:${k}" => t.arn },
    { for k, t in module.topics : "topic:${k}" => t.arn },
    { for k, s in module.secrets : "secret:${k}" => s.arn },
    { for k, q in aws_sqs_queue.queues : "queue:${k}" => q.arn },
    { for k, arn in local.function_arns : "function:${k}" => arn },
    { for k, arn in local.statemachine_arns : "statemachine:${k}" => arn },
    {
      for k, name in local.statemachine_names :
      "execution:${k}" => "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${name}:*"
    },
  )
  # {indexes_arn}: a table's indexes, for the tables that have any.
  entry_index_arns = {
    for k, t in module.tables : "table:${k}" => ["${t.arn}/index/*"] if length(local.catalog.tables[k].global_secondary_indexes) > 0
  }
  lambda_arn_prefix = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.prefix}"
  # The ECS stack's service, for chaos experiments; no statement names them where there is none.
  chaos_ecs_service_arns = [
    for s in var.chaos_ecs_services : "arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/${s.cluster}/${s.service}"
  ]
  # ListTasks is authorized on the cluster's container instances, StopTask on its tasks.
  chaos_ecs_task_arns = flatten([
    for s in var.chaos_ecs_services : [
      "arn:${local.partition}:ecs:${local.region}:${local.account_id}:container-instance/${s.cluster}/*",
      "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${s.cluster}/*",
    ]
  ])

  # A statement's Sid template takes the entry's key in CamelCase for {Key} (table:slo-status ->
  # TableSloStatus): one statement per entry, as IAM wants Sids alphanumeric and distinct.
  granted_statements = {
    for fn, entries in local.access : fn => flatten([
      for entry, taken in entries : [
        for st in try(local.access_grants[entry], local.access_grants[split(":", entry)[0]]).statements : {
          sid     = replace(st.sid, "{Key}", join("", [for part in split("-", try(split(":", entry)[1], "")) : title(part)]))
          actions = [for action in st.actions : action if contains(taken, action)]
          resources = flatten([
            for r in st.resources : r == "{chaos_ecs_services}" ? local.chaos_ecs_service_arns : r == "{chaos_ecs_tasks}" ? local.chaos_ecs_task_arns : r == "{indexes_arn}" ? try(local.entry_index_arns[entry], []) : [
              replace(replace(replace(replace(r,
                "{arn}", try(local.entry_arns[entry], "")),
                "{api_function_arn}", local.lambda_arn_prefix),
                "{project_functions_arn}", "${local.lambda_arn_prefix}*"),
              "{metrics_namespace}", var.metrics_namespace)
            ]
          ])
          conditions = [
            for c in(try(st.condition, null) == null ? [] : [st.condition]) : {
              test = c.test, variable = c.variable, values = [for v in c.values : replace(v, "{metrics_namespace}", var.metrics_namespace)]
            }
          ]
        }
      ]
    ])
  }

  # A statement the entry takes no action of, or naming no resource (the ECS chaos statements
  # outside the ECS stack, the indexes of a table that has none), is left out.
  function_statements = {
    for fn, statements in local.granted_statements : fn => concat(
      [for st in statements : st if length(st.actions) > 0 && length(st.resources) > 0],
      # Lambda's event source mapping polls the queue with the consumer's role: no code calls these.
      length([for q, spec in local.catalog.queues : q if spec.consumer == fn]) == 0 ? [] : [{
        sid        = "ConsumeQueues"
        actions    = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
        resources  = [for q, spec in local.catalog.queues : aws_sqs_queue.queues[q].arn if spec.consumer == fn]
        conditions = []
      }],
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
