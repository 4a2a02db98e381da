# The serverless deployment: API Gateway + the Chalice Lambda, the non-HTTP
# functions with their schedules, and every table, topic, secret and state
# machine of infra/*.json, created generically from those files.

locals {
  repo_root         = abspath("${path.module}/../../..")
  infra_dir         = coalesce(var.infra_dir, "${local.repo_root}/infra")
  statemachines_dir = coalesce(var.statemachines_dir, local.repo_root)
  lambda_package    = coalesce(var.lambda_package, "${local.repo_root}/build/lambda/deployment.zip")
  api_definition    = coalesce(var.api_definition, "${local.repo_root}/build/lambda/api.json")
  # The token scripts/package_chalice.py writes where the integration URI goes.
  api_invoke_arn_token = "@@API_HANDLER_INVOKE_ARN@@"

  prefix  = module.labels.prefix
  catalog = module.catalog
  # Targets and bounds of auto-scaling, shared with the ECS variant and capacity planning.
  capacity_plan = jsondecode(file("${local.infra_dir}/capacity.json"))

  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

module "labels" {
  source     = "../../modules/labels"
  app_name   = var.app_name
  stage      = var.stage
  variant    = "serverless"
  extra_tags = var.tags
}

module "catalog" {
  source    = "../../modules/infra_catalog"
  infra_dir = local.infra_dir
}

module "kms" {
  source      = "../../modules/kms_key"
  alias       = local.prefix
  description = "${local.prefix}: tables, topics, secrets, queues, logs and function environments"
}

module "tables" {
  source   = "../../modules/dynamodb_table"
  for_each = local.catalog.tables

  name                = "${local.prefix}-${each.key}"
  definition          = each.value
  kms_key_arn         = module.kms.arn
  deletion_protection = var.table_deletion_protection
}

module "topics" {
  source   = "../../modules/alert_topic"
  for_each = local.catalog.topics

  name        = "${local.prefix}-${each.key}"
  kms_key_arn = module.kms.arn
}

# One subscription per subscriber of an audience, filtered by the audience's policy on
# the message attributes, so each escalation level only receives its own pages.
locals {
  topic_subscriptions = merge(concat([{}], flatten([
    for topic, audiences in var.topic_subscribers : [
      for audience, subscribers in audiences : {
        for index, subscriber in subscribers : "${topic}/${audience}/${index}" => {
          topic         = topic
          audience      = audience
          protocol      = subscriber.protocol
          endpoint      = subscriber.endpoint
          filter_policy = try(local.catalog.topics[topic].audiences[audience].filter_policy, null)
        }
      }
    ]
  ]))...)
}

resource "aws_sns_topic_subscription" "audiences" {
  for_each = local.topic_subscriptions

  topic_arn           = module.topics[each.value.topic].arn
  protocol            = each.value.protocol
  endpoint            = each.value.endpoint
  filter_policy       = jsonencode(each.value.filter_policy)
  filter_policy_scope = "MessageAttributes"

  lifecycle {
    precondition {
      condition     = each.value.filter_policy != null
      error_message = "topic_subscribers: ${each.value.topic} has no audience ${each.value.audience} in infra/topics.json."
    }
  }
}

locals {
  secret_names = { for key in keys(local.catalog.secrets) : key => "${var.app_name}/${var.stage}/${key}" }
}

module "secrets" {
  source   = "../../modules/secret"
  for_each = local.catalog.secrets

  name        = local.secret_names[each.key]
  description = each.value.description
  kms_key_arn = module.kms.arn
  generate    = each.value.generate
}

# Failed asynchronous invocations (schedules) of every function land here.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${local.prefix}-dead-letters"
  kms_master_key_id         = module.kms.arn
  message_retention_seconds = 1209600
}
