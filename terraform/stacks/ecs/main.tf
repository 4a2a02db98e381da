# The original deployment of the user service, kept as a variant: ALB ->
# ECS Fargate (autoscaled) -> encrypted Multi-AZ RDS PostgreSQL, in a VPC with
# private subnets. Shares labels, the KMS key, WAF, SNS and alarm modules
# with the serverless stack.

locals {
  repo_root         = abspath("${path.module}/../../..")
  infra_dir         = coalesce(var.infra_dir, "${local.repo_root}/infra")
  statemachines_dir = coalesce(var.statemachines_dir, local.repo_root)
  lambda_package    = coalesce(var.lambda_package, "${local.repo_root}/build/lambda/deployment.zip")
  # Where people and the probe reach the API (the certificate's name; default the ALB's).
  public_url = coalesce(var.public_url, "https://${module.alb.dns_name}")

  prefix = module.labels.prefix
  # ALB and target group names are capped at 32 characters.
  short_prefix = substr(local.prefix, 0, 28)
  # Scaling targets, shared with the serverless stack and capacity planning.
  capacity_plan = jsondecode(file(coalesce(var.capacity_plan_file, "${path.module}/../../../infra/capacity.json")))
}

module "labels" {
  source     = "../../modules/labels"
  app_name   = var.app_name
  stage      = var.stage
  variant    = "ecs"
  extra_tags = var.tags
}

module "kms" {
  source      = "../../modules/kms_key"
  alias       = "${local.prefix}-ecs"
  description = "${local.prefix} ECS variant: database, its secret, logs, alarms"
}

module "network" {
  source = "../../modules/network"

  name               = local.prefix
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  kms_key_arn        = module.kms.arn
  log_retention_days = var.log_retention_days
}

module "web_acl" {
  source = "../../modules/web_acl"

  name               = "${local.prefix}-alb"
  kms_key_arn        = module.kms.arn
  log_retention_days = var.log_retention_days
}

module "alb" {
  source = "../../modules/alb"

  name                = local.short_prefix
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.public_subnet_ids
  certificate_arn     = var.certificate_arn
  target_port         = var.container_port
  web_acl_arn         = module.web_acl.arn
  log_retention_days  = var.log_retention_days
  deletion_protection = var.deletion_protection
}

module "database" {
  source = "../../modules/rds_postgres"

  name                = local.prefix
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.private_subnet_ids
  log_retention_days  = var.log_retention_days
  kms_key_arn         = module.kms.arn
  engine_version      = var.db_engine_version
  instance_class      = var.db_instance_class
  deletion_protection = var.deletion_protection
}

# The SRE plane stays serverless here too: tables, topics, secrets, state machines and the
# scheduled functions (SLO evaluator, probe, outbox drainer, escalation steps) as Lambdas
# from the same package (make package). The probe calls the load balancer as clients do;
# without API Gateway the success SLO counts the app's own EMF counters.
module "sre_plane" {
  source = "../../modules/sre_plane"

  secret_token_versions = var.secret_token_versions

  prefix             = "${local.prefix}-ecs"
  app_name           = var.app_name
  stage              = "${var.stage}-ecs"
  infra_dir          = local.infra_dir
  statemachines_dir  = local.statemachines_dir
  lambda_package     = local.lambda_package
  runtime            = var.runtime
  service_name       = "user-api"
  metrics_namespace  = "ServerlessSRE"
  powertools_tracing = false
  # Capacity planning reads the service's AWS/ECS and load balancer figures and its scaling bounds.
  environment = merge({
    ECS_CLUSTER_NAME  = local.prefix
    ECS_SERVICE_NAME  = local.prefix
    ALB_TARGET_GROUP  = module.alb.target_group_arn_suffix
    ALB_LOAD_BALANCER = module.alb.arn_suffix
  }, var.environment)
  default_function_reserved_concurrency = var.default_function_reserved_concurrency
  kms_key_arn                           = module.kms.arn
  log_retention_days                    = var.log_retention_days
  table_deletion_protection             = var.deletion_protection
  api_client_environment                = { PROBE_URL = "${local.public_url}/health" }
  # experiments/ecs-task-termination.json: the service below (cluster and service are both named local.prefix).
  chaos_ecs_services = [{ cluster = local.prefix, service = local.prefix }]
}

module "service" {
  source = "../../modules/ecs_service"

  name                  = local.prefix
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.private_subnet_ids
  target_group_arn      = module.alb.target_group_arn
  alb_resource_label    = "${module.alb.arn_suffix}/${module.alb.target_group_arn_suffix}"
  container_image       = var.container_image
  image_repository_arn  = var.image_repository_arn
  container_port        = var.container_port
  cpu                   = var.task_cpu
  memory                = var.task_memory
  min_count             = var.min_tasks
  max_count             = var.max_tasks
  cpu_target_percent    = coalesce(var.cpu_target_percent, local.capacity_plan.ecs.cpu_target_percent)
  memory_target_percent = coalesce(var.memory_target_percent, local.capacity_plan.ecs.memory_target_percent)
  requests_per_target   = coalesce(var.requests_per_task_per_minute, local.capacity_plan.ecs.requests_per_task_per_minute)
  desired_count         = var.min_tasks
  kms_key_arn           = module.kms.arn
  log_retention_days    = var.log_retention_days

  # The image built from the repository's Dockerfile: the Chalice app behind gunicorn, users in
  # PostgreSQL. The app reads the RDS-managed secret ({"username", "password"}) itself and
  # re-reads it after a rotation, so no password is injected into the environment.
  environment = merge(module.sre_plane.function_environment, {
    USERS_STORE                  = "postgres"
    DB_HOST                      = module.database.address
    DB_PORT                      = tostring(module.database.port)
    DB_NAME                      = module.database.database_name
    DB_SECRET_ID                 = module.database.master_secret_arn
    DB_SSLMODE                   = "require"
    PORT                         = tostring(var.container_port)
    WEB_CONCURRENCY              = tostring(var.web_concurrency)
    WEB_WORKER_TMP_DIR           = "/tmp"
    AWS_REGION                   = var.region
    POWERTOOLS_SERVICE_NAME      = "user-api"
    POWERTOOLS_METRICS_NAMESPACE = "ServerlessSRE"
    PUBLIC_BASE_URL              = local.public_url
  }, var.environment)
  task_secret_arns       = [module.database.master_secret_arn]
  task_policy_statements = module.sre_plane.function_statements["api"]
  # container.MIGRATE_COMMAND and the image's HEALTHCHECK (tests/unit/terraform keeps them equal).
  migrate_command      = ["python", "-m", "chalicelib.users.migrate"]
  health_check_command = ["CMD", "python", "-m", "container.healthcheck"]
}

module "alarm_topic" {
  source = "../../modules/alert_topic"

  name               = "${local.prefix}-ecs-alarms"
  kms_key_arn        = module.kms.arn
  email_subscribers  = var.alarm_emails
  publisher_services = ["cloudwatch.amazonaws.com"]
}

module "alarms" {
  source = "../../modules/metric_alarms"

  name_prefix = "${local.prefix}-ecs"
  topic_arn   = module.alarm_topic.arn
  alarms = {
    alb-5xx = {
      description = "Targets answered 5xx"
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = module.alb.arn_suffix }
      threshold   = 5
    }
    unhealthy-targets = {
      description = "Tasks fail the load balancer health check"
      namespace   = "AWS/ApplicationELB"
      metric_name = "UnHealthyHostCount"
      dimensions  = { LoadBalancer = module.alb.arn_suffix, TargetGroup = module.alb.target_group_arn_suffix }
      statistic   = "Maximum"
      threshold   = 1
    }
    db-cpu = {
      description = "Database CPU above 80%"
      namespace   = "AWS/RDS"
      metric_name = "CPUUtilization"
      dimensions  = { DBInstanceIdentifier = module.database.identifier }
      statistic   = "Average"
      period      = 300
      threshold   = 80
    }
    db-free-storage = {
      description         = "Database free storage below 2 GiB"
      namespace           = "AWS/RDS"
      metric_name         = "FreeStorageSpace"
      dimensions          = { DBInstanceIdentifier = module.database.identifier }
      statistic           = "Minimum"
      period              = 300
      threshold           = 2147483648
      comparison_operator = "LessThanThreshold"
    }
  }
}

# SLO page alarms go to their own topic (the on-call), apart from the platform alarms above.
module "pages_topic" {
  source = "../../modules/alert_topic"

  name               = "${local.prefix}-ecs-pages"
  kms_key_arn        = module.kms.arn
  email_subscribers  = var.page_emails
  publisher_services = ["cloudwatch.amazonaws.com"]
}

# The SLOs watched by CloudWatch, from the same slos/*.yaml: the containers emit the same EMF
# metrics (awslogs driver), and without API Gateway the success SLO uses its fallback (app) SLI.
module "slo_alarms" {
  source = "../../modules/slo_alarms"

  slo_dir                      = coalesce(var.slo_dir, "${path.module}/../../../slos")
  name_prefix                  = "${local.prefix}-ecs"
  region                       = var.region
  metrics_namespace            = "ServerlessSRE"
  service_name                 = "user-api"
  page_topic_arn               = module.pages_topic.arn
  ticket_topic_arn             = module.alarm_topic.arn
  lambda_function_names        = { for k, f in module.sre_plane.functions : k => f.name }
  escalation_state_machine_arn = try(module.sre_plane.statemachines["escalation"].arn, null)
  throttle_metrics = [["AWS/WAFV2", "BlockedRequests", "WebACL", "${local.prefix}-alb", "Region", var.region,
  "Rule", "${local.prefix}-alb-rate-limit", { label = "WAF rate limit (per IP)" }]]
}
