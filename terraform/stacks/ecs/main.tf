# The original deployment of the user service, kept as a variant: ALB ->
# ECS Fargate (autoscaled) -> encrypted Multi-AZ RDS PostgreSQL, in a VPC with
# private subnets. Shares labels, the KMS key, WAF, SNS and alarm modules
# with the serverless stack.

locals {
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

  name                   = local.prefix
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  client_security_groups = { tasks = module.service.security_group_id }
  kms_key_arn            = module.kms.arn
  engine_version         = var.db_engine_version
  instance_class         = var.db_instance_class
  deletion_protection    = var.deletion_protection
}

module "service" {
  source = "../../modules/ecs_service"

  name                  = local.prefix
  vpc_id                = module.network.vpc_id
  vpc_cidr              = module.network.cidr_block
  subnet_ids            = module.network.private_subnet_ids
  alb_security_group_id = module.alb.security_group_id
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

  environment = {
    DB_HOST = module.database.address
    DB_PORT = tostring(module.database.port)
    DB_NAME = module.database.database_name
    DB_USER = module.database.username
    DB_SSL  = "require"
  }
  # RDS keeps the master credentials as JSON; the agent injects the password.
  secrets     = { DB_PASSWORD = "${module.database.master_secret_arn}:password::" }
  secret_arns = [module.database.master_secret_arn]
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
