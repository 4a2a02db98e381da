# Mock data shared by both stacks' terraform tests: the provider validates ARNs and policy
# JSON, so computed attributes get well-formed stand-ins instead of random text.

mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\": \"2012-10-17\", \"Statement\": []}" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_region" {
  defaults = { name = "us-east-1" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}

mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mock" }
}
mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:us-east-1:123456789012:mock" }
}
mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/mock" }
}
mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mock-AbCdEf" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock" }
}
mock_resource "aws_cloudwatch_event_rule" {
  defaults = { arn = "arn:aws:events:us-east-1:123456789012:rule/mock" }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:mock"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:mock/invocations"
  }
}
mock_resource "aws_api_gateway_rest_api" {
  defaults = { execution_arn = "arn:aws:execute-api:us-east-1:123456789012:mockapi" }
}
mock_resource "aws_api_gateway_stage" {
  defaults = { arn = "arn:aws:apigateway:us-east-1::/restapis/mockapi/stages/api" }
}
mock_resource "aws_wafv2_web_acl" {
  defaults = { arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/mock/00000000" }
}
mock_resource "aws_sfn_state_machine" {
  defaults = { arn = "arn:aws:states:us-east-1:123456789012:stateMachine:mock" }
}

mock_data "aws_elb_service_account" {
  defaults = { arn = "arn:aws:iam::127311923021:root" }
}
mock_resource "aws_db_instance" {
  defaults = {
    arn                = "arn:aws:rds:us-east-1:123456789012:db:mock"
    master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-mock-AbCdEf", kms_key_id = "mock", secret_status = "active" }]
  }
}
mock_resource "aws_lb" {
  defaults = { arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/mock/0123456789abcdef", arn_suffix = "app/mock/0123456789abcdef" }
}
mock_resource "aws_lb_target_group" {
  defaults = { arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mock/0123456789abcdef", arn_suffix = "targetgroup/mock/0123456789abcdef" }
}
mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::mock-alb-logs", id = "mock-alb-logs" }
}
mock_resource "aws_ecs_task_definition" {
  defaults = { arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/mock:1" }
}
mock_resource "aws_ecs_cluster" {
  defaults = { arn = "arn:aws:ecs:us-east-1:123456789012:cluster/mock" }
}
mock_resource "aws_lambda_alias" {
  defaults = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:mock:live"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:mock:live/invocations"
  }
}
