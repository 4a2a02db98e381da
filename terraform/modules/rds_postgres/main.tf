# Encrypted Multi-AZ PostgreSQL in private subnets. RDS keeps the master
# password in Secrets Manager (manage_master_user_password) and rotates it;
# it never appears in Terraform.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "name" {
  description = "Instance identifier."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two AZs or more)."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Days the exported PostgreSQL and upgrade logs are kept."
  type        = number
}

variable "kms_key_arn" {
  description = "Key for storage, Performance Insights and the master secret."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "15"
}

variable "instance_class" {
  description = "Instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  description = "Initial storage."
  type        = number
  default     = 20
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling."
  type        = number
  default     = 100
}

variable "database_name" {
  description = "Database created at launch."
  type        = string
  default     = "users"
}

variable "master_username" {
  description = "Master user name."
  type        = string
  default     = "app"
}

variable "backup_retention_days" {
  description = "Automated backup retention."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Refuse deletion while true."
  type        = bool
  default     = true
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

# No rules here: the stack that places the clients says who may connect (stacks/ecs/network_flows.tf).
resource "aws_security_group" "this" {
  name        = "${var.name}-db"
  description = "PostgreSQL from the application tasks only"
  vpc_id      = var.vpc_id
}

locals {
  exported_logs = ["postgresql", "upgrade"]
}

# The groups RDS exports into, made here first with retention and the stack key: RDS would
# otherwise create them unencrypted and keep the logs forever.
resource "aws_cloudwatch_log_group" "exports" {
  for_each          = toset(local.exported_logs)
  name              = "/aws/rds/instance/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.name}-pg${var.engine_version}"
  family = "postgres${var.engine_version}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }
  parameter {
    name  = "log_connections"
    value = "1"
  }
  parameter {
    # DDL and writes only: statement logs would otherwise carry e-mail addresses.
    name  = "log_statement"
    value = "ddl"
  }
  parameter {
    # No DETAIL lines: a unique violation's repeats the key, an e-mail address, in the exported log.
    name  = "log_error_verbosity"
    value = "terse"
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

data "aws_partition" "current" {}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier                          = var.name
  engine                              = "postgres"
  engine_version                      = var.engine_version
  instance_class                      = var.instance_class
  allocated_storage                   = var.allocated_storage_gb
  max_allocated_storage               = var.max_allocated_storage_gb
  storage_type                        = "gp3"
  storage_encrypted                   = true
  kms_key_id                          = var.kms_key_arn
  db_name                             = var.database_name
  username                            = var.master_username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = var.kms_key_arn
  multi_az                            = true
  db_subnet_group_name                = aws_db_subnet_group.this.name
  vpc_security_group_ids              = [aws_security_group.this.id]
  publicly_accessible                 = false
  parameter_group_name                = aws_db_parameter_group.this.name
  iam_database_authentication_enabled = true
  backup_retention_period             = var.backup_retention_days
  copy_tags_to_snapshot               = true
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name}-final"
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = local.exported_logs
  monitoring_interval                 = 60
  monitoring_role_arn                 = aws_iam_role.monitoring.arn
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = var.kms_key_arn

  depends_on = [aws_cloudwatch_log_group.exports]
}

output "address" {
  description = "Endpoint host name."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Endpoint port."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Database name."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "master_secret_arn" {
  description = "Secrets Manager secret RDS keeps the master credentials in (JSON: username, password)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "identifier" {
  description = "Instance identifier (the DBInstanceIdentifier alarm dimension)."
  value       = aws_db_instance.this.identifier
}

output "settings" {
  description = "Durability and exposure settings, for tests and reviews."
  value = {
    multi_az                    = aws_db_instance.this.multi_az
    storage_encrypted           = aws_db_instance.this.storage_encrypted
    publicly_accessible         = aws_db_instance.this.publicly_accessible
    manage_master_user_password = aws_db_instance.this.manage_master_user_password
    engine                      = aws_db_instance.this.engine
  }
}

output "security_group_id" {
  description = "Security group of the database (no rules of its own)."
  value       = aws_security_group.this.id
}

output "log_groups" {
  description = "Exported log groups: name, retention, key."
  value = {
    for k, g in aws_cloudwatch_log_group.exports : k => {
      name = g.name, retention_in_days = g.retention_in_days, kms_key_id = g.kms_key_id
    }
  }
}
