terraform {
  # Write-only secret arguments and ephemeral resources need 1.11.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = module.labels.tags
  }
}
