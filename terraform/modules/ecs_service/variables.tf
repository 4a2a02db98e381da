variable "name" {
  description = "Cluster, service and task family name."
  type        = string
}

variable "vpc_id" {
  description = "VPC id."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the tasks run in."
  type        = list(string)
}

variable "target_group_arn" {
  description = "Target group the service registers its tasks in."
  type        = string
}

variable "container_image" {
  description = "Image of the original user service (Flask/gunicorn)."
  type        = string
}

variable "image_repository_arn" {
  description = "ECR repository of container_image (null for a public registry)."
  type        = string
  default     = null
}

variable "container_port" {
  description = "Port the container listens on."
  type        = number
  default     = 5000
}

variable "cpu" {
  description = "Task CPU units."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Task memory (MiB)."
  type        = number
  default     = 1024
}

variable "desired_count" {
  description = "Tasks at launch."
  type        = number
  default     = 2
}

variable "min_count" {
  description = "Autoscaling floor."
  type        = number
  default     = 2
}

variable "max_count" {
  description = "Autoscaling ceiling."
  type        = number
  default     = 10
}

variable "cpu_target_percent" {
  description = "Average CPU the service scales to hold."
  type        = number
  default     = 60
}

variable "memory_target_percent" {
  description = "Average memory the service scales to hold."
  type        = number
  default     = 70
}

variable "requests_per_target" {
  description = "ALB requests per task per minute the service scales to hold."
  type        = number
  default     = 1000
}

variable "alb_resource_label" {
  description = "app/<lb>/<id>/targetgroup/<tg>/<id>, for request-count scaling."
  type        = string
}

variable "environment" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variables read from Secrets Manager: name -> valueFrom (ARN, optionally :json-key::)."
  type        = map(string)
  default     = {}
}

variable "secret_arns" {
  description = "Secrets the execution role may read (to inject var.secrets)."
  type        = list(string)
  default     = []
}

variable "task_secret_arns" {
  description = "Secrets the application reads itself at run time (the RDS-managed database secret, which rotates)."
  type        = list(string)
  default     = []
}

variable "task_policy_statements" {
  description = "More permissions of the application (the SRE plane's tables, topics, secrets, workflows)."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

variable "migrate_command" {
  description = "Command of an init container run to completion before the app starts (schema migrations); null for none."
  type        = list(string)
  default     = null
}

variable "health_check_command" {
  description = "Container health check command (ECS ignores the image's HEALTHCHECK); null for none."
  type        = list(string)
  default     = null
}

variable "kms_key_arn" {
  description = "Key of the log group and the injected secrets."
  type        = string
}

variable "log_retention_days" {
  description = "Days container logs are kept."
  type        = number
}
