"""Lambda functions in moto (mock_aws), created as the local stack creates its own."""
from __future__ import annotations

import json
from typing import Optional

import boto3


def create_function(name: str, *, timeout_seconds: int = 30, memory_mb: int = 256,
                    reserved_concurrency: Optional[int] = None) -> str:
    """A function called ``name``; returns its ARN."""
    from devstack.statemachines import create_functions

    iam = boto3.client("iam", region_name="us-east-1")
    try:
        role = iam.get_role(RoleName="lambda-tests")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="lambda-tests", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    arn = create_functions(lambda_client, role, {name: {"handler": "app.app", "timeout_seconds": timeout_seconds,
                                                        "memory_mb": memory_mb}}, prefix="")[name]
    if reserved_concurrency is not None:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved_concurrency)
    return arn


def reserved_concurrency(name: str) -> Optional[int]:
    return boto3.client("lambda", region_name="us-east-1").get_function_concurrency(
        FunctionName=name).get("ReservedConcurrentExecutions")
