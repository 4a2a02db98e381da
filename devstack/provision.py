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


def audience_queue_name(topic_arn: str, audience: str) -> str:
    return f"{topic_arn.rsplit(':', 1)[1]}-{audience}"


def provision_audience_inboxes(sns: Any, sqs: Any, topic_arns: dict[str, str]) -> dict[str, str]:
    """One SQS queue per audience of each topic, subscribed with the audience's filter policy
    (what Terraform's ``topic_subscribers`` does with real endpoints); returns
    ``"<topic key>/<audience>" -> queue URL``."""
    inboxes = {}
    for key, spec in definitions("topics").items():
        for audience, entry in spec.get("audiences", {}).items():
            url = sqs.create_queue(QueueName=audience_queue_name(topic_arns[key], audience))["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=topic_arns[key], Protocol="sqs", Endpoint=queue_arn, Attributes={
                "FilterPolicy": json.dumps(entry["filter_policy"]), "FilterPolicyScope": "MessageAttributes"})
            inboxes[f"{key}/{audience}"] = url
    return inboxes


# The operator-token secret holds named operators (chalicelib/auth.py); locally there is one.
LOCAL_OPERATOR = "local-operator"


def new_token() -> str:
    """A URL-safe token that does not start with '-', which every command line would take for an option
    (``--token -x...``)."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def provision_secrets(secretsmanager: Any) -> dict[str, str]:
    """Create each secret with a freshly generated token; returns logical name -> token."""
    values = {}
    for key, spec in definitions("secrets").items():
        value = new_token()
        stored = json.dumps({LOCAL_OPERATOR: value}) if key == "operator-token" else value
        secretsmanager.create_secret(Name=resource_name(spec), Description=spec.get("description", ""),
                                     SecretString=stored)
        values[key] = value
    return values
