# A Lambda function with its own role (only the statements it is given, plus
# logs, X-Ray and its dead-letter queue), an encrypted log group and, when a
# schedule is set, an EventBridge rule that invokes it.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.name}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# Written as JSON here rather than by the policy document data source, so plans (and terraform
# test with a mocked provider) show the real document.
locals {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        { Sid = "OwnLogs", Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = ["${local.log_group_arn}:*"] },
        # X-Ray segment APIs have no resource-level permissions.
        { Sid = "Tracing", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource = ["*"] },
        { Sid = "DeadLetters", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = [var.dead_letter_queue_arn] },
        { Sid = "StackKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = [var.kms_key_arn] },
      ],
      [
        for st in var.policy_statements : merge(
          { Sid = st.sid, Effect = "Allow", Action = st.actions, Resource = st.resources },
          {
            for key, condition in {
              Condition = {
                for test in distinct([for c in st.conditions : c.test]) :
                test => { for c in st.conditions : c.variable => c.values if c.test == test }
              }
            } : key => condition if length(st.conditions) > 0
          },
        )
      ],
    )
  })
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = local.policy
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:The functions only call regional AWS APIs (DynamoDB, SNS, Step Functions, CloudWatch); a VPC would add NAT cost and cold-start latency without isolating anything.
  # checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile per account; the package is built and hashed by this repository's pipeline (source_code_hash).
  function_name                  = var.name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  filename                       = var.package_file
  source_code_hash               = var.package_hash
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_mb
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  # Provisioned concurrency needs a published version behind an alias.
  publish = var.alias_name != null

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = var.dead_letter_queue_arn
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_alias" "this" {
  count            = var.alias_name == null ? 0 : 1
  name             = var.alias_name
  description      = "The version callers invoke; provisioned concurrency is kept on it."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

# Keeps the alias's provisioned concurrency at the target share in use, between the bounds
# (capacity plan: infra/capacity.json).
resource "aws_appautoscaling_target" "provisioned_concurrency" {
  count              = var.alias_name != null && var.provisioned_concurrency != null ? 1 : 0
  service_namespace  = "lambda"
  resource_id        = "function:${aws_lambda_function.this.function_name}:${aws_lambda_alias.this[0].name}"
  scalable_dimension = "lambda:function:ProvisionedConcurrency"
  min_capacity       = var.provisioned_concurrency.min
  max_capacity       = var.provisioned_concurrency.max
}

resource "aws_appautoscaling_policy" "provisioned_concurrency" {
  count              = length(aws_appautoscaling_target.provisioned_concurrency)
  name               = "${var.name}-provisioned-concurrency"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.provisioned_concurrency[0].service_namespace
  resource_id        = aws_appautoscaling_target.provisioned_concurrency[0].resource_id
  scalable_dimension = aws_appautoscaling_target.provisioned_concurrency[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.provisioned_concurrency.target_utilization
    predefined_metric_specification {
      predefined_metric_type = "LambdaProvisionedConcurrencyUtilization"
    }
  }
}

resource "aws_cloudwatch_event_rule" "schedule" {
  count               = var.schedule == null ? 0 : 1
  name                = "${var.name}-schedule"
  description         = "Runs ${var.name} on ${var.schedule}"
  schedule_expression = var.schedule
}

resource "aws_cloudwatch_event_target" "schedule" {
  count = var.schedule == null ? 0 : 1
  rule  = aws_cloudwatch_event_rule.schedule[0].name
  arn   = aws_lambda_function.this.arn

  retry_policy {
    maximum_retry_attempts       = 0
    maximum_event_age_in_seconds = 60
  }
}

resource "aws_lambda_permission" "schedule" {
  count         = var.schedule == null ? 0 : 1
  statement_id  = "AllowEventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[0].arn
}
