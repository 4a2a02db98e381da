# The stack against a fixture infra/ that uses every kind of entry, so the
# assertions can be exact while the repository's infra/ keeps growing.

mock_provider "aws" {
  source          = "../../tests/mocks"
  override_during = plan
}

variables {
  infra_dir         = "tests/fixtures/infra"
  statemachines_dir = "tests/fixtures"
  api_definition    = "tests/fixtures/api.json"
  lambda_package    = "tests/fixtures/deployment.zip"
  pages_topic_key   = "pages"
}

# Tables, functions, schedules, settings, IAM and workflows from the fixture entries.
run "every_entry_becomes_wired_resources" {
  command = plan

  # one table per entry
  assert {
    condition     = toset(keys(output.table_names)) == toset(["users", "incidents"])
    error_message = "expected exactly the fixture tables"
  }

  assert {
    condition     = output.table_names["incidents"] == "serverless-sre-prod-incidents"
    error_message = "tables are named <app>-<stage>-<key>"
  }

  # name settings map to deployed names and arns
  assert {
    condition     = output.function_environment["USERS_TABLE"] == "serverless-sre-prod-users"
    error_message = "USERS_TABLE must be the deployed table name"
  }

  assert {
    condition     = output.function_environment["PAGES_TOPIC"] == "serverless-sre-prod-pages" && output.function_environment["PAGES_TOPIC_ARN"] == output.topic_arns["pages"]
    error_message = "a topic's name_setting carries its name, its arn_setting its ARN"
  }

  assert {
    condition     = output.function_environment["OPERATOR_TOKEN_SECRET"] == "serverless-sre/prod/operator-token"
    error_message = "secret settings carry the secret name"
  }

  assert {
    condition     = endswith(output.function_environment["ESCALATION_STATE_MACHINE_ARN"], ":stateMachine:serverless-sre-prod-escalation")
    error_message = "a state machine's arn_setting carries its ARN"
  }

  # capacity planning reads the API function's AWS/Lambda figures and limits; experiments name it
  assert {
    condition     = output.function_environment["API_FUNCTION_NAME"] == output.api_function_name
    error_message = "API_FUNCTION_NAME must be the deployed API function"
  }

  assert {
    condition     = output.function_environment["POWERTOOLS_SERVICE_NAME"] != "serverless-sre"
    error_message = "the Powertools service name must differ from the Chalice app name"
  }

  # schedules only for scheduled functions
  assert {
    condition     = output.schedules == { "slo-evaluator" = "rate(1 minute)" }
    error_message = "one EventBridge schedule per function with a schedule, none otherwise"
  }

  assert {
    condition     = toset(keys(output.function_names)) == toset(["slo-evaluator", "page-sender"])
    error_message = "one Lambda per infra/functions.json entry"
  }

  # declared access is all a function gets: one statement per grant's statement it takes actions of
  assert {
    condition = toset([for s in output.function_permissions["slo-evaluator"] : s.sid]) == toset(
      ["TableIncidents", "ReadMetrics", "PutServiceMetrics", "WorkflowEscalation", "WorkflowEscalationExecutions", "TaskTokens"]
    )
    error_message = "slo-evaluator declared table, metrics and statemachine access only"
  }

  assert {
    condition = alltrue([
      for s in output.function_permissions["slo-evaluator"] : !anytrue([for r in s.resources : strcontains(r, "users")])
    ])
    error_message = "slo-evaluator must not reach the users table"
  }

  # each function gets exactly the actions its access map names on each resource
  assert {
    condition = jsonencode(one([for s in output.function_permissions["slo-evaluator"] : s if s.sid == "TableIncidents"])) == jsonencode({
      sid        = "TableIncidents"
      actions    = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources  = ["arn:aws:dynamodb:us-east-1:123456789012:table/mock"]
      conditions = []
    })
    error_message = "slo-evaluator may get and put incidents, and nothing else on the table (no index statement without Query or Scan)"
  }

  assert {
    condition = jsonencode([for s in output.function_permissions["api"] : { sid = s.sid, actions = s.actions, resources = s.resources } if startswith(s.sid, "Table")]) == jsonencode([
      { sid = "TableIncidents", actions = ["dynamodb:GetItem", "dynamodb:Query"], resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/mock"] },
      { sid = "TableIncidentsIndexes", actions = ["dynamodb:Query"], resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/mock/index/*"] },
      { sid = "TableUsers", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/mock"] },
      { sid = "TableUsersIndexes", actions = ["dynamodb:Query"], resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/mock/index/*"] },
    ])
    error_message = "each table gets its own statement with the entry's actions (the mock gives every table one ARN), and its indexes only the entry's Query"
  }

  assert {
    condition = jsonencode([for s in output.function_permissions["page-sender"] : { sid = s.sid, actions = s.actions }]) == jsonencode([
      { sid = "SecretWebhookKey", actions = ["secretsmanager:GetSecretValue"] }, { sid = "TopicPages", actions = ["sns:Publish"] }
    ])
    error_message = "page-sender holds exactly its topic and secret grants"
  }

  # placeholders become the resources' ARNs, and the namespace condition its value
  assert {
    condition = jsonencode(one([for s in output.function_permissions["slo-evaluator"] : s if s.sid == "WorkflowEscalationExecutions"]).resources) == jsonencode([
      "arn:aws:states:us-east-1:123456789012:execution:serverless-sre-prod-escalation:*"
    ])
    error_message = "execution:<key> renders to the state machine's executions"
  }

  assert {
    condition = jsonencode(one([for s in output.function_permissions["slo-evaluator"] : s if s.sid == "PutServiceMetrics"]).conditions) == jsonencode([
      { test = "StringEquals", variable = "cloudwatch:namespace", values = ["ServerlessSRE"] }
    ])
    error_message = "PutMetricData is limited to the service's namespace"
  }

  # the role's policy document is the rendered statements, not a data source mocks would empty
  assert {
    condition     = contains(flatten([for s in jsondecode(output.function_policies["slo-evaluator"]).Statement : s.Action]), "cloudwatch:PutMetricData")
    error_message = "the slo-evaluator role's policy document carries its grants"
  }

  # a workflow's role takes on a table only what its DynamoDB tasks do there
  assert {
    condition = jsonencode(one([for s in output.statemachine_permissions["escalation"] : s if startswith(s.sid, "Table")])) == jsonencode({
      sid = "TableIncidents", actions = ["dynamodb:PutItem"], resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/mock"]
    })
    error_message = "the escalation workflow's Record task puts incidents, and nothing else"
  }

  # state machine placeholders are rendered
  assert {
    condition     = jsondecode(output.statemachine_definitions["escalation"]).States.Record.Parameters.TableName == "serverless-sre-prod-incidents"
    error_message = "table placeholders render to the table name"
  }

  assert {
    condition     = endswith(jsondecode(output.statemachine_definitions["escalation"]).States.Page.Parameters.FunctionName, ":function:serverless-sre-prod-page-sender")
    error_message = "function placeholders render to the function ARN"
  }

  assert {
    condition     = jsondecode(output.statemachine_definitions["escalation"]).States.Notify.Parameters.TopicArn == output.topic_arns["pages"]
    error_message = "topic placeholders render to the topic ARN"
  }
}

# Unknown paths answer like the app (404 JSON); every gateway response is JSON with security headers.
run "gateway_answers_json" {
  command = plan

  # unknown path is a json 404
  assert {
    condition     = output.api_gateway_responses["MISSING_AUTHENTICATION_TOKEN"].status_code == "404"
    error_message = "MISSING_AUTHENTICATION_TOKEN must answer 404"
  }

  assert {
    condition     = output.api_gateway_responses["MISSING_AUTHENTICATION_TOKEN"].response_templates["application/json"] == jsonencode({ error = "Not found" })
    error_message = "the 404 body must be {\"error\":\"Not found\"}, compact as every error body"
  }

  assert {
    condition     = output.api_gateway_responses["MISSING_AUTHENTICATION_TOKEN"].response_parameters["gatewayresponse.header.Content-Type"] == "'application/json'"
    error_message = "gateway responses are JSON"
  }

  # every gateway response is json with security headers
  assert {
    condition     = alltrue([for t in ["DEFAULT_4XX", "DEFAULT_5XX"] : contains(keys(output.api_gateway_responses), t)])
    error_message = "the default 4xx and 5xx responses must be overridden"
  }

  assert {
    condition = alltrue([
      for r in values(output.api_gateway_responses) : alltrue([
        for h in ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cache-Control", "Content-Type"] :
        contains(keys(r.response_parameters), "gatewayresponse.header.${h}")
      ])
    ])
    error_message = "every gateway response carries the security headers"
  }

  assert {
    condition = alltrue([
      for r in values(output.api_gateway_responses) :
      startswith(r.response_templates["application/json"], "{\"error\":")
    ])
    error_message = "every gateway response body is a compact JSON object with an error key"
  }

  assert {
    condition     = output.api_gateway_responses["DEFAULT_4XX"].response_parameters["gatewayresponse.header.X-Frame-Options"] == "'DENY'"
    error_message = "X-Frame-Options must be DENY"
  }

  # gateway responses survive body reimport
  assert {
    condition     = jsondecode(output.api_body)["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"].statusCode == 404
    error_message = "the imported document must carry the gateway responses too (PutRestApi overwrite drops others)"
  }

  assert {
    condition     = !strcontains(output.api_body, "@@API_HANDLER_INVOKE_ARN@@")
    error_message = "every integration URI must be rendered"
  }

  # the user API stays anonymous like the original unless an authorizer is asked for
  assert {
    condition     = !strcontains(output.api_body, "\"security\"") && jsondecode(output.api_body).securityDefinitions == {}
    error_message = "by default no operation has an authorizer"
  }

  # API Gateway's execution logs and the access logs go to Terraform-made groups with retention and the key
  assert {
    condition = alltrue([for g in values(output.api_log_groups) :
    g.retention_in_days == var.log_retention_days && g.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"])
    error_message = "the API's log groups keep logs for log_retention_days, encrypted with the stack key"
  }

  assert {
    condition     = startswith(output.api_log_groups.execution.name, "API-Gateway-Execution-Logs_") && endswith(output.api_log_groups.execution.name, "/api")
    error_message = "the execution log group has the name API Gateway writes to"
  }

  # WAF logs never show bearer tokens nor the acknowledge link's signature
  assert {
    condition     = toset(output.waf_redacted_log_fields) == toset(["authorization", "query_string"])
    error_message = "WAF logs redact the Authorization header and the query string"
  }
}

# Provisioned concurrency of the API alias follows the capacity plan of the infra directory.
run "api_provisioned_concurrency_follows_the_capacity_plan" {
  command = plan

  assert {
    condition = output.api_provisioned_concurrency_scaling == {
      resource_id  = "function:serverless-sre-prod:live"
      dimension    = "lambda:function:ProvisionedConcurrency"
      min          = 3
      max          = 7
      metric       = "LambdaProvisionedConcurrencyUtilization"
      target_value = 0.6
    }
    error_message = "target tracking on the live alias, bounds and target from tests/fixtures/infra/capacity.json"
  }

  assert {
    condition     = output.api_invoke_target.alias == "live" && endswith(output.api_invoke_target.invoke_arn, ":live/invocations")
    error_message = "API Gateway invokes the alias that keeps the provisioned concurrency"
  }
}

run "variables_override_the_plans_bounds_and_target" {
  command = plan

  variables {
    api_provisioned_concurrency_min    = 0
    api_provisioned_concurrency_max    = 40
    api_provisioned_concurrency_target = 0.5
    user_api_authorizer                = { type = "AWS_IAM" }
    secret_token_versions              = { operator-token = 2 }
  }

  # (same plan) rotating a generated token: its version is raised, the others keep theirs
  assert {
    condition     = output.secret_token_versions["operator-token"] == 2 && output.secret_token_versions["webhook-key"] == null
    error_message = "secret_token_versions writes a new generated token; a secret an operator sets has none"
  }

  # an IAM authorizer covers the user API's operations, not /health, the SRE plane or CORS preflights
  assert {
    condition = (jsondecode(output.api_body).paths["/api/users"].get.security == [{ sigv4 = [] }]
      && jsondecode(output.api_body).paths["/api/users"].post.security == [{ sigv4 = [] }]
      && jsondecode(output.api_body).paths["/user"].get.security == [{ sigv4 = [] }]
      && !contains(keys(jsondecode(output.api_body).paths["/api/users"].options), "security")
      && !contains(keys(jsondecode(output.api_body).paths["/health"].get), "security")
    && !contains(keys(jsondecode(output.api_body).paths["/sre/incidents"].get), "security"))
    error_message = "user_api_authorizer = AWS_IAM puts SigV4 on /api/ and /user operations only"
  }

  assert {
    condition     = jsondecode(output.api_body).securityDefinitions.sigv4["x-amazon-apigateway-authtype"] == "awsSigv4"
    error_message = "the IAM authorizer is API Gateway's awsSigv4 auth type"
  }

  assert {
    condition = (output.api_provisioned_concurrency_scaling.min == 0 && output.api_provisioned_concurrency_scaling.max == 40
    && output.api_provisioned_concurrency_scaling.target_value == 0.5)
    error_message = "the variables win over infra/capacity.json"
  }
}

run "provisioned_concurrency_above_the_reserved_concurrency_is_refused" {
  command = plan

  variables {
    api_reserved_concurrency        = 10
    api_provisioned_concurrency_max = 20
  }

  expect_failures = [output.api_provisioned_concurrency_scaling]
}

# Each escalation level is its own audience: a subscription filtered on the level attribute.
run "each_level_reaches_its_own_audience" {
  command = plan

  variables {
    user_api_authorizer = {
      type                   = "COGNITO_USER_POOLS"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Example"]
    }
    topic_subscribers = {
      pages = {
        "level-1" = [{ protocol = "email", endpoint = "oncall@example.com" }]
        "level-2" = [{ protocol = "email", endpoint = "senior@example.com" }, { protocol = "https", endpoint = "https://pager.example.com/hook" }]
      }
    }
  }

  # one subscription per subscriber
  assert {
    condition     = toset(keys(output.topic_subscriptions)) == toset(["pages/level-1/0", "pages/level-2/0", "pages/level-2/1"])
    error_message = "one subscription per subscriber of each audience"
  }

  # level 2 is filtered to level 2 only
  assert {
    condition     = jsondecode(output.topic_subscriptions["pages/level-2/0"].filter_policy) == { level = [2] } && jsondecode(output.topic_subscriptions["pages/level-1/0"].filter_policy) == { level = [1] }
    error_message = "each level's subscription carries its own filter policy"
  }

  assert {
    condition     = output.topic_subscriptions["pages/level-2/1"].protocol == "https" && output.topic_subscriptions["pages/level-2/1"].endpoint == "https://pager.example.com/hook"
    error_message = "the subscriber's protocol and endpoint are kept"
  }

  # (same plan, another variable) a Cognito authorizer names its user pools
  assert {
    condition = (jsondecode(output.api_body).paths["/api/users"].get.security == [{ cognito = [] }]
      && jsondecode(output.api_body).securityDefinitions.cognito["x-amazon-apigateway-authorizer"] == {
        type = "cognito_user_pools", providerARNs = ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Example"]
    } && !contains(keys(jsondecode(output.api_body).paths["/sre/incidents"].get), "security"))
    error_message = "user_api_authorizer = COGNITO_USER_POOLS puts the user pools' authorizer on the user API"
  }
}

# A subscriber of an audience infra/topics.json does not declare is refused at plan.
run "unknown_audience_is_refused" {
  command = plan

  variables {
    topic_subscribers = {
      pages = { "level-9" = [{ protocol = "email", endpoint = "nobody@example.com" }] }
    }
  }

  expect_failures = [aws_sns_topic_subscription.audiences]
}
