# Reads the shared resource definitions (infra/*.json, format in infra/README.md)
# and normalises them, so stacks create every entry generically. No resources.

terraform {
  required_version = ">= 1.9.0"
}

locals {
  raw = {
    tables        = jsondecode(file("${var.infra_dir}/tables.json"))
    functions     = jsondecode(file("${var.infra_dir}/functions.json"))
    topics        = jsondecode(file("${var.infra_dir}/topics.json"))
    secrets       = jsondecode(file("${var.infra_dir}/secrets.json"))
    statemachines = jsondecode(file("${var.infra_dir}/statemachines.json"))
    # Optional: an infra/ without queues declares none.
    queues = fileexists("${var.infra_dir}/queues.json") ? jsondecode(file("${var.infra_dir}/queues.json")) : {}
    access = jsondecode(file("${var.infra_dir}/access.json"))
  }

  tables = {
    for key, t in local.raw.tables : key => {
      name_setting  = try(t.name_setting, null)
      arn_setting   = try(t.arn_setting, null)
      hash_key      = t.hash_key
      range_key     = try(t.range_key, null)
      ttl_attribute = try(t.ttl_attribute, null)
      global_secondary_indexes = [
        for gsi in try(t.global_secondary_indexes, []) : {
          name      = gsi.name
          hash_key  = gsi.hash_key
          range_key = try(gsi.range_key, null)
        }
      ]
    }
  }

  # Lambda entry points. `access` maps each grant of access.json the function holds to the actions
  # it takes of it: "table:<key>", "topic:<key>", "secret:<key>", "statemachine:<key>" (start),
  # "execution:<key>" (watch and stop its executions), "queue:<key>", "function:<key>" for a
  # resource of infra/, or a grant of its own name ("metrics:read", "capacity:read", ...). Every
  # function declares its map; access.json's "api" is the API's (Lambda or ECS tasks).
  access      = local.raw.access
  access_maps = concat([local.raw.access.api], [for f in values(local.raw.functions) : f.access])
  resource_entries = concat(
    [for k in keys(local.raw.tables) : "table:${k}"],
    [for k in keys(local.raw.topics) : "topic:${k}"],
    [for k in keys(local.raw.secrets) : "secret:${k}"],
    [for k in keys(local.raw.statemachines) : "statemachine:${k}"],
    [for k in keys(local.raw.statemachines) : "execution:${k}"],
    [for k in keys(local.raw.queues) : "queue:${k}"],
    [for k in keys(local.raw.functions) : "function:${k}"],
  )
  known_entries = concat(local.resource_entries, [for name in keys(local.access.grants) : name if strcontains(name, ":")])
  # entry -> every action its grant's statements offer (what an access entry may take).
  offered_actions = {
    for entry in distinct(flatten([for m in local.access_maps : keys(m)])) : entry => distinct(flatten([
      for st in try(local.access.grants[entry], local.access.grants[split(":", entry)[0]], { statements = [] }).statements : st.actions
    ]))
  }

  functions = {
    for key, f in local.raw.functions : key => {
      handler         = f.handler
      name_setting    = try(f.name_setting, null)
      schedule        = try(f.schedule, null)
      timeout_seconds = try(f.timeout_seconds, 60)
      memory_mb       = try(f.memory_mb, 256)
      access          = f.access
    }
  }

  # `audiences`: who listens to the topic, each with the subscription filter policy that
  # selects its messages (one per escalation level on the pages topic).
  topics = {
    for key, t in local.raw.topics : key => {
      name_setting = try(t.name_setting, null)
      arn_setting  = try(t.arn_setting, null)
      audiences = {
        for name, a in try(t.audiences, {}) : name => {
          description   = try(a.description, name)
          filter_policy = a.filter_policy
        }
      }
    }
  }

  queues = {
    for key, q in local.raw.queues : key => {
      url_setting                = try(q.url_setting, null)
      arn_setting                = try(q.arn_setting, null)
      fifo                       = try(q.fifo, false)
      consumer                   = try(q.consumer, null)
      batch_size                 = try(q.batch_size, 10)
      visibility_timeout_seconds = try(q.visibility_timeout_seconds, 30)
      retention_seconds          = try(q.retention_seconds, 345600)
    }
  }

  secrets = {
    for key, s in local.raw.secrets : key => {
      name_setting = try(s.name_setting, null)
      arn_setting  = try(s.arn_setting, null)
      description  = try(s.description, "serverless-sre secret ${key}")
      generate     = try(s.generate, null)
    }
  }

  statemachines = {
    for key, m in local.raw.statemachines : key => {
      name_setting = try(m.name_setting, null)
      arn_setting  = try(m.arn_setting, null)
      definition   = m.definition
      placeholders = {
        for placeholder, ref in try(m.placeholders, {}) : placeholder => {
          kind = split(":", ref)[0]
          key  = join(":", slice(split(":", ref), 1, length(split(":", ref))))
        }
      }
    }
  }
}

check "function_schedules_are_rates" {
  assert {
    condition = alltrue([
      for f in values(local.functions) :
      f.schedule == null || can(regex("^(rate\\(\\d+ (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", f.schedule))
    ])
    error_message = "Every infra/functions.json schedule must be rate(N minute|minutes|hour|hours) or cron(...)."
  }
}
