# The Chalice API function; the SRE plane (tables, topics, secrets, the other functions and the
# state machines of infra/*.json) is modules/sre_plane, shared with the ECS stack.

module "sre_plane" {
  source = "../../modules/sre_plane"

  secret_token_versions = var.secret_token_versions

  prefix                                = local.prefix
  app_name                              = var.app_name
  stage                                 = var.stage
  infra_dir                             = local.infra_dir
  statemachines_dir                     = local.statemachines_dir
  lambda_package                        = local.lambda_package
  runtime                               = var.runtime
  service_name                          = var.service_name
  metrics_namespace                     = var.metrics_namespace
  powertools_tracing                    = var.powertools_tracing
  environment                           = merge({ API_FUNCTION_NAME = local.prefix }, var.environment)
  function_reserved_concurrency         = var.function_reserved_concurrency
  default_function_reserved_concurrency = var.default_function_reserved_concurrency
  kms_key_arn                           = module.kms.arn
  log_retention_days                    = var.log_retention_days
  table_deletion_protection             = var.table_deletion_protection
  # The functions reach the API as a client does: the probe calls its /health, and the
  # evaluator counts the success SLI from the gateway's own AWS/ApiGateway metrics.
  api_client_environment = local.api_client_environment
}

locals {
  api_client_environment = {
    PROBE_URL         = "${module.api.invoke_url}/health"
    API_GATEWAY_NAME  = module.api.name
    API_GATEWAY_STAGE = var.api_stage_name
  }
}

# State addresses from before the SRE plane became a module.
moved {
  from = module.catalog
  to   = module.sre_plane.module.catalog
}

moved {
  from = module.tables
  to   = module.sre_plane.module.tables
}

moved {
  from = module.topics
  to   = module.sre_plane.module.topics
}

moved {
  from = module.secrets
  to   = module.sre_plane.module.secrets
}

moved {
  from = module.functions
  to   = module.sre_plane.module.functions
}

moved {
  from = module.statemachines
  to   = module.sre_plane.module.statemachines
}

moved {
  from = aws_sqs_queue.dead_letters
  to   = module.sre_plane.aws_sqs_queue.dead_letters
}

module "api_function" {
  source = "../../modules/lambda_function"

  name                  = local.prefix
  description           = "Chalice app ${var.app_name}: the HTTP API"
  handler               = "app.app"
  runtime               = var.runtime
  package_file          = local.lambda_package
  package_hash          = module.sre_plane.package_hash
  timeout_seconds       = var.api_timeout_seconds
  memory_mb             = var.api_memory_mb
  reserved_concurrency  = var.api_reserved_concurrency
  environment           = module.sre_plane.function_environment
  kms_key_arn           = module.kms.arn
  log_retention_days    = var.log_retention_days
  dead_letter_queue_arn = module.sre_plane.dead_letter_queue.arn
  policy_statements     = module.sre_plane.function_statements["api"]

  alias_name = var.api_alias_name
  provisioned_concurrency = {
    min                = coalesce(var.api_provisioned_concurrency_min, local.capacity_plan.api_provisioned_concurrency.min)
    max                = coalesce(var.api_provisioned_concurrency_max, local.capacity_plan.api_provisioned_concurrency.max)
    target_utilization = coalesce(var.api_provisioned_concurrency_target, local.capacity_plan.target_utilization)
  }
}

