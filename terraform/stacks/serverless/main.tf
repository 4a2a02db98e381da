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

  prefix = module.labels.prefix
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

module "kms" {
  source      = "../../modules/kms_key"
  alias       = local.prefix
  description = "${local.prefix}: tables, topics, secrets, queues, logs and function environments"
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
          filter_policy = try(module.sre_plane.catalog.topics[topic].audiences[audience].filter_policy, null)
        }
      }
    ]
  ]))...)
}

resource "aws_sns_topic_subscription" "audiences" {
  for_each = local.topic_subscriptions

  topic_arn           = module.sre_plane.topic_arns[each.value.topic]
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

