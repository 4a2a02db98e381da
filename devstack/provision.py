"""Creating the resources of infra/*.json on an AWS endpoint (the embedded moto server, or mock_aws)."""
from __future__ import annotations

import json
import secrets
from typing import Any

from devstack.resources import create_table_request, definitions, resource_name


def provision_tables(dynamodb: Any) -> dict[str, str]:
    names = {}
    for key, spec in definitions("tables").items():
        request = create_table_request(spec)
        dynamodb.create_table(**request)
        if spec.get("ttl_attribute"):
            dynamodb.update_time_to_live(TableName=request["TableName"], TimeToLiveSpecification={
                "Enabled": True, "AttributeName": spec["ttl_attribute"]})
        names[key] = request["TableName"]
    return names


def provision_topics(sns: Any) -> dict[str, str]:
    return {key: sns.create_topic(Name=resource_name(spec))["TopicArn"]
            for key, spec in definitions("topics").items()}


def provision_queues(sqs: Any) -> dict[str, str]:
    """Create each queue of infra/queues.json; returns logical name -> queue URL."""
    urls = {}
    for key, spec in definitions("queues").items():
        attributes = {"VisibilityTimeout": str(spec.get("visibility_timeout_seconds", 30)),
                      "MessageRetentionPeriod": str(spec.get("retention_seconds", 345600))}
        if spec.get("fifo"):
            attributes["FifoQueue"] = "true"
        urls[key] = sqs.create_queue(QueueName=resource_name(spec), Attributes=attributes)["QueueUrl"]
    return urls


# The operator-token secret holds named operators (chalicelib/auth.py); locally there is one.
LOCAL_OPERATOR = "local-operator"


def provision_secrets(secretsmanager: Any) -> dict[str, str]:
    """Create each secret with a freshly generated token; returns logical name -> token."""
    values = {}
    for key, spec in definitions("secrets").items():
        value = secrets.token_urlsafe(32)
        stored = json.dumps({LOCAL_OPERATOR: value}) if key == "operator-token" else value
        secretsmanager.create_secret(Name=resource_name(spec), Description=spec.get("description", ""),
                                     SecretString=stored)
        values[key] = value
    return values
