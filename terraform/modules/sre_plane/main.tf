# The SRE plane, serverless in every stack: the tables, topics, secrets and state machines of
# infra/*.json and one Lambda per infra/functions.json entry (schedules, workflow steps), all
# from the same package. The serverless stack serves the API beside it from Lambda; the ECS
# stack from its containers. Each caller passes how the functions reach the API.

locals {
  prefix     = var.prefix
  catalog    = module.catalog
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

module "catalog" {
  source    = "../../modules/infra_catalog"
  infra_dir = var.infra_dir
}

module "tables" {
  source   = "../../modules/dynamodb_table"
  for_each = local.catalog.tables

  name                = "${local.prefix}-${each.key}"
  definition          = each.value
  kms_key_arn         = var.kms_key_arn
  deletion_protection = var.table_deletion_protection
}

module "topics" {
  source   = "../../modules/alert_topic"
  for_each = local.catalog.topics

  name        = "${local.prefix}-${each.key}"
  kms_key_arn = var.kms_key_arn
}

locals {
  secret_names = { for key in keys(local.catalog.secrets) : key => "${var.app_name}/${var.stage}/${key}" }
}

module "secrets" {
  source   = "../../modules/secret"
  for_each = local.catalog.secrets

  name        = local.secret_names[each.key]
  description = each.value.description
  kms_key_arn = var.kms_key_arn
  generate    = each.value.generate
  # Rotation of a generated token (the operator and viewer tokens): bump its version and apply.
  token_version = lookup(var.secret_token_versions, each.key, 1)
}

# Failed asynchronous invocations (schedules) of every function land here.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${local.prefix}-dead-letters"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
}
