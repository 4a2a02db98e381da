# One state machine per infra/statemachines.json entry: its ASL file rendered
# with templatefile(), each "${Placeholder}" mapped to the resource it names.

locals {
  placeholder_values = {
    for name, m in local.catalog.statemachines : name => {
      for placeholder, ref in m.placeholders : placeholder => (
        ref.kind == "function" ? local.function_arns[ref.key] :
        ref.kind == "topic" ? module.topics[ref.key].arn :
        ref.kind == "table" ? module.tables[ref.key].name :
        ref.kind == "secret" ? module.secrets[ref.key].arn :
        ref.kind == "statemachine" ? local.statemachine_arns[ref.key] :
        "unknown placeholder kind ${ref.kind}"
      )
    }
  }

  workflow_refs = {
    for name, m in local.catalog.statemachines : name => {
      for kind in ["function", "topic", "table", "secret", "statemachine"] :
      kind => distinct([for ref in values(m.placeholders) : ref.key if ref.kind == kind])
    }
  }

  # Per state machine and table key: the DynamoDB actions its own tasks take on the table (a task
  # whose Resource is a DynamoDB service integration, `...:dynamodb:putItem` -> dynamodb:PutItem,
  # and whose TableName is the table's placeholder); Query and Scan reach its indexes. Top-level
  # states only: no workflow nests states (Map, Parallel).
  workflow_table_actions = {
    for name, m in local.catalog.statemachines : name => {
      for key in local.workflow_refs[name].table : key => distinct([
        for state in values(jsondecode(file("${var.statemachines_dir}/${m.definition}")).States) :
        "dynamodb:${upper(substr(regex("dynamodb:([A-Za-z]+)$", state.Resource)[0], 0, 1))}${substr(regex("dynamodb:([A-Za-z]+)$", state.Resource)[0], 1, -1)}"
        if can(regex("^arn:aws:states:::(aws-sdk:)?dynamodb:[A-Za-z]+$", try(state.Resource, ""))) && contains(
          [for placeholder, ref in m.placeholders : "$${${placeholder}}" if ref.kind == "table" && ref.key == key], try(state.Parameters.TableName, "")
        )
      ])
    }
  }

  workflow_statements = {
    for name, r in local.workflow_refs : name => concat(
      length(r.function) == 0 ? [] : [{
        sid       = "InvokeFunctions"
        actions   = ["lambda:InvokeFunction"]
        resources = flatten([for f in r.function : [local.function_arns[f], "${local.function_arns[f]}:*"]])
      }],
      length(r.topic) == 0 ? [] : [{
        sid       = "PublishPages"
        actions   = ["sns:Publish"]
        resources = [for t in r.topic : module.topics[t].arn]
      }],
      [
        for t in r.table : {
          sid     = "Table${join("", [for part in split("-", t) : title(part)])}"
          actions = local.workflow_table_actions[name][t]
          resources = concat([module.tables[t].arn], (
            length(setintersection(local.workflow_table_actions[name][t], ["dynamodb:Query", "dynamodb:Scan"])) > 0
            && length(local.catalog.tables[t].global_secondary_indexes) > 0
          ) ? ["${module.tables[t].arn}/index/*"] : [])
        } if length(local.workflow_table_actions[name][t]) > 0
      ],
      length(r.secret) == 0 ? [] : [{
        sid       = "Secrets"
        actions   = ["secretsmanager:GetSecretValue"]
        resources = [for s in r.secret : module.secrets[s].arn]
      }],
      length(r.statemachine) == 0 ? [] : [{
        sid       = "StartWorkflows"
        actions   = ["states:StartExecution"]
        resources = [for m in r.statemachine : local.statemachine_arns[m]]
      }],
    )
  }
}

module "statemachines" {
  source   = "../../modules/state_machine"
  for_each = local.catalog.statemachines

  name               = local.statemachine_names[each.key]
  definition         = templatefile("${var.statemachines_dir}/${each.value.definition}", local.placeholder_values[each.key])
  policy_statements  = local.workflow_statements[each.key]
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
}
