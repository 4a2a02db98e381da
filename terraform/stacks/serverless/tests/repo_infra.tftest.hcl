# The stack against the repository's own infra/ and the API document built
# from app.py (the pytest harness writes build/lambda/ in its copy of the repo).

mock_provider "aws" {
  source          = "../../tests/mocks"
  override_during = plan
}

# One resource per infra/*.json entry, every setting wired, the routes of app.py imported.
run "repository_entries_and_app_routes" {
  command = plan

  # one table per infra entry
  assert {
    condition     = toset(keys(output.table_names)) == toset(keys(jsondecode(file("../../../infra/tables.json"))))
    error_message = "one DynamoDB table per infra/tables.json entry"
  }

  # one function and schedule per infra entry
  assert {
    condition     = toset(keys(output.function_names)) == toset(keys(jsondecode(file("../../../infra/functions.json"))))
    error_message = "one Lambda per infra/functions.json entry"
  }

  assert {
    condition = output.schedules == {
      for k, f in jsondecode(file("../../../infra/functions.json")) : k => f.schedule if try(f.schedule, null) != null
    }
    error_message = "one EventBridge schedule per scheduled function, with its expression"
  }

  # IAM refuses a role's inline policies past 10,240 characters (whitespace aside). The mocks name
  # every resource "mock": counted with 40-character names instead, as deployed names may be.
  assert {
    condition = alltrue([
      for policy in values(output.function_policies) :
      length(replace(policy, "mock", "serverless-sre-production-a-long-name-40")) <= 10240
    ])
    error_message = "a function's role policy is over IAM's 10,240-character inline limit: ${jsonencode({ for key, policy in output.function_policies : key => length(replace(policy, "mock", "serverless-sre-production-a-long-name-40")) })}"
  }

  # topics secrets and statemachines per infra entry
  assert {
    condition     = toset(keys(output.topic_arns)) == toset(keys(jsondecode(file("../../../infra/topics.json"))))
    error_message = "one SNS topic per infra/topics.json entry"
  }

  assert {
    condition     = toset(keys(output.secret_names)) == toset(keys(jsondecode(file("../../../infra/secrets.json"))))
    error_message = "one secret per infra/secrets.json entry"
  }

  assert {
    condition     = toset(keys(output.statemachine_arns)) == toset(keys(jsondecode(file("../../../infra/statemachines.json"))))
    error_message = "one state machine per infra/statemachines.json entry"
  }

  # one queue per infra entry, each delivered to its consumer
  assert {
    condition     = toset(keys(output.queue_urls)) == toset(keys(jsondecode(file("../../../infra/queues.json"))))
    error_message = "one SQS queue per infra/queues.json entry"
  }

  # every name setting reaches the functions
  assert {
    condition = alltrue(flatten([
      for f in ["tables", "topics", "secrets", "statemachines", "queues"] : [
        for entry in values(jsondecode(file("../../../infra/${f}.json"))) :
        [for setting in ["name_setting", "arn_setting", "url_setting"] : contains(keys(output.function_environment), entry[setting]) if try(entry[setting], null) != null]
      ]
    ]))
    error_message = "every name_setting and arn_setting of infra/*.json must be set on the functions"
  }

  # the probe calls the deployed /health and the evaluator reads the gateway's metrics
  assert {
    condition     = endswith(output.api_client_environment.PROBE_URL, "/health") && output.api_client_environment.API_GATEWAY_STAGE == "api"
    error_message = "scheduled functions must get PROBE_URL, API_GATEWAY_NAME and API_GATEWAY_STAGE"
  }

  # api routes come from the chalice app
  assert {
    condition     = contains(keys(jsondecode(output.api_body).paths), "/health")
    error_message = "the REST API must carry the app's routes"
  }

  assert {
    condition     = output.api_gateway_responses["MISSING_AUTHENTICATION_TOKEN"].status_code == "404"
    error_message = "unknown paths answer 404"
  }
}

# The repository's capacity plan sets the API alias's provisioned concurrency scaling.
run "repository_capacity_plan" {
  command = plan

  assert {
    condition = output.api_provisioned_concurrency_scaling == {
      resource_id  = "function:serverless-sre-prod:live"
      dimension    = "lambda:function:ProvisionedConcurrency"
      min          = jsondecode(file("../../../infra/capacity.json")).api_provisioned_concurrency.min
      max          = jsondecode(file("../../../infra/capacity.json")).api_provisioned_concurrency.max
      metric       = "LambdaProvisionedConcurrencyUtilization"
      target_value = jsondecode(file("../../../infra/capacity.json")).target_utilization
    }
    error_message = "provisioned concurrency target tracking follows infra/capacity.json"
  }
}
