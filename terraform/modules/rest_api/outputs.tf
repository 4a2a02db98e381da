output "id" {
  description = "REST API id."
  value       = aws_api_gateway_rest_api.this.id
}

output "name" {
  description = "REST API name (the ApiName dimension of AWS/ApiGateway metrics)."
  value       = aws_api_gateway_rest_api.this.name
}

output "stage_name" {
  description = "Stage name."
  value       = aws_api_gateway_stage.this.stage_name
}

output "invoke_url" {
  description = "Base URL of the deployed API."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "body" {
  description = "The document imported into API Gateway (with gateway responses)."
  value       = local.body
}

output "gateway_response_types" {
  description = "Gateway response types managed here."
  value       = keys(aws_api_gateway_gateway_response.this)
}

output "gateway_responses" {
  description = "Managed gateway responses: status code, templates and headers by type."
  value = {
    for type, r in aws_api_gateway_gateway_response.this : type => {
      status_code         = r.status_code
      response_templates  = r.response_templates
      response_parameters = r.response_parameters
    }
  }
}

output "domain_target" {
  description = "Regional host name and zone id to point the custom domain's DNS alias at (null without a domain)."
  value = var.domain_name == null ? null : {
    domain_name = aws_api_gateway_domain_name.this[0].regional_domain_name
    zone_id     = aws_api_gateway_domain_name.this[0].regional_zone_id
  }
}

output "log_groups" {
  description = "Access and execution log groups: name, retention, key."
  value = {
    for k, g in { access = aws_cloudwatch_log_group.access, execution = aws_cloudwatch_log_group.execution } : k => {
      name               = g.name, retention_in_days = g.retention_in_days, kms_key_id = g.kms_key_id
    }
  }
}
