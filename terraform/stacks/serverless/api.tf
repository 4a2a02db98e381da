# The REST API generated from the Chalice route table (scripts/package_chalice.py
# writes the Swagger document with a token where the Lambda integration goes).

module "web_acl" {
  source = "../../modules/web_acl"

  name               = local.prefix
  kms_key_arn        = module.kms.arn
  log_retention_days = var.log_retention_days
}

module "api" {
  source = "../../modules/rest_api"

  name                        = local.prefix
  openapi_body                = replace(file(local.api_definition), local.api_invoke_arn_token, module.api_function.alias_invoke_arn)
  stage_name                  = var.api_stage_name
  lambda_function_name        = module.api_function.name
  lambda_qualifier            = module.api_function.alias_name
  kms_key_arn                 = module.kms.arn
  log_retention_days          = var.log_retention_days
  throttling_rate_limit       = var.api_throttling_rate_limit
  throttling_burst_limit      = var.api_throttling_burst_limit
  manage_account_logging_role = var.manage_api_gateway_account
  web_acl_arn                 = module.web_acl.arn
  authorizer                  = var.user_api_authorizer
  authorized_path_prefixes    = ["/api/", "/user"]
  domain_name                 = var.api_domain_name
  certificate_arn             = var.api_certificate_arn
}
