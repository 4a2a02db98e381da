# Internet-facing ALB: HTTPS only (HTTP redirects), TLS 1.2+, invalid headers
# dropped, access logs to a private bucket, WAF in front.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100, < 6" }
  }
}

variable "name" {
  description = "Load balancer name (32 characters at most)."
  type        = string
}

variable "vpc_id" {
  description = "VPC id."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "target_port" {
  description = "Port the tasks listen on."
  type        = number
}

# Liveness, not readiness: ECS stops a task its target group finds unhealthy, so a check that asks
# the database (/health/ready) would have a database outage stop every task, and with them the
# stale reads the app serves meanwhile; the replacements' migration cannot run without the database.
variable "health_check_path" {
  description = "Target health check path."
  type        = string
  default     = "/health/live"
}

variable "web_acl_arn" {
  description = "WAF web ACL in front of the load balancer."
  type        = string
}

variable "log_retention_days" {
  description = "Days access logs are kept."
  type        = number
}

variable "deletion_protection" {
  description = "Refuse deletion while true."
  type        = bool
  default     = true
}

data "aws_elb_service_account" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_s3_bucket" "logs" {
  # checkov:skip=CKV_AWS_145:ALB access logs can only be written to SSE-S3 buckets, not SSE-KMS.
  # checkov:skip=CKV_AWS_144:Access logs are operational data kept for log_retention_days; cross-region replication is not worth it.
  # checkov:skip=CKV_AWS_18:This bucket holds access logs itself; logging it would need yet another bucket.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of the log bucket.
  bucket_prefix = "${var.name}-alb-logs-"
  force_destroy = false
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "ElbWritesAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "HTTPS from the internet to the load balancer"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from anywhere"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  # checkov:skip=CKV_AWS_260:Port 80 only answers a 301 redirect to HTTPS (aws_lb_listener.http).
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from anywhere, only to redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_lb" "this" {
  # checkov:skip=CKV2_AWS_20:The HTTP listener exists only to redirect to HTTPS (aws_lb_listener.http).
  # checkov:skip=CKV2_AWS_76:The associated ACL (modules/web_acl) has AWSManagedRulesKnownBadInputsRuleSet and AWSManagedRulesAnonymousIpList; checkov cannot follow the association across modules.
  name                       = var.name
  internal                   = false
  load_balancer_type         = "application"
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  access_logs {
    bucket  = aws_s3_bucket.logs.id
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_lb_target_group" "app" {
  name        = "${var.name}-app"
  port        = var.target_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2:This listener only answers 301 to HTTPS.
  # checkov:skip=CKV_AWS_103:No TLS on a redirect-only listener.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = var.web_acl_arn
}

output "security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.alb.id
}

output "target_group_arn" {
  description = "Target group of the application tasks."
  value       = aws_lb_target_group.app.arn
}

output "dns_name" {
  description = "Load balancer DNS name."
  value       = aws_lb.this.dns_name
}

output "arn_suffix" {
  description = "LoadBalancer alarm dimension."
  value       = aws_lb.this.arn_suffix
}

output "health_check_path" {
  description = "Path the target group's health check asks."
  value       = aws_lb_target_group.app.health_check[0].path
}

output "target_group_arn_suffix" {
  description = "TargetGroup alarm dimension."
  value       = aws_lb_target_group.app.arn_suffix
}

output "https_listener_arn" {
  description = "HTTPS listener (the service waits for it)."
  value       = aws_lb_listener.https.arn
}
