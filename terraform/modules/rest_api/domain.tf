# Optional custom domain: the app's absolute links (/user, /api/users) then
# work as they do locally, without the /<stage> prefix of the execute-api URL.

resource "aws_api_gateway_domain_name" "this" {
  count                    = var.domain_name == null ? 0 : 1
  domain_name              = var.domain_name
  regional_certificate_arn = var.certificate_arn
  security_policy          = "TLS_1_2"

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_base_path_mapping" "this" {
  count       = var.domain_name == null ? 0 : 1
  api_id      = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  domain_name = aws_api_gateway_domain_name.this[0].domain_name
}
