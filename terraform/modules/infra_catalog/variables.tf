variable "infra_dir" {
  description = "Directory holding tables.json, functions.json, topics.json, secrets.json and statemachines.json."
  type        = string
}
