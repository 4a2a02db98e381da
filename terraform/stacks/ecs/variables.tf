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
  description = "Image of the original Flask user service."
  type        = string
}

variable "image_repository_arn" {
  description = "ECR repository of container_image, which the tasks may pull from (null for a public registry)."
  type        = string
  default     = null
}

variable "container_port" {
  description = "Port the container listens on."
  type        = number
  default     = 5000
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
