variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "app_name" {
  description = "Application name, first part of every resource name."
  type        = string
  default     = "serverless-sre"
}

variable "stage" {
  description = "Deployment stage."
  type        = string
  default     = "prod"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "availability_zones" {
  description = "AZs of the subnets (two or more)."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}

variable "vpc_cidr" {
  description = "VPC CIDR."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per AZ."
  type        = bool
  default     = false
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "container_image" {
  description = "Image built from the repository's Dockerfile (the app behind gunicorn)."
  type        = string
}

variable "image_repository_arn" {
  description = "ECR repository of container_image, which the tasks may pull from (null for a public registry)."
  type        = string
  default     = null
}

variable "container_port" {
  description = "Port the container listens on (PORT; the image's default is 8080)."
  type        = number
  default     = 8080
}

variable "web_concurrency" {
  description = "gunicorn worker processes per task (WEB_CONCURRENCY); each serves WEB_THREADS requests at once."
  type        = number
  default     = 2
}

variable "environment" {
  description = "Extra environment variables of the app and migration containers (e.g. WEB_THREADS, LATENCY_THRESHOLDS_MS)."
  type        = map(string)
  default     = {}
}

variable "task_cpu" {
  description = "Task CPU units."
  type        = number
  default     = 512
}

variable "task_memory" {
  description = "Task memory (MiB)."
  type        = number
  default     = 1024
}

variable "min_tasks" {
  description = "Autoscaling floor."
  type        = number
  default     = 2
}

variable "max_tasks" {
  description = "Autoscaling ceiling."
  type        = number
  default     = 10
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "15"
}

variable "log_retention_days" {
  description = "Days every log group keeps its logs."
  type        = number
  default     = 365
}

variable "deletion_protection" {
  description = "Protect the load balancer and database from deletion."
  type        = bool
  default     = true
}

variable "alarm_emails" {
  description = "E-mail addresses notified by the alarms."
  type        = list(string)
  default     = []
}

variable "capacity_plan_file" {
  description = "The capacity plan (scaling targets) JSON; null: the repository's infra/capacity.json."
  type        = string
  default     = null
}

variable "page_emails" {
  description = "E-mail addresses paged by the SLO page alarms."
  type        = list(string)
  default     = []
}

variable "slo_dir" {
  description = "Folder of the OpenSLO files the alarms and dashboard are compiled from (default: the repository's slos/)."
  type        = string
  default     = null
}

variable "cpu_target_percent" {
  description = "Average CPU target tracking holds; null: infra/capacity.json."
  type        = number
  default     = null
}

variable "memory_target_percent" {
  description = "Average memory target tracking holds; null: infra/capacity.json."
  type        = number
  default     = null
}

variable "requests_per_task_per_minute" {
  description = "Load balancer requests per task per minute target tracking holds; null: infra/capacity.json."
  type        = number
  default     = null
}

variable "public_url" {
  description = "Base URL clients use (matching certificate_arn); default https://<ALB DNS name>."
  type        = string
  default     = null
}

variable "infra_dir" {
  description = "Folder of infra/*.json (default: the repository's)."
  type        = string
  default     = null
}

variable "statemachines_dir" {
  description = "Folder the state machine definition paths are relative to (default: the repository root)."
  type        = string
  default     = null
}

variable "lambda_package" {
  description = "The SRE plane's Lambda package (default: build/lambda/deployment.zip from make package)."
  type        = string
  default     = null
}

variable "runtime" {
  description = "Lambda runtime of the SRE plane."
  type        = string
  default     = "python3.11"
}

variable "default_function_reserved_concurrency" {
  description = "Reserved concurrency of each SRE plane function."
  type        = number
  default     = 5
}

variable "secret_token_versions" {
  description = "Rotates a generated token (operator-token, viewer-token, ...): raise its version here and apply; readers pick the new value up within SECRET_CACHE_SECONDS."
  type        = map(number)
  default     = {}
}
