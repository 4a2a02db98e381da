# The REST API of the Chalice app: imported from its Swagger document, with
# JSON gateway responses, an X-Ray traced and access-logged stage, and WAF.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

data "aws_partition" "current" {}

locals {
  gateway_headers = merge(
    { for header, value in var.security_headers : "gatewayresponse.header.${header}" => "'${value}'" },
    {
      "gatewayresponse.header.Content-Type"     = "'application/json'"
      "gatewayresponse.header.X-Request-Id"     = "context.requestId"
      "gatewayresponse.header.X-Correlation-Id" = "context.requestId"
    },
  )

  # PutRestApi in overwrite mode replaces gateway responses that are not in
  # the document, so they are part of the body as well as separate resources
  # (which keep them visible to plans and tests); both come from this map.
  gateway_responses_extension = {
    for type, r in var.gateway_responses : type => merge(
      r.status_code == null ? {} : { statusCode = tonumber(r.status_code) },
      {
        responseParameters = local.gateway_headers
        responseTemplates  = { "application/json" = r.body }
      },
    )
  }

  # The authorizer, as API Gateway's Swagger extensions: a security definition, and a
  # security requirement on every operation it covers.
  security_definitions = {
    NONE = {}
    AWS_IAM = {
      sigv4 = { type = "apiKey", name = "Authorization", in = "header", "x-amazon-apigateway-authtype" = "awsSigv4" }
    }
    COGNITO_USER_POOLS = {
      cognito = {
        type                             = "apiKey", name = "Authorization", in = "header", "x-amazon-apigateway-authtype" = "cognito_user_pools"
        "x-amazon-apigateway-authorizer" = { type = "cognito_user_pools", providerARNs = var.authorizer.cognito_user_pool_arns }
      }
    }
  }[var.authorizer.type]
  document = jsondecode(var.openapi_body)
  paths = {
    for path, operations in local.document.paths : path => {
      for method, operation in operations : method => merge(operation, {
        for key, requirement in { security = [{ for name in keys(local.security_definitions) : name => [] }] } : key => requirement
        if length(local.security_definitions) > 0 && method != "options" && anytrue([for prefix in var.authorized_path_prefixes : startswith(path, prefix)])
      })
    }
  }

  body = jsonencode(merge(local.document, {
    paths                                   = local.paths
    securityDefinitions                     = merge(try(local.document.securityDefinitions, {}), local.security_definitions)
    "x-amazon-apigateway-gateway-responses" = local.gateway_responses_extension
  }))
}

resource "aws_api_gateway_rest_api" "this" {
  name              = var.name
  body              = local.body
  put_rest_api_mode = "overwrite"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_gateway_response" "this" {
  for_each = var.gateway_responses

  rest_api_id         = aws_api_gateway_rest_api.this.id
  response_type       = each.key
  status_code         = each.value.status_code
  response_parameters = local.gateway_headers
  response_templates  = { "application/json" = each.value.body }
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([local.body, aws_api_gateway_gateway_response.this]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# API Gateway writes execution logs to this group; made here first, with retention and the
# stack key, or API Gateway creates it unencrypted and keeps the logs forever.
resource "aws_cloudwatch_log_group" "execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_api_gateway_stage" "this" {
  # checkov:skip=CKV_AWS_120:Responses are per-user and marked Cache-Control no-store; caching them would serve stale or foreign data.
  # checkov:skip=CKV2_AWS_51:A public browser-facing API; clients do not present TLS client certificates.
  # checkov:skip=CKV2_AWS_77:The associated ACL (modules/web_acl) has AWSManagedRulesKnownBadInputsRuleSet and AWSManagedRulesAnonymousIpList; checkov cannot follow the association across modules.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      correlationId      = "$context.extendedRequestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTimeEpoch"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      latencyMs          = "$context.responseLatency"
      integrationLatency = "$context.integration.latency"
      errorType          = "$context.error.responseType"
    })
  }

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.execution]
}

resource "aws_api_gateway_method_settings" "all" {
  # checkov:skip=CKV_AWS_225:Caching is off on purpose (see the stage); per-user responses are never cached.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  qualifier     = var.lambda_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"
}

# API Gateway writes execution and access logs through one role per account.
data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cloudwatch" {
  count              = var.manage_account_logging_role ? 1 : 0
  name               = "${var.name}-apigateway-logs"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

resource "aws_iam_role_policy_attachment" "cloudwatch" {
  count      = var.manage_account_logging_role ? 1 : 0
  role       = aws_iam_role.cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count               = var.manage_account_logging_role ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.cloudwatch[0].arn
}
